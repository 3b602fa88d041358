"""DeepAR on the electricity protocol, optionally side by side with GluonTS's torch DeepAR.

    .venv/bin/python benchmarks/deepar.py [--epochs 10] [--runs 3] [--peer gluonts]
        [--steps-per-execution 1] [--intra-op-threads N] [--peer-threads N] [--deepar '{"scaling": "std"}']

Both sides: 2 layers x 40 LSTM units, context 168, prediction 24, batch 32, 50 batches per epoch,
Student-t output, 100 sample paths, the same training range and the same 2,247 test windows. Prints,
per system and run (seed), then as medians over the runs: training windows/s (median over epochs
after the first), forecast seconds for 2,247 series x 100 paths x 24 h (median of 3 calls after a
warm-up), ND, mean wQL, rho-risk 0.5/0.9, peak RSS, and the per-series sMAPE and MASE of the median by
level quintile (Q1 the lowest; each series' mean over its 7 windows). The systems take turns run by run. The peer
runs in its own environment (`.venv-peers`, from benchmarks/requirements-peers.txt), in a separate
process. The last three flags are each system's speed settings (Keras's steps per `tf.function`
call; TensorFlow's and torch's intra-op thread counts); the defaults are the libraries' own.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(__file__))
import electricity  # noqa: E402
from spread import mean_and_spread  # noqa: E402

PEER_PYTHON = os.path.join(os.path.dirname(__file__), "..", ".venv-peers", "bin", "python")


def run_kerasts(values, epochs, seed, cell="lstm", steps_per_execution=1, batch_size=32, batches_per_epoch=50,
                settings=None):
    import kerasts  # first: it silences TensorFlow's start-up logging

    import keras

    panel = electricity.panel(values)
    train_end = values.shape[1] - electricity.TEST_WINDOWS * electricity.PREDICTION_LENGTH
    epoch_seconds = []

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            epoch_seconds.append(time.perf_counter() - self.started)

    # DeepARForecaster's recipe is GluonTS DeepAR's defaults (Adam 1e-3, gradients clipped at global
    # norm 10) with lags capped at half the training history; it is timed epoch by epoch here.
    forecaster = kerasts.models.DeepARForecaster(
        electricity.PREDICTION_LENGTH, electricity.CONTEXT_LENGTH, likelihood="student_t", cell=cell, num_layers=2,
        units=40, dropout=0.1, epochs=epochs, batches_per_epoch=batches_per_epoch, batch_size=batch_size, seed=seed,
        steps_per_execution=steps_per_execution, **(settings or {}))
    model = forecaster.fit(panel, train_end, callbacks=[EpochTimer()]).model  # a DeepAR or a DeepAREnsemble
    windows = forecaster.windows(panel, model.lags)
    windows_per_second = statistics.median(batches_per_epoch * batch_size / s for s in epoch_seconds[1:] or epoch_seconds)

    origins = electricity.test_origins(values.shape[1])
    series = np.repeat(np.arange(values.shape[0]), len(origins))
    origin_of_row = np.tile(origins, values.shape[0])
    inputs = windows.windows(series, origin_of_row, with_future_target=False)

    def forecast():
        return model.forecast(inputs, seed=seed)["samples"]

    forecast()  # trace once
    forecast_seconds, samples = [], None
    for _ in range(3):
        started = time.perf_counter()
        samples = forecast()
        forecast_seconds.append(time.perf_counter() - started)
    actuals = np.stack([values[row, origin:origin + electricity.PREDICTION_LENGTH]
                        for row, origin in zip(series, origin_of_row)])
    insample = np.stack([values[row, origin - 504:origin] for row, origin in zip(series, origin_of_row)])
    scores = electricity.pooled_scores(actuals, np.moveaxis(samples, 1, 0), insample)
    naive = kerasts.baselines.seasonal_naive_forecast(insample, electricity.PREDICTION_LENGTH, 24)
    naive_scores = electricity.pooled_scores(actuals, naive[None], insample)
    # Per-series sMAPE / MASE of the median by level quintile (the mean |y| before the test), as #23 asks.
    levels = np.abs(values[:, :train_end]).mean(axis=1)
    scores.update(electricity.level_scores(actuals, np.median(samples, axis=1), insample, levels))
    naive_scores.update(electricity.level_scores(actuals, naive, insample, levels))
    return {"windows/s": windows_per_second, "forecast s": statistics.median(forecast_seconds), **scores,
            "peak RSS MB": electricity.peak_rss_mb()}, naive_scores


def run_peer(name, data, epochs, seed, threads):
    script = os.path.join(os.path.dirname(__file__), "peers", f"{name}_deepar.py")
    if not os.path.exists(PEER_PYTHON):
        sys.exit(f"No peer environment at {PEER_PYTHON}: python3.11 -m venv .venv-peers && "
                 ".venv-peers/bin/pip install -r benchmarks/requirements-peers.txt")
    command = [PEER_PYTHON, script, "--data", data, "--epochs", str(epochs), "--seed", str(seed)]
    completed = subprocess.run(command + (["--threads", str(threads)] if threads else []), capture_output=True,
                               text=True)
    if completed.returncode != 0:
        sys.exit(f"The {name} run failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=electricity.DEFAULT_DATA)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cell", default="lstm")
    parser.add_argument("--peer", choices=["gluonts"])
    parser.add_argument("--steps-per-execution", type=int, default=1, help="Keras compile(steps_per_execution=)")
    parser.add_argument("--intra-op-threads", type=int,
                        help="TensorFlow's intra-op threads for the kerasts runs (default: TensorFlow's choice)")
    parser.add_argument("--peer-threads", type=int, help="torch's intra-op threads (default: torch's choice)")
    parser.add_argument("--deepar", default="{}", help="more DeepARForecaster settings as JSON (e.g. scaling)")
    arguments = parser.parse_args()
    if arguments.intra_op_threads:
        import kerasts  # noqa: F401 - first, to silence TensorFlow's start-up logging
        import tensorflow as tf  # then the setting, before TensorFlow runs anything: it is fixed at start-up

        tf.config.threading.set_intra_op_parallelism_threads(arguments.intra_op_threads)
    values = electricity.load_values(arguments.data)
    print(f"{values.shape[0]} series x {values.shape[1]} h, {arguments.epochs} epochs x 50 batches of 32; "
          f"{platform.machine()}, {os.cpu_count()} cores", flush=True)
    systems = {"kerasts DeepAR": lambda seed: run_kerasts(values, arguments.epochs, seed, arguments.cell,
                                                          arguments.steps_per_execution,
                                                          settings=json.loads(arguments.deepar))[0]}
    if arguments.peer:
        systems[f"{arguments.peer} DeepAR"] = lambda seed: run_peer(arguments.peer, arguments.data,
                                                                    arguments.epochs, seed, arguments.peer_threads)
    # The systems take turns run by run, so a slow spell on a shared machine hits both alike.
    # kerasts' runs share one process, so its RSS is the max over them; the peer's are separate.
    runs = {name: [] for name in systems}
    for seed in range(arguments.runs):
        for name, run in systems.items():
            runs[name].append(run(seed))
            print(f"{name}, run {seed}: {runs[name][-1]}", flush=True)
    # Seeds move ND and wQL by more than the systems differ: every figure is the median over runs.
    rows = {name: {metric: statistics.median(r[metric] for r in results) for metric in results[0]}
            for name, results in runs.items()}
    rows["seasonal naive (lag 24)"] = run_kerasts(values, 1, 0)[1] if "kerasts DeepAR" in rows else {}
    print(pd.DataFrame(rows).T.to_string(float_format=lambda value: f"{value:,.3f}"))
    print(f"\nAccuracy over {arguments.runs} runs, mean ± standard error:")
    for metric in ("ND", "mean_wQL", "coverage_80"):
        print(f"  {metric}: " + "; ".join(f"{name} {mean_and_spread((r[metric] for r in results), True)}"
                                          for name, results in runs.items()))


if __name__ == "__main__":
    main()
