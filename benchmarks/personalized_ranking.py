"""Personalized-Ranking on MovieLens-latest-small (#27): each PERSONALIZED_RANKING recipe re-ranks lists of
one held-out item and 99 popular others, against popularity order.

    .venv/bin/python benchmarks/personalized_ranking.py [--data PATH] [--seeds 42 43 44] [--recipes ...]

Protocol: `benchmarks/movielens.py`'s split (10% of users held out with the seed, their oldest 90% of
ratings the input, the rest the truth). Each recipe is trained on the other users' ratings with
`kerasts.personalize.fit_recipe`, as a solution trains it. For every truth rating of a held-out user, the
list is its film and 99 others drawn without replacement with probability proportional to their number of
training ratings, among the films the user has not rated (input or truth); the lists are the same for
every recipe of a seed. A recipe ranks a list from the user's input ratings, through the path
`get_personalized_ranking` takes (`recommend(history=..., candidates=list, exclude_seen=False)`);
popularity order ranks it by training ratings. The target's rank counts every listed film scoring at
least as high (ties against the target); a film the recipe never saw ranks last, as documented.
NDCG@10 = 1 / log2(1 + rank) when rank <= 10 (one relevant film), HR@10 = rank <= 10, MRR = 1 / rank.
"""

import argparse
import os
import sys
import time

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(__file__))
import movielens  # noqa: E402

import kerasts  # noqa: E402, F401 - first, to silence TensorFlow's start-up logging
from kerasts.evaluation.ties import target_ranks  # noqa: E402
from kerasts.personalize import fit_recipe  # noqa: E402

LIST_LENGTH = 100
RECIPES = {  # the settings of benchmarks/personalize_workflow.py's rows for the same networks
    "personalized-ranking": {"session_gap_seconds": 86400},
    "personalized-ranking-two-tower": {"embedding_dim": 64, "history_length": 50, "temperature": 0.05,
                                       "item_features": ["GENRES"], "epochs": 5, "batch_size": 1024,
                                       "learning_rate": 3e-3},
}


def ranking_lists(train, test_input, test_truth, seed):
    """`(user, list)` per truth rating: the target first, then 99 popularity-sampled unrated films."""
    counts = train["ITEM_ID"].value_counts()
    films, weights = counts.index.to_numpy(), counts.to_numpy(dtype="float64")
    rated = pd.concat([test_input, test_truth]).groupby("USER_ID")["ITEM_ID"].agg(set)
    generator = np.random.default_rng(seed)
    lists = []
    for user, target in zip(test_truth["USER_ID"], test_truth["ITEM_ID"]):
        allowed = ~np.isin(films, list(rated[user]))
        drawn = generator.choice(films[allowed], size=LIST_LENGTH - 1, replace=False,
                                 p=weights[allowed] / weights[allowed].sum())
        lists.append((user, [target, *drawn]))
    return lists, counts


def conservative_rank(scores):
    """The rank of `scores[0]` (the target) among `scores`, ties against it (`kerasts.evaluation.ties`);
    NaN scores (unknown films) rank last."""
    scores = np.asarray(scores, dtype="float64")
    if np.isnan(scores[0]):
        return len(scores)
    return int(target_ranks(scores[None], np.array([0]), "conservative")[0])


def figures(ranks):
    ranks = np.asarray(ranks, dtype="float64")
    return {"NDCG@10": float(np.mean(np.where(ranks <= 10, 1 / np.log2(1 + ranks), 0.0))),
            "HR@10": float(np.mean(ranks <= 10)), "MRR": float(np.mean(1 / ranks))}


def recipe_ranks(recommender, lists, histories):
    ranks = []
    for user, listed in lists:
        ranked = recommender.recommend(history=histories[user], k=LIST_LENGTH, exclude_seen=False,
                                       candidates=listed)
        scores = dict(zip(ranked.item_ids, ranked.scores))
        ranks.append(conservative_rank([scores.get(film, np.nan) for film in listed]))
    return ranks


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=movielens.DEFAULT_DATA)
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 43, 44])
    parser.add_argument("--recipes", nargs="+", choices=list(RECIPES), default=list(RECIPES))
    arguments = parser.parse_args()
    rows = []
    for seed in arguments.seeds:
        train, test_input, test_truth, items = movielens.personalize_protocol(arguments.data, seed=seed)
        lists, counts = ranking_lists(train, test_input, test_truth, seed)
        histories = test_input.groupby("USER_ID")["ITEM_ID"].agg(list)
        popular = [conservative_rank([counts.get(film, 0) for film in listed]) for _, listed in lists]
        rows.append({"ranker": "popularity order", "seed": seed, "seconds": 0.0, **figures(popular)})
        print(f"seed {seed}: {len(lists):,} lists of {LIST_LENGTH}; popularity order {rows[-1]}", flush=True)
        for name in arguments.recipes:
            started = time.perf_counter()
            recommender = fit_recipe({"name": name, "config": {**RECIPES[name], "seed": seed}}, train, items)
            ranks = recipe_ranks(recommender, lists, histories)
            rows.append({"ranker": name, "seed": seed, "seconds": time.perf_counter() - started, **figures(ranks),
                         "lists ahead of popularity": float(np.mean(np.array(ranks) < np.array(popular))),
                         "lists behind": float(np.mean(np.array(ranks) > np.array(popular)))})
            print(f"seed {seed} {name}: {rows[-1]}", flush=True)
    frame = pd.DataFrame(rows)
    shown = ["NDCG@10", "HR@10", "MRR"]
    print("\n| ranker | " + " | ".join(f"{metric} (seeds {', '.join(map(str, arguments.seeds))})" for metric in shown)
          + " | mean NDCG@10 | lists ahead / behind popularity | train + rank s |")
    print("|---" * (len(shown) + 4) + "|")
    for ranker, group in frame.groupby("ranker", sort=False):
        ahead = "" if ranker == "popularity order" else (
            f"{group['lists ahead of popularity'].mean():.2f} / {group['lists behind'].mean():.2f}")
        print(f"| {ranker} | " + " | ".join(", ".join(f"{value:.3f}" for value in group[metric]) for metric in shown)
              + f" | {group['NDCG@10'].mean():.3f} | {ahead} | {group['seconds'].mean():.0f} |")


if __name__ == "__main__":
    main()
