"""The Personalize-style MovieLens protocol of ../shared/BENCHMARK-TARGETS.md (protocol B), shared
by the recommendation benchmark scripts.

ml-latest-small ratings as interactions; 10% of users held out (seed 42); their oldest 90% of
events are input, the newest 10% ground truth; full-catalog ranking (all 9,742 movies) with the
user's history excluded.
"""

import os

DEFAULT_DATA = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "movielens-latest-small")
SEED = 42
KS = (10, 25, 100)
SHOWN_METRICS = ("recall", "normalized_discounted_cumulative_gain", "mean_reciprocal_rank")


def personalize_protocol(path=DEFAULT_DATA, seed=SEED):
    """`(train, test_input, test_truth, items)` of the protocol."""
    from kerasts.data import load_movielens, personalize_split

    interactions, items = load_movielens(path)
    train, test_input, test_truth = personalize_split(interactions, test_user_fraction=0.1, input_fraction=0.9,
                                                      seed=seed)
    return train, test_input, test_truth, items


def metrics_row(scores):
    """The protocol's figures from `evaluate_recommender`'s dict, in table order."""
    figures = [scores[f"{metric}_at_{k}"] for metric in SHOWN_METRICS for k in KS]
    return figures + [scores["coverage"]]


def print_table_header(leading_columns):
    short = {"recall": "R", "normalized_discounted_cumulative_gain": "NDCG", "mean_reciprocal_rank": "MRR"}
    columns = leading_columns + [f"{short[metric]}@{k}" for metric in SHOWN_METRICS for k in KS] + ["coverage@100"]
    print("| " + " | ".join(columns) + " |")
    print("|---" * len(columns) + "|")


def splits_for(path, seeds):
    """The protocol's split for each seed, and the catalog (the same for every seed)."""
    splits = [personalize_protocol(path, seed) for seed in seeds]
    return [split[:3] for split in splits], splits[0][3]


def mean_figures(rows):
    return " | ".join(f"{sum(column) / len(column):.3f}" for column in zip(*rows))
