"""NestedLSTM(u, depth=2) against a two-layer stacked keras.layers.LSTM(u) with the same parameter count.

    .venv/bin/python benchmarks/nested_lstm.py [--runs 3] [--epochs 5] [--data PATH/ETTh1.csv]

Throughput: sequences/s training on the same random data (length 48, 1 feature, batch 64), median
of `--runs` epochs after a warm-up epoch, for u in 32 and 128. Accuracy: one-step-ahead forecasting
of ETTh1's oil temperature (OT, hourly, standardised on the training part), windows of 48 hours,
first 70% train / next 10% validation, the same epochs for both; validation MSE (lower is better).
The two models do the same arithmetic per step: 4u(d + u + 1) + 4u(2u + 1) parameters each.
"""

import argparse
import os
import platform
import statistics
import time

import numpy as np
import pandas as pd

import kerasts  # noqa: F401 - first, to silence TensorFlow's start-up logging

import keras  # noqa: E402

from kerasts.layers import NestedLSTM  # noqa: E402

DEFAULT_DATA = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "ett-small-hourly", "ETTh1.csv")
LENGTH = 48


def build(kind, units):
    layers = ([NestedLSTM(units, depth=2)] if kind == "nested" else
              [keras.layers.LSTM(units, return_sequences=True), keras.layers.LSTM(units)])
    return keras.Sequential([keras.Input((LENGTH, 1)), *layers, keras.layers.Dense(1)])


def throughput(kind, units, runs):
    generator = np.random.default_rng(0)
    x = generator.normal(size=(64 * 40, LENGTH, 1)).astype("float32")
    y = generator.normal(size=(64 * 40, 1)).astype("float32")
    model = build(kind, units)
    model.compile("adam", loss="mse")
    model.fit(x, y, batch_size=64, epochs=1, verbose=0)  # trace
    rates = []
    for _ in range(runs):
        started = time.perf_counter()
        model.fit(x, y, batch_size=64, epochs=1, verbose=0)
        rates.append(len(x) / (time.perf_counter() - started))
    return statistics.median(rates), model.count_params()


def validation_mse(kind, units, epochs, series):
    split, valid_end = int(0.7 * len(series)), int(0.8 * len(series))
    standardised = (series - series[:split].mean()) / series[:split].std()
    windows = np.lib.stride_tricks.sliding_window_view(standardised, LENGTH + 1)
    train = windows[:split - LENGTH]
    valid = windows[split - LENGTH:valid_end - LENGTH]
    keras.utils.set_random_seed(0)
    model = build(kind, units)
    model.compile(kerasts.optimizers.Adam(1e-3), loss="mse")
    model.fit(train[:, :LENGTH, None], train[:, LENGTH:], batch_size=64, epochs=epochs, verbose=0)
    return float(model.evaluate(valid[:, :LENGTH, None], valid[:, LENGTH:], verbose=0))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=DEFAULT_DATA)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=5)
    arguments = parser.parse_args()
    print(f"{platform.machine()}, {os.cpu_count()} cores")
    series = pd.read_csv(arguments.data)["OT"].to_numpy(dtype="float32")
    rows = []
    for units in (32, 128):
        for kind, label in (("stacked", "stacked LSTM x2"), ("nested", "NestedLSTM depth 2")):
            rate, parameters = throughput(kind, units, arguments.runs)
            row = {"units": units, "model": label, "parameters": parameters, "sequences/s": rate}
            if units == 32:
                row["ETTh1 OT validation MSE"] = validation_mse(kind, units, arguments.epochs, series)
            rows.append(row)
            print(row, flush=True)
    table = pd.DataFrame(rows)
    for units in (32, 128):
        block = table[table["units"] == units]
        ratio = block["sequences/s"].iloc[1] / block["sequences/s"].iloc[0]
        print(f"u={units}: NestedLSTM throughput = {ratio:.2f}x the stacked LSTM's")
    print(table.to_string(index=False, float_format=lambda value: f"{value:,.4f}"))


if __name__ == "__main__":
    main()
