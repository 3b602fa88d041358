"""The peer of `benchmarks/two_tower.py`: TensorFlow Recommenders 0.7.7's two-tower retrieval model as its
tutorial and BENCHMARK-TARGETS build it (ids only, 32-d embeddings, Adagrad 0.1, batch 8,192, in-batch
softmax; with `--logq`, the log-Q correction and accidental-hit removal), run in the peers' environment
(`.venv-peers`, TF_USE_LEGACY_KERAS=1: TFRS 0.7.7 is written for tf-keras).

    .venv-peers/bin/python benchmarks/peers/tfrs_two_tower.py --split DIR [--epochs 10] [--logq] [--seed 42]

`DIR` holds the split `two_tower.py --peer tfrs` wrote: train.csv, test_input.csv (USER_ID, ITEM_ID) and
catalog.txt (one item id a line). A user-id model cannot embed a user it never saw, so it trains on the
training events and the held-out users' input events (as Personalize would: their history is in the
dataset); kerasts' two-tower trains on the training events only and reads the input as a history. Writes
DIR/tfrs.json: training examples per second (epochs after the first), the median milliseconds of one
top-100 query through TFRS's `BruteForce` index (called as the tutorial does, and inside a `tf.function`; also
per query with 32 users a call, traced), and each held-out user's top 100 over the catalog, their input items
left out.
"""

import argparse
import json
import os
import statistics
import time

os.environ["TF_USE_LEGACY_KERAS"] = "1"

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import tensorflow as tf  # noqa: E402
import tensorflow_recommenders as tfrs  # noqa: E402

QUERIES = 200
BATCH, BATCHES = 32, 50  # the batched timing: 50 calls of 32 users each


class TwoTower(tfrs.Model):
    def __init__(self, users, items, dim, logq):
        super().__init__()
        self.user_model = tf.keras.Sequential([tf.keras.layers.StringLookup(vocabulary=users, mask_token=None),
                                               tf.keras.layers.Embedding(len(users) + 1, dim)])
        self.item_model = tf.keras.Sequential([tf.keras.layers.StringLookup(vocabulary=items, mask_token=None),
                                               tf.keras.layers.Embedding(len(items) + 1, dim)])
        self.logq = logq
        self.task = tfrs.tasks.Retrieval(remove_accidental_hits=logq)

    def compute_loss(self, features, training=False):
        users, items = self.user_model(features["USER_ID"]), self.item_model(features["ITEM_ID"])
        if not self.logq:
            return self.task(users, items, compute_metrics=False)
        return self.task(users, items, candidate_sampling_probability=features["probability"],
                         candidate_ids=features["ITEM_ID"], compute_metrics=False)


class EpochTimer(tf.keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds = getattr(self, "seconds", []) + [time.perf_counter() - self.start]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", required=True)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=8192)
    parser.add_argument("--dim", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=0.1)
    parser.add_argument("--logq", action="store_true")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    tf.keras.utils.set_random_seed(args.seed)
    read = lambda name: pd.read_csv(os.path.join(args.split, name), dtype=str)  # noqa: E731
    test_input = read("test_input.csv")
    events = pd.concat([read("train.csv"), test_input], ignore_index=True)[["USER_ID", "ITEM_ID"]]
    with open(os.path.join(args.split, "catalog.txt")) as handle:
        catalog = handle.read().split()
    counts = events["ITEM_ID"].value_counts()
    probability = (events["ITEM_ID"].map(counts) / len(events)).astype("float32").to_numpy()
    model = TwoTower(sorted(events["USER_ID"].unique()), catalog, args.dim, args.logq)
    model.compile(optimizer=tf.keras.optimizers.Adagrad(args.learning_rate))
    data = tf.data.Dataset.from_tensor_slices({"USER_ID": events["USER_ID"].to_numpy(),
                                               "ITEM_ID": events["ITEM_ID"].to_numpy(), "probability": probability})
    data = data.shuffle(len(events), seed=args.seed, reshuffle_each_iteration=True).batch(args.batch_size).cache()
    timer = EpochTimer()
    model.fit(data, epochs=args.epochs, verbose=0, callbacks=[timer])
    throughput = len(events) / statistics.median(timer.seconds[1:] or timer.seconds)

    users = sorted(test_input["USER_ID"].unique())
    scores = model.user_model(tf.constant(users)).numpy() @ model.item_model(tf.constant(catalog)).numpy().T
    position = {item: index for index, item in enumerate(catalog)}
    for row, history in enumerate(test_input.groupby("USER_ID")["ITEM_ID"].agg(list).reindex(users)):
        scores[row, [position[item] for item in history if item in position]] = -np.inf
    best = np.argsort(-scores, axis=1, kind="stable")[:, :100]
    recommendations = {user: [catalog[index] for index in row] for user, row in zip(users, best)}

    index = tfrs.layers.factorized_top_k.BruteForce(model.user_model)
    index.index_from_dataset(tf.data.Dataset.from_tensor_slices(catalog).batch(1024).map(
        lambda ids: (ids, model.item_model(ids))))
    queries = [tf.constant([user]) for user in (users * (QUERIES // len(users) + 1))[:QUERIES]]
    traced = tf.function(lambda user: index(user, k=100))
    cycled = (users * (BATCHES * BATCH // len(users) + 1))[:BATCHES * BATCH]
    batches = [tf.constant(cycled[start:start + BATCH]) for start in range(0, len(cycled), BATCH)]
    with open(os.path.join(args.split, "tfrs.json"), "w") as handle:
        json.dump({"examples_per_second": throughput, "query_ms": _median_ms(lambda user: index(user, k=100), queries),
                   "traced_query_ms": _median_ms(traced, queries),
                   "traced_batched_query_ms": _median_ms(traced, batches) / BATCH,
                   "recommendations": recommendations}, handle)


def _median_ms(query, queries):
    """Median milliseconds of one query over `queries`, after one untimed call."""
    query(queries[0])
    latencies = []
    for user in queries:
        start = time.perf_counter()
        query(user)
        latencies.append(time.perf_counter() - start)
    return statistics.median(latencies) * 1000


if __name__ == "__main__":
    main()
