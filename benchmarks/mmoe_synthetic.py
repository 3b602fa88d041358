"""MMoE against a shared-bottom model of the same size on the MMoE paper's synthetic tasks.

    .venv/bin/python benchmarks/mmoe_synthetic.py [--seeds 0 1 2 3 4 5 6 7 8 9] [--epochs 30]
        [--train-rows 10000] [--scale 1] [--num-sines 10] [--noise-std 0.1] [--num-experts 8]
        [--expert-units 16] [--learning-rate 1e-2] [--cosine-decay] [--integer-sines] [--save-runs FILE]
    .venv/bin/python benchmarks/mmoe_synthetic.py --from-runs FILE [FILE ...]

For each task correlation (0.5, 0.9, 1.0 unless `--correlations`) and seed: `synthetic_multitask` with 100
inputs, `--train-rows` training and 2,000 test rows (sine shapes drawn from N(0, 1), or with
`--integer-sines` Google Research's `alpha_j = 1..m`, `beta_j = j**2`); MMoE with `--num-experts` experts
of `--expert-units` units, linear gates and towers of 8; shared-bottom with one layer whose width gives
the nearest parameter count; both Adam at `--learning-rate` (cosine-decayed to zero over the run with
`--cosine-decay`), batch 256, the same epochs. Prints the MSE per task on the held-out test rows and on
the training rows (how well each model fits what it trained on, apart from over-fitting) as mean and
standard deviation over the seeds; then for each of the two, the paired gap (shared-bottom minus MMoE on
the same data and seed) as mean and standard error, and how that gap changes from the highest correlation,
paired by seed (a seed fixes the inputs, task 1's targets and the initial weights at every correlation).

Long studies: `--save-runs` appends every run to a file as it finishes; `--from-runs` reports the
seeds found complete in those files, so seed ranges trained by separate processes merge (on the
2-core VM two processes with `TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1` train 1.6 times as
many runs per hour as one process on both cores).
"""

import argparse
import json
import math
import platform

import kerasts  # noqa: F401 - first, to silence TensorFlow's start-up logging

import keras  # noqa: E402
import numpy as np  # noqa: E402

from kerasts.data import synthetic_multitask  # noqa: E402
from kerasts.models import MMoE, SharedBottom  # noqa: E402

from spread import mean_and_spread  # noqa: E402

DIM = 100
TEST_ROWS = 2_000
BATCH_SIZE = 256
TASKS = {"task_1": "regression", "task_2": "regression"}
SPLITS = ("test", "train")
FEATURES = {"x": {"type": "numeric", "size": DIM, "units": None}}
PER_INVOCATION = ("seeds", "correlations", "save_runs", "from_runs")  # the rest defines the study
STEPS_PER_EXECUTION = 25  # training steps per call into TensorFlow: less Python per step, same updates


def built(model):
    model({"x": np.zeros((1, DIM), "float32")})
    return model


def parameter_count(model):
    return built(model).count_params()


def shared_bottom(width):
    return SharedBottom(FEATURES, TASKS, bottom_units=(width,), tower_units=(8,))


def matched_shared_bottom(target):
    """The single-layer shared-bottom width whose parameter count is nearest `target`."""
    return min(range(8, 512), key=lambda width: abs(parameter_count(shared_bottom(width)) - target))


class Trainer:
    """One compiled model of an architecture, trained afresh for every run.

    Each run starts from the weights a new model would get under the run's seed, with the optimizer's
    step count and moments zeroed, so the training step is traced once per architecture rather than
    once per run (tracing took 2.4 s of a 6 s run on the 2-core VM).
    """

    def __init__(self, make, args):
        self.make = make
        self.epochs = args.epochs
        self.model = built(make())
        learning_rate = args.learning_rate
        if args.cosine_decay:
            steps = args.epochs * math.ceil(args.train_rows / BATCH_SIZE)
            learning_rate = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=steps)
        self.model.compile(kerasts.optimizers.Adam(learning_rate), steps_per_execution=STEPS_PER_EXECUTION)

    def restart(self, seed):
        keras.utils.set_random_seed(seed)
        self.model.set_weights(built(self.make()).get_weights())
        optimizer = self.model.optimizer
        for variable in optimizer.variables:
            if variable is not optimizer.learning_rate:  # the step count, first and second moments
                variable.assign(keras.ops.zeros_like(variable))

    def mse_per_task(self, data, seed):
        """Trains from the seed's start; the MSE per task on the training rows and the held-out test rows."""
        (x, y), (x_test, y_test) = data
        self.restart(seed)
        self.model.fit({"x": x}, y, epochs=self.epochs, batch_size=BATCH_SIZE, verbose=0)

        def mse(inputs, targets):
            predictions = self.model({"x": inputs})
            return [float(np.mean((keras.ops.convert_to_numpy(predictions[task])[:, 0] - targets[task]) ** 2))
                    for task in TASKS]

        return {"train": mse(x, y), "test": mse(x_test, y_test)}


def split(args, correlation, seed):
    sines = np.arange(args.num_sines)
    shapes = {"alphas": sines + 1, "betas": sines ** 2} if args.integer_sines else {}
    x, y = synthetic_multitask(args.train_rows + TEST_ROWS, DIM, correlation, num_sines=args.num_sines,
                               scale=args.scale, noise_std=args.noise_std, seed=seed, **shapes)
    train, test = slice(0, args.train_rows), slice(args.train_rows, None)
    return (x[train], {t: v[train] for t, v in y.items()}), (x[test], {t: v[test] for t, v in y.items()})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(10)))
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--correlations", type=float, nargs="+", default=[0.5, 0.9, 1.0])
    parser.add_argument("--train-rows", type=int, default=10_000)
    parser.add_argument("--scale", type=float, default=1.0, help="length c of the task weight vectors")
    parser.add_argument("--num-sines", type=int, default=10)
    parser.add_argument("--noise-std", type=float, default=0.1)
    parser.add_argument("--num-experts", type=int, default=8)
    parser.add_argument("--expert-units", type=int, default=16)
    parser.add_argument("--learning-rate", type=float, default=1e-2)
    parser.add_argument("--cosine-decay", action="store_true", help="decay the learning rate to zero over the run")
    parser.add_argument("--integer-sines", action="store_true",
                        help="sine shapes alpha_j = 1..m, beta_j = j**2 (Google Research's generator)")
    parser.add_argument("--save-runs", metavar="FILE", help="append each run's MSEs to FILE as JSON lines")
    parser.add_argument("--from-runs", metavar="FILE", nargs="+",
                        help="train nothing: report the runs saved in these files")
    args = parser.parse_args()
    if args.from_runs:
        report(load_runs(args.from_runs))
        return

    def make_mmoe():
        return MMoE(FEATURES, TASKS, num_experts=args.num_experts, expert_units=(args.expert_units,),
                    tower_units=(8,))

    mmoe_parameters = parameter_count(make_mmoe())
    width = matched_shared_bottom(mmoe_parameters)
    bottom_parameters = parameter_count(shared_bottom(width))
    trainers = {
        f"MMoE ({args.num_experts} x {args.expert_units})": Trainer(make_mmoe, args),
        f"shared-bottom ({width})": Trainer(lambda: shared_bottom(width), args),
    }
    print(f"{platform.machine()}, {vars(args)}; parameters: MMoE {mmoe_parameters:,}, "
          f"shared-bottom {bottom_parameters:,}\n", flush=True)
    settings = {key: value for key, value in vars(args).items() if key not in PER_INVOCATION}
    runs = {}
    for seed in args.seeds:  # seed by seed, so a study stopped early still reports whole seeds
        for correlation in args.correlations:
            data = split(args, correlation, seed)
            for name, trainer in trainers.items():
                run = trainer.mse_per_task(data, seed)
                runs.setdefault(correlation, {}).setdefault(name, {})[seed] = run
                if args.save_runs:
                    record = {"settings": settings, "correlation": correlation, "model": name, "seed": seed, **run}
                    with open(args.save_runs, "a") as file:
                        file.write(json.dumps(record) + "\n")
    report(runs)


def load_runs(paths):
    """Runs saved by `--save-runs` (several files merge, e.g. seed ranges trained in parallel)."""
    runs, settings = {}, None
    for path in paths:
        with open(path) as file:
            for line in file:
                run = json.loads(line)
                if settings is None:
                    settings = run["settings"]
                elif run["settings"] != settings:
                    raise ValueError(f"{path} holds runs of settings {run['settings']}, not {settings} as the "
                                     "first run read: report one study at a time")
                runs.setdefault(run["correlation"], {}).setdefault(run["model"], {})[run["seed"]] = run
    if not runs:
        raise ValueError(f"no runs in {', '.join(paths)}: nothing to report")
    return runs


def report(runs):
    """The per-model table and, per split, the paired gaps, over the seeds run for every cell."""
    seeds = sorted(set.intersection(*(set(by_seed) for models in runs.values() for by_seed in models.values())))
    print(f"{len(seeds)} seeds\n")
    print("| correlation | model | task 1 test MSE | task 2 test MSE | task 1 train MSE | task 2 train MSE |")
    print("|---|---|---|---|---|---|")
    gaps = {split_name: {} for split_name in SPLITS}
    for correlation in sorted(runs):
        for name, by_seed in runs[correlation].items():
            cells = [mean_and_spread(values) for split_name in SPLITS
                     for values in zip(*(by_seed[seed][split_name] for seed in seeds))]
            print(f"| {correlation} | {name} | " + " | ".join(cells) + " |")
        (mmoe,) = (by_seed for name, by_seed in runs[correlation].items() if name.startswith("MMoE"))
        (bottom,) = (by_seed for name, by_seed in runs[correlation].items() if name.startswith("shared-bottom"))
        for split_name in SPLITS:
            gaps[split_name][correlation] = [
                [b - m for b, m in zip(bottom[seed][split_name], mmoe[seed][split_name])] for seed in seeds]
    for split_name in SPLITS:
        print_gaps(gaps[split_name], split_name)


def print_gaps(gaps, split_name):
    """The paired gap per correlation, and its change from the highest correlation paired by seed."""
    print(f"\nPaired gap on the {split_name} rows, shared-bottom minus MMoE MSE (mean ± standard error over "
          "seeds; positive: MMoE better)\n")
    print(GAP_HEADER)
    for correlation, seed_gaps in gaps.items():
        print(gap_row(correlation, seed_gaps))
    # A seed gives the same inputs, task-1 targets and initial weights at every correlation, so the
    # change of the gap with the correlation can be paired by seed (data noise cancels; training's does not).
    reference = max(gaps)
    print(f"\nGap on the {split_name} rows at each correlation minus the gap at {reference}, paired by seed "
          "(mean ± standard error; positive: MMoE's advantage grows as the correlation falls)\n")
    print(GAP_HEADER)
    for correlation, seed_gaps in gaps.items():
        if correlation != reference:
            print(gap_row(correlation, [[gap - base for gap, base in zip(seed, base_seed)]
                                        for seed, base_seed in zip(seed_gaps, gaps[reference])]))


# The two tasks are equally hard (isotropic inputs, weight vectors of one length), so their mean per
# seed estimates the same effect with less of each task's noise.
GAP_HEADER = "| correlation | task 1 | task 2 | mean of the two |\n|---|---|---|---|"


def gap_row(correlation, seed_values):
    """A table row: mean ± standard error over seeds of task 1's value, task 2's and their mean."""
    columns = [*zip(*seed_values), [sum(seed) / len(seed) for seed in seed_values]]
    return f"| {correlation} | " + " | ".join(mean_and_spread(values, standard_error=True) for values in columns) + " |"


if __name__ == "__main__":
    main()
