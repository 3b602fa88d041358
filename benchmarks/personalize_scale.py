"""A retailer-sized interactions table for Personalize, and Swing's fit on it: seconds and peak memory.

    .venv/bin/python benchmarks/personalize_scale.py --table interactions.csv [--users 50000] [--items 20000]
    .venv/bin/python benchmarks/personalize_scale.py --table interactions.csv --swing-cap 1000   # or none

Without `--swing-cap` it writes the table: `--users` users with 5 to 35 events each (about 1M events at
50,000) in 1 to 5 sessions over 180 days (events 30 s to 5 min apart), items of Zipf popularity (exponent 1,
so the most popular of 20,000 items has about half the users), each user drawing 60% of their events from
a taste cluster (one of 200 random groups of items) and the rest from the whole catalog. The same table is
what `kerasts personalize train --interactions` reads. With `--swing-cap`, it fits `Swing` with that
`max_users_per_item` on the table and prints the user-pair entries, the seconds of the fit and the
process's peak resident memory (Linux, GiB)."""

import argparse
import resource
import time

import numpy as np
import pandas as pd

import kerasts  # noqa: F401 - first, to silence TensorFlow's start-up logging
from kerasts.baselines import Swing


def retail_interactions(num_users, num_items, num_clusters=200, seed=0):
    rng = np.random.default_rng(seed)
    popularity = 1.0 / np.arange(1, num_items + 1)
    popularity /= popularity.sum()
    cluster_of_item = rng.integers(0, num_clusters, num_items)
    members = [np.flatnonzero(cluster_of_item == cluster) for cluster in range(num_clusters)]
    users, items, times = [], [], []
    for user in range(num_users):
        count = rng.integers(5, 36)
        taste = members[rng.integers(num_clusters)]
        picked = rng.choice(num_items, size=count, p=popularity)
        in_taste = rng.random(count) < 0.6
        picked[in_taste] = rng.choice(taste, size=in_taste.sum(), p=popularity[taste] / popularity[taste].sum())
        sessions = rng.integers(1, 6)
        session = np.sort(rng.integers(0, sessions, count))
        session_start = np.sort(rng.integers(0, 180 * 86400, sessions))
        within = np.concatenate([np.cumsum(rng.integers(30, 300, (session == s).sum())) for s in range(sessions)])
        users.append(np.full(count, user))
        items.append(picked)
        times.append(1_700_000_000 + session_start[session] + within)
    table = pd.DataFrame({"USER_ID": np.char.add("u", np.concatenate(users).astype(str)),
                          "ITEM_ID": np.char.add("i", np.concatenate(items).astype(str)),
                          "TIMESTAMP": np.concatenate(times)})
    return table.sort_values("TIMESTAMP", kind="stable", ignore_index=True)


def pair_entries(table, cap):
    users_per_item = table.drop_duplicates(["USER_ID", "ITEM_ID"])["ITEM_ID"].value_counts().to_numpy()
    users_per_item = users_per_item if cap is None else np.minimum(users_per_item, cap)
    return int((users_per_item * (users_per_item - 1) // 2).sum())


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--table", required=True, help="the CSV to write, or with --swing-cap to read")
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--swing-cap", help="fit Swing with this max_users_per_item (`none`: no cap)")
    args = parser.parse_args()
    if args.swing_cap is None:
        table = retail_interactions(args.users, args.items)
        table.to_csv(args.table, index=False)
        users_of_top = table.drop_duplicates(["USER_ID", "ITEM_ID"])["ITEM_ID"].value_counts().iloc[0]
        print(f"Wrote {len(table):,} events of {table['USER_ID'].nunique():,} users and "
              f"{table['ITEM_ID'].nunique():,} items to {args.table}; the most popular item has "
              f"{users_of_top:,} users.")
        return
    table = pd.read_csv(args.table)
    cap = None if args.swing_cap == "none" else int(args.swing_cap)
    start = time.perf_counter()
    Swing(max_users_per_item=cap).fit(table)
    print(f"Swing, max_users_per_item={cap}: {pair_entries(table, cap):,} user-pair entries, "
          f"fit {time.perf_counter() - start:.1f} s, "
          f"peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20:.2f} GiB")


if __name__ == "__main__":
    main()
