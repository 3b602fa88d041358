"""TwoTower (history query tower, id + genres candidate tower) on MovieLens-latest-small with the
Personalize-style split, with and without the log-Q correction, next to popularity, SIMS and Swing.

    .venv/bin/python benchmarks/two_tower.py [--data PATH] [--seeds 42 43 44] [--epochs 5] [--peer tfrs]

Protocol in `benchmarks/movielens.py`: held-out users are unseen in training, so the query tower
reads a user's last `--history` items (their input events at test time). Metrics are means over the
seeds; training throughput (examples/s, epochs after the first) and the latency of one top-100 query
over the 9,742-movie catalog (median of 200 queries, in-process `TwoTower.retrieve`, the exported
SavedModel's `recommend` endpoint, and its `recommend_lists` converted to LiteRT and run by LiteRT's
interpreter on one thread), and the SavedModel's time a query when 32 come in one call (as the campaign
server batches waiting requests; median of 50 calls), are medians over the seeds.

`--peer tfrs` also runs TensorFlow Recommenders 0.7.7 on each seed's split, beside kerasts in the same run
(`benchmarks/peers/tfrs_two_tower.py` in `.venv-peers`: `python3.11 -m venv .venv-peers &&
.venv-peers/bin/pip install -r benchmarks/requirements-peers.txt`), BENCHMARK-TARGETS' recipes (plain, 3
epochs; log-Q, 10 epochs); its top-100 lists are scored here by the same `ranking_metrics`.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import tempfile
import time

import kerasts  # noqa: F401 - first, to silence TensorFlow's start-up logging

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import tensorflow as tf  # noqa: E402

from kerasts.data import latest_histories  # noqa: E402
from kerasts.evaluation import evaluate_recommender  # noqa: E402
from kerasts.export import load_litert, load_saved_model  # noqa: E402
from kerasts.metrics import ranking_metrics  # noqa: E402
from kerasts.models import TwoTowerRecommender  # noqa: E402

import movielens  # noqa: E402
from latency import median_ms  # noqa: E402
from recsys_baselines import baseline_rows  # noqa: E402

QUERIES = 200  # top-100 queries timed, one user each
BATCH = 32  # queries a call in the batched timing (as the campaign server batches waiting requests)


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
                                      seed=seed)
    # With --with-test-input, the held-out users' input events are trained on too (what the user-id TFRS peer needs).
    events = pd.concat([train, test_input], ignore_index=True) if args.with_test_input else train
    recommender.fit(events, items=items, callbacks=[timer])
    throughput = len(events) / statistics.median(timer.seconds[1:] or timer.seconds)
    scores = evaluate_recommender(recommender, split, ks=movielens.KS, catalog_size=len(items))
    queries = list(latest_histories(test_input, args.history))
    queries = cycled(queries, QUERIES)
    in_process = median_ms(lambda history: recommender.model.retrieve({"HISTORY": np.array([history], dtype=object)},
                                                                        100), queries)
    with tempfile.TemporaryDirectory() as directory:
        recommender.model.export(os.path.join(directory, "saved"), k=100)
        served = load_saved_model(os.path.join(directory, "saved"))
        seen = tf.constant([[""]])
        saved = median_ms(lambda history: served.recommend({"HISTORY": tf.constant([history])}, seen), queries)
        seen = tf.constant([[""]] * BATCH)
        saved_batched = median_ms(lambda batch: served.recommend({"HISTORY": tf.constant(batch)}, seen),
                                   query_batches(queries)) / BATCH
        # The same endpoint converted to LiteRT takes the history as a row of ids, padded to the history
        # length as an app's buffer would be (a new input shape makes LiteRT prepare every operator again).
        path = recommender.model.export(os.path.join(directory, "recommender.tflite"), format="litert", k=100)
        runner = load_litert(path).get_signature_runner("recommend_lists")
        seen = np.array([[""]], dtype=object)
        rows = [history.split("|") + [""] * (args.history - history.count("|") - 1) for history in queries]
        litert = median_ms(lambda row: runner(HISTORY=np.array([row], dtype=object), seen_item_ids=seen), rows)
    return movielens.metrics_row(scores), throughput, in_process, saved, saved_batched, litert


def cycled(values, count):
    """The first `count` values of `values` repeated."""
    return (values * (count // len(values) + 1))[:count]


def query_batches(queries, count=50):
    """`count` lists of `BATCH` queries, cycling through `queries`."""
    repeated = cycled(queries, count * BATCH)
    return [repeated[start:start + BATCH] for start in range(0, len(repeated), BATCH)]


PEERS = os.path.join(os.path.dirname(__file__), "peers")
# BENCHMARK-TARGETS' TFRS runs: (name, epochs, log-Q with accidental-hit removal).
TFRS_RUNS = (("TFRS 0.7.7 plain in-batch softmax, 3 epochs (peer)", 3, False),
             ("TFRS 0.7.7 log-Q + accidental hits, 10 epochs (peer)", 10, True))


def run_tfrs(split, items, seed, epochs, logq, python):
    """The peer on the same split: `(figures, train examples/s, top-100 query ms, the same traced)`, its lists
    scored here."""
    train, test_input, test_truth = split
    with tempfile.TemporaryDirectory() as directory:
        train[["USER_ID", "ITEM_ID"]].to_csv(os.path.join(directory, "train.csv"), index=False)
        test_input[["USER_ID", "ITEM_ID"]].to_csv(os.path.join(directory, "test_input.csv"), index=False)
        with open(os.path.join(directory, "catalog.txt"), "w") as handle:
            handle.write("\n".join(items["ITEM_ID"].astype(str)))
        completed = subprocess.run([python, os.path.join(PEERS, "tfrs_two_tower.py"), "--split", directory, "--epochs",
                                    str(epochs), "--seed", str(seed)] + (["--logq"] if logq else []), timeout=1800,
                                   capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
        if completed.returncode:
            raise SystemExit(f"The TFRS peer failed:\n{completed.stderr[-3000:]}")
        with open(os.path.join(directory, "tfrs.json")) as handle:
            peer = json.load(handle)
    truths = test_truth.astype({"USER_ID": str, "ITEM_ID": str}).groupby("USER_ID")["ITEM_ID"].agg(list)
    scores = ranking_metrics([peer["recommendations"][user] for user in truths.index], list(truths), ks=movielens.KS,
                             catalog_size=len(items))
    return (movielens.metrics_row(scores), peer["examples_per_second"], peer["query_ms"], peer["traced_query_ms"],
            peer["traced_batched_query_ms"])


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
    parser.add_argument("--peer", choices=["tfrs"], help="also run TensorFlow Recommenders on the same splits")
    parser.add_argument("--with-test-input", action="store_true",
                        help="train kerasts on the held-out users' input events too, as the TFRS peer does")
    parser.add_argument("--peer-python", default=os.path.join(os.path.dirname(__file__), "..", ".venv-peers", "bin",
                                                             "python"))
    args = parser.parse_args()
    splits, items = movielens.splits_for(args.data, args.seeds)
    print(f"{platform.machine()}, seeds {args.seeds}, {args.epochs} epochs, batch {args.batch_size}, dim {args.dim}, "
          f"history {args.history}, cosine / temperature {args.temperature}, Adam {args.learning_rate}\n")
    movielens.print_table_header(["model", "train examples/s", "top-100 query ms", "SavedModel top-100 query ms",
                                  "LiteRT top-100 query ms", f"ms a query, {BATCH} a call"])
    for name, logq in (("TwoTower, log-Q correction", True), ("TwoTower, no correction", False)):
        runs = [train_and_score(split, items, args, logq, seed) for split, seed in zip(splits, args.seeds)]
        print(f"| {name} | {statistics.median(run[1] for run in runs):,.0f} | "
              f"{statistics.median(run[2] for run in runs):.2f} | {statistics.median(run[3] for run in runs):.2f} | "
              f"{statistics.median(run[5] for run in runs):.3f} | "
              f"{statistics.median(run[4] for run in runs):.3f} (SavedModel) | "
              f"{movielens.mean_figures(run[0] for run in runs)} |", flush=True)
    if args.peer == "tfrs":
        for name, epochs, logq in TFRS_RUNS:
            runs = [run_tfrs(split, items, seed, epochs, logq, args.peer_python) for split, seed in zip(splits, args.seeds)]
            print(f"| {name} | {statistics.median(run[1] for run in runs):,.0f} | "
                  f"{statistics.median(run[2] for run in runs):.2f} (BruteForce; traced: "
                  f"{statistics.median(run[3] for run in runs):.2f}) | — | — | "
                  f"{statistics.median(run[4] for run in runs):.3f} (traced) | "
                  f"{movielens.mean_figures(run[0] for run in runs)} |", flush=True)
    if not args.skip_baselines:
        for name, _, figures in baseline_rows(splits, items):
            print(f"| {name} | — | — | — | — | — | {figures} |")


if __name__ == "__main__":
    main()
