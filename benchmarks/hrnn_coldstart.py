"""HRNN-coldstart on MovieLens-latest-small: the newest films left out of training, recommended from their
genres at test time, at exploration weights 0, 0.3 and 0.6, against plain HRNN and "newest first" (#27).

    .venv/bin/python benchmarks/hrnn_coldstart.py [--data PATH] [--seeds 0 1 2] [--epochs 10] [--k 25]

Protocol: a film's creation time is its first rating (MovieLens has no other); the newest 10% of films by
that time are cold: every event on them is removed from training, and they are in the Items table (with
GENRES and CREATION_TIMESTAMP) when the models are fit. Each user's newest 10% of events (at least one)
are their targets, the older ones their history and the training events (cold films left out); the lists
exclude the history. (A global time cut leaves 27 users with events on both sides, and Personalize's
split of 61 held-out users has 4 cold targets: too few to measure.)
Figures, means over seeds (± standard error): recall@k over all targets; recall@k over the cold targets of
the users who have any; and the share of cold films in the lists. Methods: HRNN (the `hrnn` recipe's
settings, which cannot list a film it was not trained on), HRNN-coldstart (the `hrnn-coldstart` recipe's:
HRNN-metadata on GENRES with the cold films mapped in from their genres) at each exploration weight (one
fitted model per seed, the weight changed between lists), and "newest first" (the k most recently
created films the user has not rated; no training).
"""

import argparse

import kerasts  # noqa: F401 - first, to silence TensorFlow's start-up logging

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from kerasts.data import load_movielens  # noqa: E402
from kerasts.metrics.ranking import recall_at_k  # noqa: E402
from kerasts.personalize.recipes import RECIPES  # noqa: E402

import movielens  # noqa: E402
from spread import mean_and_spread  # noqa: E402

WEIGHTS = (0.0, 0.3, 0.6)
COLD_SHARE = 0.1
TARGET_SHARE = 0.1


def protocol(path):
    """`(train, items, histories, targets, cold)`: training events without the cold films, the Items table
    with CREATION_TIMESTAMP, each test user's history and targets, and the cold films' ids."""
    interactions, items = load_movielens(path)
    created = interactions.groupby("ITEM_ID")["TIMESTAMP"].min()
    cold = set(created.sort_values(kind="stable").index[-int(round(COLD_SHARE * len(created))):])
    items = items.assign(ITEM_ID=items["ITEM_ID"].astype(str))
    items = items[items["ITEM_ID"].isin(created.index)].assign(
        CREATION_TIMESTAMP=lambda table: table["ITEM_ID"].map(created).astype("int64"))[
        ["ITEM_ID", "GENRES", "CREATION_TIMESTAMP"]]
    events = interactions.sort_values(["USER_ID", "TIMESTAMP"], kind="stable")
    newest_first = events.groupby("USER_ID").cumcount(ascending=False)
    count = events.groupby("USER_ID")["ITEM_ID"].transform("size")
    is_target = newest_first < (count * TARGET_SHARE).round().clip(lower=1)
    before, after = events[~is_target], events[is_target]
    train = before[~before["ITEM_ID"].isin(cold)]
    users = sorted(set(train["USER_ID"]) & set(after["USER_ID"]))
    histories = train.groupby("USER_ID")["ITEM_ID"].apply(list)
    targets = after.groupby("USER_ID")["ITEM_ID"].apply(set)
    return train, items, [histories[user] for user in users], [targets[user] for user in users], users, cold


def scores_of(lists, targets, cold, k):
    cold_targets = [wanted & cold for wanted in targets]
    with_cold = [index for index, wanted in enumerate(cold_targets) if wanted]
    shown = np.mean([np.mean([item in cold for item in listed]) for listed in lists])
    return {"recall": recall_at_k(lists, targets, k),
            "cold recall": recall_at_k([lists[index] for index in with_cold], [cold_targets[index]
                                                                                for index in with_cold], k),
            "cold share": float(shown)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=movielens.DEFAULT_DATA)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--k", type=int, default=25)
    arguments = parser.parse_args()
    train, items, histories, targets, users, cold = protocol(arguments.data)
    with_cold = sum(bool(wanted & cold) for wanted in targets)
    print(f"{len(train):,} training events, {len(cold):,} cold films of {len(items):,}, {len(users):,} test users "
          f"({with_cold:,} with a cold target)", flush=True)
    newest = items.sort_values("CREATION_TIMESTAMP", ascending=False, kind="stable")["ITEM_ID"].tolist()
    rows = {"newest first": [scores_of([[item for item in newest if item not in set(history)][:arguments.k]
                                        for history in histories], targets, cold, arguments.k)]}
    for seed in arguments.seeds:
        settings = {"epochs": arguments.epochs, "seed": seed}
        plain = RECIPES.get("hrnn")(**settings).fit(train, items)
        lists = [plain.recommend(user_id=user, k=arguments.k).item_ids for user in users]
        rows.setdefault("HRNN", []).append(scores_of(lists, targets, cold, arguments.k))
        coldstart = RECIPES.get("hrnn-coldstart")(**settings).fit(train, items)
        for weight in WEIGHTS:
            coldstart.exploration_weight = weight
            lists = [coldstart.recommend(user_id=user, k=arguments.k).item_ids for user in users]
            rows.setdefault(f"HRNN-coldstart, weight {weight}", []).append(
                scores_of(lists, targets, cold, arguments.k))
        print(f"seed {seed}: " + "; ".join(f"{name} {figures[-1]['recall']:.4f}/{figures[-1]['cold recall']:.4f}"
                                          for name, figures in rows.items() if name != "newest first"), flush=True)
    k = arguments.k
    print(f"\n| method | recall@{k} | recall@{k} of cold targets | cold share of the lists |")
    print("|---|---|---|---|")
    for name, figures in rows.items():
        table = pd.DataFrame(figures)
        print(f"| {name} | " + " | ".join(mean_and_spread(table[column].tolist(), standard_error=True)
                                          for column in ("recall", "cold recall", "cold share")) + " |")


if __name__ == "__main__":
    main()
