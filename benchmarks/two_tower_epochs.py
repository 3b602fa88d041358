"""The `two-tower` recipe's epochs on several datasets: does its default (8) train past the best count?

    .venv/bin/python benchmarks/two_tower_epochs.py [--data PATH] [--epochs 1 2 4 8] [--seeds 1 2 3]
        [--early-stopping-patience P]

Each run fits the recipe as a solution does (`kerasts.personalize.fit_recipe`, the recipe's settings with
`epochs` and `seed` set) on Personalize's split of the dataset (10% of users held out with the seed, their
oldest 90% of events the input, the rest the truth) and scores it there with `evaluate_recommender`: NDCG@10
(AutoML's metric) and recall@25. The datasets: MovieLens-latest-small (ratings as interactions, with the
movies' genres), the same with a quarter of its users (drawn once, seed 0), and generated interactions
(`synthetic_interactions`, generated with the run's seed) at 100 users x 200 items, 500 x 1,000 (the demo's
size) and 2,000 x 2,000. A MovieLens run's split seed is the run's seed + 42 (43, 44, 45 for the default
seeds), so that seed 42, the one the first look used, is not among them. With `--early-stopping-patience`,
each fit holds a tenth of its training users out to stop on (`epochs` the most) and reports the epochs trained.

    .venv/bin/python benchmarks/two_tower_epochs.py --hpo-trials 8 --epochs 8 searched [--seeds 1 2 3 4 5]

With `--hpo-trials`, each run is instead a solution with HPO, as a user makes one
(`create_solution(DatasetGroup(...), "two-tower", perform_hpo=True)`, then `create_version(seed=split seed)`,
which tunes on a tenth of the split's training users, scores the best settings on the split and trains them on
every event): `--epochs` lists the variants, a count fixing `epochs` (HPO searches the rest of the space) or
`searched` leaving it open (HPO searches it where the recipe's space holds it, as at db2880c; today's space does
not, so the recipe's 8 trains). It reports the test scores, the epochs HPO chose and the version's seconds.

    .venv/bin/python benchmarks/two_tower_epochs.py --hpo-trials 8 --hpo-validation-fractions 0.1 0.25 \
        [--seeds 1 2 3 4 5]

With `--hpo-validation-fractions`, the variants are instead the share of the split's training users HPO holds
out to score its trials (`kerasts.personalize.solution.HPO_VALIDATION_FRACTION`), the recipe's epochs as set.
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
from kerasts.data import load_movielens, personalize_split, synthetic_interactions  # noqa: E402
from kerasts.evaluation import evaluate_recommender  # noqa: E402
from kerasts.personalize import DatasetGroup, create_solution, fit_recipe  # noqa: E402
from kerasts.personalize import solution as solution_module  # noqa: E402

GENERATED_SIZES = ((100, 200), (500, 1000), (2000, 2000))


def datasets(path, seed):
    """`(name, interactions, items, split seed)` for each dataset of a run with `seed`."""
    interactions, items = load_movielens(path)
    yield "MovieLens", interactions, items, seed + 42
    users = interactions["USER_ID"].unique()
    quarter = np.random.default_rng(0).choice(users, len(users) // 4, replace=False)
    yield "MovieLens, a quarter of its users", interactions[interactions["USER_ID"].isin(quarter)], items, seed + 42
    for num_users, num_items in GENERATED_SIZES:
        generated = synthetic_interactions(num_users=num_users, num_items=num_items, seed=seed)
        yield f"generated, {num_users:,} users", generated, None, seed


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=movielens.DEFAULT_DATA)
    parser.add_argument("--epochs", nargs="+", default=["1", "2", "4", "8"],
                        help="counts; with --hpo-trials also `searched`")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--early-stopping-patience", type=int)
    parser.add_argument("--hpo-trials", type=int)
    parser.add_argument("--hpo-validation-fractions", type=float, nargs="+",
                        help="with --hpo-trials: the variants are these validation shares")
    arguments = parser.parse_args()
    if arguments.hpo_trials:
        return tuned(arguments)
    arguments.epochs = [int(epochs) for epochs in arguments.epochs]
    rows = []
    for seed in arguments.seeds:
        for name, interactions, items, split_seed in datasets(arguments.data, seed):
            split = personalize_split(interactions, test_user_fraction=0.1, seed=split_seed)
            for epochs in arguments.epochs:
                started = time.perf_counter()
                config = {"epochs": epochs, "seed": seed, "early_stopping_patience": arguments.early_stopping_patience}
                recommender = fit_recipe({"name": "two-tower", "config": config}, split[0], items)
                scores = evaluate_recommender(recommender, split, ks=(10, 25))
                rows.append({"dataset": name, "seed": seed, "epochs": epochs,
                             "NDCG@10": scores["normalized_discounted_cumulative_gain_at_10"],
                             "R@25": scores["recall_at_25"], "trained": len(recommender.history.history["loss"]),
                             "seconds": time.perf_counter() - started})
                print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    means = table.groupby(["dataset", "epochs"], sort=False)[["NDCG@10", "R@25", "trained", "seconds"]].mean()
    spread = table.groupby(["dataset", "epochs"], sort=False)["NDCG@10"].agg(["min", "max"])
    print("\nMeans over the seeds (NDCG@10's range over the seeds):")
    print("| dataset | epochs | NDCG@10 | R@25 | NDCG@10 min-max | epochs trained | s per fit |")
    print("|---|---|---|---|---|---|---|")
    for (name, epochs), row in means.iterrows():
        low, high = spread.loc[(name, epochs)]
        print(f"| {name} | {epochs} | {row['NDCG@10']:.4f} | {row['R@25']:.4f} | {low:.4f}-{high:.4f} | "
              f"{row['trained']:.1f} | {row['seconds']:.0f} |")


def tuned(arguments):
    """Each variant (of `--epochs`, or of `--hpo-validation-fractions`) as a solution with HPO on each dataset
    and seed."""
    fractions = arguments.hpo_validation_fractions
    variants = [str(fraction) for fraction in fractions] if fractions else arguments.epochs
    rows = []
    for seed in arguments.seeds:
        for name, interactions, items, split_seed in datasets(arguments.data, seed):
            group = DatasetGroup(interactions, items=items)
            for variant in variants:
                if fractions:
                    solution_module.HPO_VALIDATION_FRACTION = float(variant)
                    config = {"seed": seed}
                else:
                    config = {"seed": seed} if variant == "searched" else {"seed": seed, "epochs": int(variant)}
                started = time.perf_counter()
                version = create_solution(group, "two-tower", perform_hpo=True, hpo_trials=arguments.hpo_trials,
                                          settings={"two-tower": config}).create_version(seed=split_seed, verbose=0)
                rows.append({"dataset": name, "seed": seed, "variant": variant,
                             "NDCG@10": version.metrics["normalized_discounted_cumulative_gain_at_10"],
                             "R@25": version.metrics["recall_at_25"], "chosen": version.recommender.epochs,
                             "seconds": time.perf_counter() - started})
                print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    print("\nMeans over the seeds (NDCG@10's range over the seeds; the epochs HPO chose, by seed):")
    print(f"| dataset | {'validation share' if fractions else 'epochs'} | NDCG@10 | R@25 | NDCG@10 min-max | epochs "
          "chosen | s per version |")
    print("|---|---|---|---|---|---|---|")
    for (name, variant), runs in table.groupby(["dataset", "variant"], sort=False):
        print(f"| {name} | {variant} | {runs['NDCG@10'].mean():.4f} | {runs['R@25'].mean():.4f} | "
              f"{runs['NDCG@10'].min():.4f}-{runs['NDCG@10'].max():.4f} | "
              f"{', '.join(str(chosen) for chosen in runs['chosen'])} | {runs['seconds'].mean():.0f} |")
    if len(variants) == 2:  # the second variant against the first, paired by seed
        first, second = variants
        print(f"\n{second} against {first}, per dataset: the mean paired difference (its standard error)")
        for name, runs in table.groupby("dataset", sort=False):
            paired = runs.pivot(index="seed", columns="variant")
            for metric in ("NDCG@10", "R@25"):
                difference = paired[(metric, second)] - paired[(metric, first)]
                error = difference.std(ddof=1) / np.sqrt(len(difference)) if len(difference) > 1 else float("nan")
                print(f"{name}: {metric} {difference.mean():+.4f} ({error:.4f}); ratio "
                      f"{paired[(metric, second)].mean() / paired[(metric, first)].mean():.3f}")


if __name__ == "__main__":
    main()
