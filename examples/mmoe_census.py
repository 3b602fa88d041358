"""MMoE against shared-bottom on the MMoE paper's census tasks: income over 50K, never married.

    .venv/bin/python examples/mmoe_census.py [../shared/data/census-income-kdd/census-income.test.gz]
        [--epochs 5] [--seed 0]

Reads the UCI Census-Income (KDD) file from a local path (only the official test part is in
../shared/data, so it is split 50/50 at random into training and evaluation rows). Features: the
7 numeric columns standardised on the training rows, every other column as a category (vocabulary
from the training rows); marital status is left out because it is a label. Both models: Adam 1e-3,
batch 1024; MMoE with 8 experts of 8 units; shared-bottom with one layer of matched size.
Prints the evaluation AUC per task.
"""

import argparse
import os

import kerasts  # noqa: F401 - first, to silence TensorFlow's start-up logging

import keras  # noqa: E402
import numpy as np  # noqa: E402

from kerasts.data import CENSUS_NUMERIC, load_census_income  # noqa: E402
from kerasts.models import MMoE, SharedBottom  # noqa: E402

DEFAULT = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "census-income-kdd",
                       "census-income.test.gz")
TASKS = {"income": "binary", "never_married": "binary"}
LABEL_COLUMNS = ("income_50k", "marital_stat", "instance_weight")


def features_and_labels(table, train_rows):
    train = table.iloc[train_rows]
    features = {}
    for column in table.columns:
        if column in LABEL_COLUMNS:
            continue
        if column in CENSUS_NUMERIC:
            features[column] = {"type": "numeric", "units": None, "mean": float(train[column].mean()),
                                "std": float(train[column].std() or 1.0)}
        else:
            features[column] = {"type": "categorical", "vocabulary": sorted(train[column].unique()),
                                "embedding_dim": 4}
    inputs = {column: (table[column].to_numpy("float32") if column in CENSUS_NUMERIC
                       else table[column].to_numpy(object)) for column in features}
    labels = {"income": (table["income_50k"] == "50000+.").to_numpy("float32"),
              "never_married": (table["marital_stat"] == "Never married").to_numpy("float32")}
    return features, inputs, labels


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", default=DEFAULT)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not os.path.exists(args.path):
        parser.error(f"no census file at {args.path!r}: pass the path of census-income.test(.gz) or .data(.gz)")
    table = load_census_income(args.path)
    order = np.random.default_rng(args.seed).permutation(len(table))
    train_rows, eval_rows = order[:len(order) // 2], order[len(order) // 2:]
    features, inputs, labels = features_and_labels(table, train_rows)

    def part(rows):
        return {name: values[rows] for name, values in inputs.items()}, {name: y[rows] for name, y in labels.items()}

    models = {
        "shared-bottom": lambda: SharedBottom(features, TASKS, bottom_units=(64,), tower_units=(8,)),
        "MMoE": lambda: MMoE(features, TASKS, num_experts=8, expert_units=(8,), tower_units=(8,)),
    }
    print(f"{len(train_rows):,} training and {len(eval_rows):,} evaluation rows, {len(features)} features; "
          f"positives: income {labels['income'].mean():.3f}, never married {labels['never_married'].mean():.3f}\n")
    print("| model | parameters | income AUC | never-married AUC |")
    print("|---|---|---|---|")
    for name, make in models.items():
        keras.utils.set_random_seed(args.seed)
        model = make()
        model.compile(kerasts.optimizers.Adam(1e-3))  # binary cross-entropy and AUC per binary task
        model.fit(*part(train_rows), epochs=args.epochs, batch_size=1024, verbose=0)
        scores = model.evaluate(*part(eval_rows), batch_size=4096, verbose=0, return_dict=True)
        print(f"| {name} | {model.count_params():,} | {scores['income_auc']:.4f} | {scores['never_married_auc']:.4f} |")


if __name__ == "__main__":
    main()
