"""One process of the multi-worker tests: trains a tiny DeepAR, TwoTower, HRNN and MMoE and saves their losses
and weights. `python job.py worker INDEX PORTS OUT` is worker INDEX of the workers on 127.0.0.1:PORTS;
`python job.py mirrored - - OUT` is the reference, one process with two replicas (MirroredStrategy on two
logical CPUs), so the global batches and their split between replicas are the same."""

import os
import sys

os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
mode, index, ports, out = sys.argv[1:5]
if mode == "worker":
    from kerasts.distributed import multi_worker_strategy

    strategy = multi_worker_strategy([f"127.0.0.1:{port}" for port in ports.split(",")], int(index))
else:
    import kerasts.testing

    kerasts.testing.configure_logical_cpus(2)
    import tensorflow as tf

    from kerasts.testing.devices import logical_cpu_names

    strategy = tf.distribute.MirroredStrategy(logical_cpu_names()[:2],
                                              cross_device_ops=tf.distribute.ReductionToOneDevice())

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import kerasts  # noqa: E402
from kerasts.layers import Tower  # noqa: E402
from kerasts.models import HRNN, TwoTower  # noqa: E402

results = {}

# DeepAR through its recipe: windows drawn in the graph, 16 a global batch, 8 a replica.
panel = kerasts.data.align_target(kerasts.data.synthetic_forecast_table(4, 24 * 10, seed=0), "H")
forecaster = kerasts.models.DeepARForecaster(12, 24, units=8, num_layers=1, batch_shards=1, dropout=0.0, epochs=2,
                                             batches_per_epoch=4, batch_size=16, seed=0, num_networks=1)
with strategy.scope():
    forecaster.fit(panel)
results["deepar"] = forecaster.history.history["loss"], forecaster.model.trainable_weights

# TwoTower on string features, in-batch softmax within each replica's part of the batch.
items = [f"i{number}" for number in range(20)]
rng = np.random.default_rng(0)
first = rng.integers(0, 20, 256)
examples = {"query": {"HISTORY": tf.constant([f"i{a}|i{(a + 1) % 20}" for a in first])},
            "candidate": {"ITEM_ID": tf.constant([f"i{(a + 2) % 20}" for a in first])}}
keras.utils.set_random_seed(0)
with strategy.scope():
    model = TwoTower(Tower({"HISTORY": {"type": "multi_categorical", "vocabulary": items, "embedding_dim": 6}},
                           output_dim=8),
                     Tower({"ITEM_ID": {"type": "categorical", "vocabulary": items, "embedding_dim": 6}}, output_dim=8),
                     logq_correction=False)
    model.compile(kerasts.optimizers.Adam(0.05))
history = model.fit(tf.data.Dataset.from_tensor_slices(examples).batch(32), epochs=2, verbose=0)
results["two_tower"] = history.history["loss"], model.trainable_weights

# HRNN: session-parallel slots, each replica keeping the states of its share of them.
rng = np.random.default_rng(0)
session_start = (rng.random((8, 5)) < 0.3).astype("float32")
user_start = np.zeros((8, 5), "float32")
session_start[:, 0] = user_start[:, 0] = 1.0  # every row starts a user
inputs = {"items": rng.integers(1, 13, (8, 5)).astype("int32"), "session_start": session_start,
          "user_start": user_start}
targets = rng.integers(1, 13, (8, 5)).astype("int32")
keras.utils.set_random_seed(0)
with strategy.scope():
    hrnn = HRNN([f"i{number}" for number in range(1, 13)], units=8, embedding_dim=6, num_slots=8)
    hrnn.compile(kerasts.optimizers.Adam(0.01), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    hrnn(inputs)
history = hrnn.fit(inputs, targets, batch_size=8, epochs=3, verbose=0, shuffle=False)
with strategy.scope():
    stored, _ = hrnn.stored_states()
results["hrnn"] = history.history["loss"], hrnn.trainable_weights

# MMoE: two tasks over a numeric and a string feature.
rng = np.random.default_rng(0)
x = rng.normal(size=(64, 4)).astype("float32")
features = {"x": x, "job": tf.constant(np.array(["a", "b", "c", "zz"] * 16))}
labels = {"clicked": (x[:, :1] > 0).astype("float32"), "dwell": 2 * x[:, 1:2]}
keras.utils.set_random_seed(0)
with strategy.scope():
    mmoe = kerasts.models.MMoE({"x": {"type": "numeric", "size": 4, "units": None},
                                "job": {"type": "categorical", "vocabulary": ["a", "b", "c"], "embedding_dim": 3}},
                               {"clicked": "binary", "dwell": "regression"}, num_experts=3)
    mmoe.compile(kerasts.optimizers.Adam(0.01), loss={"clicked": "binary_crossentropy", "dwell": "mean_squared_error"})
history = mmoe.fit(tf.data.Dataset.from_tensor_slices((features, labels)).batch(16), epochs=2, verbose=0)
results["mmoe"] = history.history["loss"], mmoe.trainable_weights

arrays = {"hrnn_states": np.asarray(stored)}
for name, (losses, weights) in results.items():
    arrays[f"{name}_loss"] = np.asarray(losses)
    arrays.update({f"{name}_weight_{position}": keras.ops.convert_to_numpy(weight)
                   for position, weight in enumerate(weights)})
np.savez(out, **arrays)
