"""Popularity, SIMS and Swing on MovieLens-latest-small with the Personalize-style split.

    .venv/bin/python benchmarks/recsys_baselines.py [--data PATH] [--seeds 42 43 44 45 46]

Protocol in `benchmarks/movielens.py`, repeated for each seed of the held-out users (61 users per
split, so one split is noisy). Metrics are means over the seeds; build time is the median of the
fits on the training events (every fit is deterministic). Prints a Markdown table.
"""

import argparse
import platform
import statistics
import time

import kerasts  # noqa: F401 - first, to silence TensorFlow's start-up logging

from kerasts.baselines import SIMS, Popularity, Swing  # noqa: E402
from kerasts.evaluation import evaluate_recommender  # noqa: E402

import movielens  # noqa: E402

RECOMMENDERS = {
    "popularity": Popularity,
    "SIMS (discount 0.5, min 2 shared users)": SIMS,
    "Swing (alpha 1, alpha1 5, beta 0.3, no caps)": Swing,
    "Swing, caps 200 items/user, 100 users/item": lambda: Swing(max_items_per_user=200, max_users_per_item=100),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=movielens.DEFAULT_DATA)
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 43, 44, 45, 46])
    args = parser.parse_args()
    splits = [movielens.personalize_protocol(args.data, seed) for seed in args.seeds]
    items = splits[0][3]
    print(f"{platform.machine()}, seeds {args.seeds}, {len(splits[0][0]):,} training events and "
          f"{splits[0][2]['USER_ID'].nunique()} test users per split, {len(items):,} catalog items\n")
    print("| recommender | build s (median) | " + " | ".join(movielens.table_header()) + " |")
    print("|---" * (len(movielens.table_header()) + 2) + "|")
    for name, make in RECOMMENDERS.items():
        seconds, rows = [], []
        for train, test_input, test_truth, _ in splits:
            start = time.perf_counter()
            model = make().fit(train)
            seconds.append(time.perf_counter() - start)
            scores = evaluate_recommender(model, (train, test_input, test_truth), ks=movielens.KS,
                                          catalog_size=len(items))
            rows.append(movielens.metrics_row(scores))
        figures = " | ".join(f"{statistics.mean(column):.3f}" for column in zip(*rows))
        print(f"| {name} | {statistics.median(seconds):.2f} | {figures} |")


if __name__ == "__main__":
    main()
