"""MMoE against a shared-bottom model of the same size on the MMoE paper's synthetic tasks.

    .venv/bin/python benchmarks/mmoe_synthetic.py [--seeds 0 1 2 3 4 5 6 7 8 9] [--epochs 30]

For each task correlation (0.5, 0.9, 1.0) and seed: `synthetic_multitask` with 100 inputs,
10,000 training and 2,000 test rows; MMoE with 8 experts of 16 units, linear gates and towers of 8;
shared-bottom with one layer whose width gives the nearest parameter count; both Adam 1e-2, batch
256, the same epochs. Prints the test MSE per task as mean and standard deviation over the seeds.
"""

import argparse
import platform
import statistics

import kerasts  # noqa: F401 - first, to silence TensorFlow's start-up logging

import keras  # noqa: E402
import numpy as np  # noqa: E402

from kerasts.data import synthetic_multitask  # noqa: E402
from kerasts.models import MMoE, SharedBottom  # noqa: E402

DIM = 100
TASKS = {"task_1": "regression", "task_2": "regression"}
FEATURES = {"x": {"type": "numeric", "size": DIM, "units": None}}


def parameter_count(model):
    model({"x": np.zeros((1, DIM), "float32")})
    return model.count_params()


def matched_shared_bottom(target):
    """The single-layer shared-bottom width whose parameter count is nearest `target`."""
    return min(range(8, 512), key=lambda width: abs(parameter_count(
        SharedBottom(FEATURES, TASKS, bottom_units=(width,), tower_units=(8,))) - target))


def test_mse(make, x, y, x_test, y_test, epochs, seed):
    keras.utils.set_random_seed(seed)
    model = make()
    model.compile(keras.optimizers.Adam(1e-2), loss={task: "mse" for task in TASKS})
    model.fit({"x": x}, y, epochs=epochs, batch_size=256, verbose=0)
    predictions = {task: keras.ops.convert_to_numpy(value) for task, value in model({"x": x_test}).items()}
    return [float(np.mean((predictions[task][:, 0] - y_test[task]) ** 2)) for task in TASKS]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(10)))
    parser.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args()
    mmoe_parameters = parameter_count(MMoE(FEATURES, TASKS, num_experts=8, expert_units=(16,), tower_units=(8,)))
    width = matched_shared_bottom(mmoe_parameters)
    bottom_parameters = parameter_count(SharedBottom(FEATURES, TASKS, bottom_units=(width,), tower_units=(8,)))
    models = {
        "MMoE (8 x 16)": lambda: MMoE(FEATURES, TASKS, num_experts=8, expert_units=(16,), tower_units=(8,)),
        f"shared-bottom ({width})": lambda: SharedBottom(FEATURES, TASKS, bottom_units=(width,), tower_units=(8,)),
    }
    print(f"{platform.machine()}, seeds {args.seeds}, {args.epochs} epochs; parameters: MMoE {mmoe_parameters:,}, "
          f"shared-bottom {bottom_parameters:,}\n")
    print("| correlation | model | task 1 test MSE | task 2 test MSE |")
    print("|---|---|---|---|")
    for correlation in (0.5, 0.9, 1.0):
        for name, make in models.items():
            runs = []
            for seed in args.seeds:
                x, y = synthetic_multitask(12_000, DIM, correlation, seed=seed)
                train, test = slice(0, 10_000), slice(10_000, None)
                runs.append(test_mse(make, x[train], {t: v[train] for t, v in y.items()}, x[test],
                                     {t: v[test] for t, v in y.items()}, args.epochs, seed))
            cells = [f"{statistics.mean(values):.3f} ± {statistics.stdev(values) if len(values) > 1 else 0:.3f}"
                     for values in zip(*runs)]
            print(f"| {correlation} | {name} | {cells[0]} | {cells[1]} |", flush=True)


if __name__ == "__main__":
    main()
