"""The Personalize workflow on MovieLens-latest-small: every recipe through `create_solution(...).create_version()`
against the figures the recipes give alone (RESULTS.md), AutoML's choice, and a batch job over every user.

    .venv/bin/python benchmarks/personalize_workflow.py [--data PATH] [--seeds 42 43 44]

Protocol: `benchmarks/movielens.py` (protocol B): ratings as interactions, 10% of users held out with the
seed, their oldest 90% of events the input and the rest the truth, the whole catalog ranked with the
input excluded. A solution version scores its recipe on exactly that split (same `personalize_split`,
same seed), so popularity, SIMS and Swing must give the figures of the "Two-tower retrieval" table
(seeds 42 43 44) and the two-tower, with that table's settings, its rerun's within seed noise. The
version's coverage counts the items in the data (9,724 rated movies) where the table's counts all
9,742 movies. HRNN and GRU4Rec run with the workflow's defaults (a new session after a day idle here).
Each version is then retrained on every rating (the served model); its time is in "version s".
The batch job asks for 25 items for each of the 610 users.
"""

import argparse
import json
import os
import sys
import tempfile
import time

import pandas as pd

sys.path.insert(0, os.path.dirname(__file__))
import movielens  # noqa: E402

import kerasts  # noqa: E402, F401 - first, to silence TensorFlow's start-up logging
from kerasts.data import load_movielens  # noqa: E402
from kerasts.personalize import DatasetGroup, create_solution  # noqa: E402

SHOWN = ("recall_at_10", "recall_at_25", "normalized_discounted_cumulative_gain_at_10",
         "normalized_discounted_cumulative_gain_at_25", "mean_reciprocal_rank_at_25", "coverage")
RECIPES = {
    "popularity-count": {}, "sims": {}, "swing": {},
    # benchmarks/two_tower.py's settings
    "two-tower": {"embedding_dim": 64, "history_length": 50, "temperature": 0.05, "item_features": ["GENRES"],
                  "epochs": 5, "batch_size": 1024, "learning_rate": 3e-3},
    "hrnn": {"session_gap_seconds": 86400}, "gru4rec": {"session_gap_seconds": 86400},
}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=movielens.DEFAULT_DATA)
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 43, 44])
    parser.add_argument("--recipes", nargs="+", choices=list(RECIPES), default=list(RECIPES),
                        help="these recipes only (AutoML's choice is printed when every one ran)")
    arguments = parser.parse_args()
    interactions, items = load_movielens(arguments.data)
    group = DatasetGroup(interactions, items=items)
    rows, batch_rates, choices = [], [], []
    for seed in arguments.seeds:
        leaderboard = []
        for name in arguments.recipes:
            settings = RECIPES[name]
            config = {**settings, "seed": seed} if name in ("two-tower", "hrnn", "gru4rec") else settings
            started = time.perf_counter()
            version = create_solution(group, recipe={"name": name, "config": config}).create_version(seed=seed,
                                                                                                   verbose=0)
            seconds = time.perf_counter() - started
            rows.append({"recipe": name, "seed": seed, "version s": seconds, **version.metrics})
            leaderboard.append(version.leaderboard)
            print(f"seed {seed} {name}: {seconds:.0f} s, " + ", ".join(f"{metric} {version.metrics[metric]:.3f}"
                                                                       for metric in SHOWN), flush=True)
            if name == "two-tower":
                with tempfile.TemporaryDirectory() as directory:
                    requests = os.path.join(directory, "in.jsonl")
                    with open(requests, "w") as handle:
                        handle.writelines(json.dumps({"userId": user}) + "\n"
                                          for user in group.interactions["USER_ID"].unique())
                    started = time.perf_counter()
                    counts = version.batch_inference(requests, os.path.join(directory, "out.jsonl"))
                    batch_rates.append(counts["lines"] / (time.perf_counter() - started))
        # AutoML's rule (the best NDCG@10 among the user-personalization recipes) on the same split.
        if len(arguments.recipes) == len(RECIPES):
            board = pd.concat(leaderboard).drop(index=["sims", "swing"])
            choices.append(board["normalized_discounted_cumulative_gain_at_10"].idxmax())
    frame = pd.DataFrame(rows)
    means = frame.groupby("recipe", sort=False)[list(SHOWN) + ["version s"]].mean()
    print("\n| recipe | " + " | ".join(SHOWN) + " | version s (mean) |")
    print("|---" * (len(SHOWN) + 2) + "|")
    for name, row in means.iterrows():
        print(f"| {name} | " + " | ".join(f"{row[metric]:.3f}" for metric in SHOWN) + f" | {row['version s']:.0f} |")
    if choices:
        print(f"\nAutoML's choice per seed: {choices}")
    if batch_rates:
        print(f"Batch job: {', '.join(f'{rate:,.0f}' for rate in batch_rates)} users/s (two-tower, 25 items each)")


if __name__ == "__main__":
    main()
