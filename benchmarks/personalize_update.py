"""Retraining in cycles on MovieLens-latest-small: `training_mode="UPDATE"` against a FULL retrain, in time and in
quality on the events that came after both.

    .venv/bin/python benchmarks/personalize_update.py [--data PATH] [--recipes two-tower gru4rec] [--seed 0]

Protocol: the ratings cut by time at their 80th and 90th percentiles. A FULL version is trained on the
events before the first cut (the previous cycle); then, on the events before the second cut, an UPDATE of
it and a FULL version from scratch. Both are scored on what came after the second cut: each user with
events on both sides is a test user, their events before the cut the input and their later items the truth
(the whole catalog ranked, the input excluded). "version s" is the time of `create_version` (a FULL one
trains twice: the split it is scored on and every event; an UPDATE once, a quarter of the epochs, not
re-scored).
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import movielens  # noqa: E402

import kerasts  # noqa: E402, F401 - first, to silence TensorFlow's start-up logging
from kerasts.data import load_movielens  # noqa: E402
from kerasts.evaluation import evaluate_recommender  # noqa: E402
from kerasts.personalize import DatasetGroup, create_solution  # noqa: E402

SETTINGS = {"two-tower": {"embedding_dim": 64, "history_length": 50, "temperature": 0.05, "epochs": 5,
                          "batch_size": 1024, "learning_rate": 3e-3},
            "gru4rec": {"session_gap_seconds": 86400}, "hrnn": {"session_gap_seconds": 86400}}
SHOWN = ("recall_at_10", "recall_at_25", "normalized_discounted_cumulative_gain_at_25", "mean_reciprocal_rank_at_25")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=movielens.DEFAULT_DATA)
    parser.add_argument("--recipes", nargs="+", default=["two-tower"], choices=list(SETTINGS))
    parser.add_argument("--seed", type=int, default=0)
    arguments = parser.parse_args()
    interactions, items = load_movielens(arguments.data)
    previous_cut, cut = interactions["TIMESTAMP"].quantile([0.8, 0.9])
    before = interactions[interactions["TIMESTAMP"] < cut]
    after = interactions[interactions["TIMESTAMP"] >= cut]
    users = sorted(set(before["USER_ID"]) & set(after["USER_ID"]))
    split = (before, before[before["USER_ID"].isin(users)], after[after["USER_ID"].isin(users)])
    print(f"{len(interactions[interactions['TIMESTAMP'] < previous_cut]):,} events in the previous cycle, "
          f"{len(before):,} now, {len(users)} test users with {len(split[2]):,} later events\n", flush=True)
    print("| recipe | version | version s | " + " | ".join(SHOWN) + " |")
    print("|---" * (len(SHOWN) + 3) + "|")
    for name in arguments.recipes:
        recipe = {"name": name, "config": {**SETTINGS[name], "seed": arguments.seed}}
        solution = create_solution(DatasetGroup(interactions[interactions["TIMESTAMP"] < previous_cut], items=items),
                                   recipe=recipe)
        solution.create_version(seed=arguments.seed, verbose=0)
        rows = {}
        started = time.perf_counter()
        rows["UPDATE"] = solution.create_version(training_mode="UPDATE", group=DatasetGroup(before, items=items),
                                                 verbose=0), time.perf_counter() - started
        started = time.perf_counter()
        rows["FULL"] = create_solution(DatasetGroup(before, items=items), recipe=recipe).create_version(
            seed=arguments.seed, verbose=0), time.perf_counter() - started
        for mode, (version, seconds) in rows.items():
            scores = evaluate_recommender(version.recommender, split, ks=(10, 25), catalog_size=len(items))
            print(f"| {name} | {mode} | {seconds:.0f} | " + " | ".join(f"{scores[metric]:.3f}" for metric in SHOWN)
                  + " |", flush=True)


if __name__ == "__main__":
    main()
