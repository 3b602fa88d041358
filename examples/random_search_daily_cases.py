"""Random search of the LSTM point forecaster's width (n_a) and window (n_x) on daily case counts.

    .venv/bin/python examples/random_search_daily_cases.py [CSV] [--cutoff 2020-11-30] [--trials 20]
        [--epochs 100] [--cell lstm|nested_lstm] [--plot predictions.png] [--directory tuning]

CSV: a daily series with a date column and one count column (default: the Tokyo 2020 series in
../shared/data/covid19-japan-mhlw-daily/ when present, otherwise the same series bundled with
kerasts). Train on the days up to the cut-off, validate on the days after it: inputs min-max scaled
to [-1, 1] with the training part's statistics, windows of n_x days predicting the next day, an
LSTM of n_a units with a ReLU output, MSE, Adam 1e-3, gradients clipped to [-1, 1], early stopping
once the loss stops improving. n_a is drawn from 16..128 and n_x from 5..25; the pair with the
lowest validation MSE wins. Prints the pair and its validation MSE and plots one-day-ahead
predictions against the actual counts.
"""

import argparse
import os

import kerasts  # first, to silence TensorFlow's start-up logging

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from kerasts.data import load_tokyo_daily_cases  # noqa: E402
from kerasts.tuning import PointForecasterHyperModel, random_search  # noqa: E402

DEFAULT = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "covid19-japan-mhlw-daily",
                       "tokyo_daily_new_cases_2020.csv")


def load_series(path):
    if path is None:
        table = load_tokyo_daily_cases()
        return pd.Series(table["cases"].to_numpy(), index=table["date"]), "bundled Tokyo 2020 (MHLW)"
    table = pd.read_csv(path)
    if table.shape[1] < 2:
        raise SystemExit(f"{path}: expected a date column and a count column, found {list(table.columns)}")
    dates = pd.to_datetime(table.iloc[:, 0])
    return pd.Series(pd.to_numeric(table.iloc[:, 1]).to_numpy("float64"), index=dates), path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", nargs="?", default=DEFAULT if os.path.exists(DEFAULT) else None)
    parser.add_argument("--cutoff", default="2020-11-30", help="last training day")
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--cell", default="lstm", choices=kerasts.layers.recurrent_cell_names())
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", default="predictions.png")
    parser.add_argument("--directory", default="tuning")
    args = parser.parse_args()
    series, source = load_series(args.csv)
    cutoff = pd.Timestamp(args.cutoff)
    train, validation = series[series.index <= cutoff].to_numpy(), series[series.index > cutoff].to_numpy()
    if len(validation) == 0 or len(train) < 30:
        raise SystemExit(f"--cutoff {args.cutoff} leaves {len(train)} training and {len(validation)} validation days.")
    print(f"{source}: {len(train)} training days to {args.cutoff}, {len(validation)} validation days")

    hypermodel = PointForecasterHyperModel(cell=args.cell)
    result = random_search(hypermodel, train, validation, max_trials=args.trials, directory=args.directory,
                           project_name=f"daily_cases_{args.cell}", epochs=args.epochs, seed=args.seed,
                           overwrite=True, verbose=0)
    best = result.best_hyperparameters
    scaler, _, (x_val, y_val) = hypermodel.windows(best, train, validation)
    scaled = result.best_model.predict(x_val, verbose=0)[:, 0]
    predictions = scaler.inverse_transform(scaled)
    search_mse = result.tuner.oracle.get_best_trials(1)[0].score
    print(f"best n_a = {best.get('n_a')}, n_x = {best.get('n_x')} ({args.cell}): validation MSE {search_mse:.5f} "
          f"(scaled) in the search; the best pair refit from scratch: {np.mean((scaled - y_val) ** 2):.5f} "
          f"(scaled), MAE {np.mean(np.abs(predictions - validation)):,.1f} cases/day")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dates = series.index[series.index > cutoff]
    figure, axis = plt.subplots(figsize=(9, 3.5), constrained_layout=True)
    axis.plot(series.index[-90:], series.to_numpy()[-90:], color="black", label="actual")
    label = f"one day ahead (n_a={best.get('n_a')}, n_x={best.get('n_x')})"
    axis.plot(dates, predictions, color="tab:red", label=label)
    axis.axvline(cutoff, color="grey", linestyle=":")
    axis.set_ylabel("new cases")
    axis.legend()
    figure.savefig(args.plot, dpi=100)
    print(f"wrote {args.plot}")


if __name__ == "__main__":
    main()
