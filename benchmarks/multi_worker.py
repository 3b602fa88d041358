"""Two worker processes (MultiWorkerMirroredStrategy on 127.0.0.1) against one process with the same
global batch (#28): training examples per second for DeepAR and TwoTower, and the cost of the gradient
all-reduce per step.

    .venv/bin/python benchmarks/multi_worker.py [--runs 3] [--epochs 4]

DeepAR: the electricity protocol's network (2 x 40 LSTM, context 168, Student-t) on the electricity data,
a global batch of 32 windows, 50 batches an epoch. TwoTower: two towers over 5,000 items (history and item
id, 64-dim), a global batch of 1,024 synthetic examples, 50 batches an epoch. Examples/s is the median over
epochs after the first; the all-reduce is timed by itself, 50 calls on a tensor of the model's trainable
size, after training. Each run starts fresh processes; the runs alternate one process and two workers, and
the table gives medians over runs. On one 2-core machine two workers share the cores a single process
already uses, so little or no speed-up is expected: the point of multi-worker training is more machines.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def run_role(role, index, ports, epochs):
    """One process's measurements, printed as JSON on the last line."""
    if role == "worker":
        from kerasts.distributed import multi_worker_strategy

        strategy = multi_worker_strategy([f"127.0.0.1:{port}" for port in ports.split(",")], index)
    import keras
    import numpy as np
    import tensorflow as tf

    import kerasts
    from kerasts.layers import Tower
    from kerasts.models import TwoTower

    sys.path.insert(0, HERE)
    import electricity

    if role == "single":
        strategy = tf.distribute.get_strategy()
    seconds = {}

    class Timer(keras.callbacks.Callback):
        def __init__(self, name):
            super().__init__()
            self.name = name
            seconds[name] = []

        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            seconds[self.name].append(time.perf_counter() - self.started)

    values = electricity.load_values()
    forecaster = kerasts.models.DeepARForecaster(electricity.PREDICTION_LENGTH, electricity.CONTEXT_LENGTH,
                                                 epochs=epochs, batches_per_epoch=50, batch_size=32, seed=0)
    with strategy.scope():
        forecaster.fit(electricity.panel(values), values.shape[1] - 7 * 24, callbacks=[Timer("deepar")])
    deepar_size = sum(int(np.prod(weight.shape)) for weight in forecaster.model.trainable_weights)

    items = [f"i{number}" for number in range(5000)]
    rng = np.random.default_rng(0)
    first = rng.integers(0, 5000, 1024 * 50)
    examples = {"query": {"HISTORY": tf.constant([f"i{a}|i{(a + 7) % 5000}" for a in first])},
                "candidate": {"ITEM_ID": tf.constant([f"i{(a + 1) % 5000}" for a in first])}}
    keras.utils.set_random_seed(0)
    with strategy.scope():
        model = TwoTower(Tower({"HISTORY": {"type": "multi_categorical", "vocabulary": items, "embedding_dim": 64}},
                               output_dim=64),
                         Tower({"ITEM_ID": {"type": "categorical", "vocabulary": items, "embedding_dim": 64}},
                               output_dim=64), logq_correction=False)
        model.compile(kerasts.optimizers.Adam(0.01))
    model.fit(tf.data.Dataset.from_tensor_slices(examples).batch(1024).prefetch(2), epochs=epochs, verbose=0,
              callbacks=[Timer("two_tower")])
    two_tower_size = sum(int(np.prod(weight.shape)) for weight in model.trainable_weights)

    result = {"deepar windows/s": 50 * 32 / statistics.median(seconds["deepar"][1:]),
              "two_tower examples/s": 50 * 1024 / statistics.median(seconds["two_tower"][1:])}
    if role == "worker":
        for name, size in (("deepar", deepar_size), ("two_tower", two_tower_size)):
            @tf.function
            def all_reduce(size=size):
                return strategy.run(lambda: tf.distribute.get_replica_context().all_reduce("SUM", tf.ones([size])))

            all_reduce()
            started = time.perf_counter()
            for _ in range(50):
                all_reduce()
            result[f"{name} all-reduce ms/step"] = (time.perf_counter() - started) / 50 * 1000
    print(json.dumps(result), flush=True)


def launch(role, epochs):
    from kerasts.testing import free_local_ports

    script = os.path.abspath(__file__)
    if role == "single":
        commands = [[sys.executable, script, "--role", "single", "--epochs", str(epochs)]]
    else:
        ports = ",".join(map(str, free_local_ports(2)))
        commands = [[sys.executable, script, "--role", "worker", "--index", str(index), "--ports", ports, "--epochs",
                     str(epochs)] for index in range(2)]
    processes = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
                 for command in commands]
    outputs = [process.communicate(timeout=1800)[0] for process in processes]
    if any(process.returncode for process in processes):
        raise RuntimeError(f"a {role} process failed: {outputs}")
    return json.loads(outputs[0].strip().splitlines()[-1])  # worker 0 speaks for the job (same steps)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--role", choices=["single", "worker"])
    parser.add_argument("--index", type=int, default=0)
    parser.add_argument("--ports")
    arguments = parser.parse_args()
    if arguments.role:
        return run_role(arguments.role, arguments.index, arguments.ports, arguments.epochs)
    runs = {"one process": [], "two workers": []}
    for run in range(arguments.runs):
        for name, role in (("one process", "single"), ("two workers", "worker")):
            runs[name].append(launch(role, arguments.epochs))
            print(f"run {run}, {name}: {runs[name][-1]}", flush=True)
    print(f"\nMedians over {arguments.runs} runs, {os.cpu_count()} cores:")
    for name, results in runs.items():
        print(f"  {name}: " + ", ".join(f"{metric} {statistics.median(r[metric] for r in results):,.1f}"
                                        for metric in results[0]))


if __name__ == "__main__":
    main()
