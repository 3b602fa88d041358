"""Popularity, SIMS and Swing on MovieLens-latest-small with the Personalize-style split.

    .venv/bin/python benchmarks/recsys_baselines.py [--data PATH] [--seeds 42 43 44 45 46]
    .venv/bin/python benchmarks/recsys_baselines.py --swing-betas 0.3 0.35 --seeds 42 ... 51

With `--swing-betas`, only Swing runs, once per user-weight exponent, and each row adds the seeds' spread
(the standard error of R@25 and NDCG@25 over the splits).

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
    "Swing (alpha 1, alpha1 5, beta 0.35, no caps)": lambda: Swing(max_users_per_item=None),
    "Swing, caps 200 items/user, 100 users/item": lambda: Swing(max_items_per_user=200, max_users_per_item=100),
}


def baseline_rows(splits, items):
    """Per recommender: its name, median build seconds and mean metrics over the splits."""
    for name, make in RECOMMENDERS.items():
        seconds, rows = [], []
        for split in splits:
            start = time.perf_counter()
            model = make().fit(split[0])
            seconds.append(time.perf_counter() - start)
            scores = evaluate_recommender(model, split, ks=movielens.KS, catalog_size=len(items))
            rows.append(movielens.metrics_row(scores))
        yield name, statistics.median(seconds), movielens.mean_figures(rows)


def swing_beta_rows(splits, items, betas):
    """Per beta: mean figures, and the standard errors of R@25 and NDCG@25 over the splits."""
    for beta in betas:
        rows = [movielens.metrics_row(evaluate_recommender(Swing(beta=beta).fit(split[0]), split, ks=movielens.KS,
                                                           catalog_size=len(items))) for split in splits]
        errors = [statistics.stdev(column) / len(column) ** 0.5 for column in list(zip(*rows))[1::3][:2]]
        yield beta, movielens.mean_figures(rows), errors


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=movielens.DEFAULT_DATA)
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 43, 44, 45, 46])
    parser.add_argument("--swing-betas", type=float, nargs="+", help="compare Swing's user-weight exponents only")
    args = parser.parse_args()
    splits, items = movielens.splits_for(args.data, args.seeds)
    if args.swing_betas:
        movielens.print_table_header(["Swing beta"])
        for beta, figures, errors in swing_beta_rows(splits, items, args.swing_betas):
            print(f"| {beta} | {figures} | (standard errors: R@25 {errors[0]:.4f}, NDCG@25 {errors[1]:.4f})")
        return
    print(f"{platform.machine()}, seeds {args.seeds}, {len(splits[0][0]):,} training events and "
          f"{splits[0][2]['USER_ID'].nunique()} test users per split, {len(items):,} catalog items\n")
    movielens.print_table_header(["recommender", "build s (median)"])
    for name, seconds, figures in baseline_rows(splits, items):
        print(f"| {name} | {seconds:.2f} | {figures} |")


if __name__ == "__main__":
    main()
