"""TwoTower (history query tower, id + genres candidate tower) on MovieLens-latest-small with the
Personalize-style split, with and without the log-Q correction, next to popularity, SIMS and Swing.

    .venv/bin/python benchmarks/two_tower.py [--data PATH] [--seeds 42 43 44] [--epochs 5]

Protocol in `benchmarks/movielens.py`: held-out users are unseen in training, so the query tower
reads a user's last `--history` items (their input events at test time). Metrics are means over the
seeds; training throughput (examples/s, epochs after the first) and the latency of one top-100 query
over the 9,742-movie catalog (median of 200 queries, in-process `TwoTower.retrieve` and the exported
SavedModel's `recommend` endpoint) are medians over the seeds.
"""

import argparse
import os
import platform
import statistics
import tempfile
import time

import kerasts  # noqa: F401 - first, to silence TensorFlow's start-up logging

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from kerasts.data import latest_histories  # noqa: E402
from kerasts.evaluation import evaluate_recommender  # noqa: E402
from kerasts.export import load_saved_model  # noqa: E402
from kerasts.models import TwoTowerRecommender  # noqa: E402

import movielens  # noqa: E402
from recsys_baselines import baseline_rows  # noqa: E402

QUERIES = 200  # top-100 queries timed, one user each


class EpochTimer(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds = getattr(self, "seconds", []) + [time.perf_counter() - self.start]


def train_and_score(split, items, args, logq, seed):
    train, test_input, _ = split
    timer = EpochTimer()
    recommender = TwoTowerRecommender(embedding_dim=args.dim, history_length=args.history,
                                      temperature=args.temperature, logq_correction=logq, item_features=["GENRES"],
                                      epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.learning_rate,
                                      seed=seed).fit(train, items=items, callbacks=[timer])
    throughput = len(train) / statistics.median(timer.seconds[1:] or timer.seconds)
    scores = evaluate_recommender(recommender, split, ks=movielens.KS, catalog_size=len(items))
    queries = list(latest_histories(test_input, args.history))
    queries = (queries * (QUERIES // len(queries) + 1))[:QUERIES]
    in_process = _median_ms(lambda history: recommender.model.retrieve({"HISTORY": np.array([history], dtype=object)},
                                                                        100), queries)
    with tempfile.TemporaryDirectory() as directory:
        recommender.model.export(os.path.join(directory, "saved"), k=100)
        served = load_saved_model(os.path.join(directory, "saved"))
        seen = tf.constant([[""]])
        saved = _median_ms(lambda history: served.recommend({"HISTORY": tf.constant([history])}, seen), queries)
    return movielens.metrics_row(scores), throughput, in_process, saved


def _median_ms(query, histories):
    """Median milliseconds of `query(history)` over the histories, after one untimed call."""
    query(histories[0])
    latencies = []
    for history in histories:
        start = time.perf_counter()
        query(history)
        latencies.append(time.perf_counter() - start)
    return statistics.median(latencies) * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=movielens.DEFAULT_DATA)
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 43, 44])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--history", type=int, default=50)
    parser.add_argument("--temperature", type=float, default=0.05)
    parser.add_argument("--learning-rate", type=float, default=3e-3)
    parser.add_argument("--skip-baselines", action="store_true")
    args = parser.parse_args()
    splits, items = movielens.splits_for(args.data, args.seeds)
    print(f"{platform.machine()}, seeds {args.seeds}, {args.epochs} epochs, batch {args.batch_size}, dim {args.dim}, "
          f"history {args.history}, cosine / temperature {args.temperature}, Adam {args.learning_rate}\n")
    movielens.print_table_header(["model", "train examples/s", "top-100 query ms", "SavedModel top-100 query ms"])
    for name, logq in (("TwoTower, log-Q correction", True), ("TwoTower, no correction", False)):
        runs = [train_and_score(split, items, args, logq, seed) for split, seed in zip(splits, args.seeds)]
        print(f"| {name} | {statistics.median(run[1] for run in runs):,.0f} | "
              f"{statistics.median(run[2] for run in runs):.2f} | {statistics.median(run[3] for run in runs):.2f} | "
              f"{movielens.mean_figures(run[0] for run in runs)} |", flush=True)
    if not args.skip_baselines:
        for name, _, figures in baseline_rows(splits, items):
            print(f"| {name} | — | — | — | {figures} |")


if __name__ == "__main__":
    main()
