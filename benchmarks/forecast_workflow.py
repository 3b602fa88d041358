"""The Forecast workflow on real data: its DeepAR against benchmarks/deepar.py, and AutoPredictor's choice
against every single algorithm on a held-out test period.

    .venv/bin/python benchmarks/forecast_workflow.py recipe [--epochs 10] [--seeds 0 1 2]
    .venv/bin/python benchmarks/forecast_workflow.py auto --dataset electricity|traffic|m3_monthly|m3_quarterly
        [--seeds 0] [--candidates deepar mlp ...] [--validation-windows 1 2 3]

`recipe`: the electricity protocol (benchmarks/electricity.py) through `train_predictor(algorithm=deepar)`
with 7 backtest windows of 24 h: its backtest model is trained on the same range with the same recipe and
seed as benchmarks/deepar.py, so the pooled ND and mean wQL over the nine deciles must match that script's
per seed. The workflow's own overhead is its wall time less the time spent in the forecasters' `fit` and
`predict_paths`, as a share of the `fit` time.

`auto`: the last test windows are held out. AutoPredictor chooses among DeepAR, the likelihood-head MLP,
NPTS, seasonal naive, ETS, ARIMA and Theta on backtest windows before them (data before the test only); then every candidate
is trained on all the data before the test and scored on it. Auto's pick is good when its test score is
the best single algorithm's, chosen in hindsight. AutoPredictor's three selections ("best": one algorithm;
"ensemble": the quantile average of the three best; "per_item": each series its own best) are chosen on
the validation windows and scored on the test, from the candidates' test paths; `--validation-windows`
chooses once per count of validation windows, beside the same test fits. M3 series are right-aligned on a
monthly (quarterly) grid, each ending where its in-sample part ends, so every series' test is its own
out-of-sample part.
Per-series sMAPE and MASE (their means) are printed next to the pooled ND and Average wQL, and then by
series level: the series cut into quintiles by the mean of their history before the test, each cell the mean
over its series of the median forecast's sMAPE / MASE (quintile 1 the lowest levels); with several seeds,
each cell's mean ± sd over the seeds follows.
"""

import argparse
import os
import sys
import time

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(__file__))
import electricity  # noqa: E402

import kerasts  # noqa: E402, F401 - first, to silence TensorFlow's start-up logging
from kerasts.evaluation import (backtest, backtest_origins, per_series_scores, score_backtest_paths,  # noqa: E402
                                scores_by_level, series_levels)
from kerasts.forecast import DatasetGroup, train_predictor  # noqa: E402
from kerasts.forecast.algorithms import AUTO_CANDIDATES, build_forecaster  # noqa: E402
from kerasts.forecast.ensemble import SELECTIONS, member_weights, quantile_average  # noqa: E402

DATA = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data")
DECILES = [f"0.{decile}" for decile in range(1, 10)]
# dataset: (horizon, test windows, validation windows)
PROTOCOLS = {"electricity": (24, 7, 2), "traffic": (24, 2, 1), "m3_monthly": (18, 1, 1), "m3_quarterly": (8, 1, 1),
             "m3_yearly": (6, 1, 1), "m3_other": (8, 1, 1)}


def electricity_table():
    values = electricity.load_values()
    hours = pd.date_range(electricity.START, periods=values.shape[1], freq="h")
    return pd.DataFrame({"item_id": np.repeat([f"client_{index:03d}" for index in range(values.shape[0])],
                                              values.shape[1]),
                         "timestamp": np.tile(hours, values.shape[0]), "target_value": values.reshape(-1)}), "H"


def traffic_table():
    wide = pd.read_csv(os.path.join(DATA, "traffic-pems-sf-963-2weeks",
                                    "traffic_pems_sf_963sensors_hourly_window336h.csv.gz"))
    wide["timestamp"] = pd.date_range("2008-01-06 17:00", periods=len(wide), freq="h")  # the source's hour index
    table = wide.drop(columns="timestamp_approx").melt(id_vars="timestamp", var_name="item_id",
                                                       value_name="target_value")
    return table, "H"


def m3_table(frequency):
    long = pd.read_csv(os.path.join(DATA, "m3-competition", f"m3_{frequency}.csv.gz"))
    # M3's "other" series have no calendar; a yearly grid gives them MASE's season of 1 and no seasonal lags.
    alias = {"monthly": "M", "quarterly": "Q", "yearly": "Y", "other": "Y"}[frequency]
    lengths = long.groupby("series_id")["t"].transform("max")
    # Right-aligned: every series ends at the same period, so each one's out-of-sample part is the last steps.
    end = pd.Period("2000-12", freq=alias)
    periods = [end - int(length - step) for step, length in zip(long["t"], lengths)]
    return pd.DataFrame({"item_id": long["series_id"], "timestamp": pd.PeriodIndex(periods).start_time,
                         "target_value": long["value"]}), alias


def load(dataset):
    if dataset == "electricity":
        return electricity_table()
    if dataset == "traffic":
        return traffic_table()
    return m3_table(dataset.split("_")[1])


class Timed:
    """Wraps a forecaster, adding up the seconds spent in its `fit` and `predict_paths`."""

    seconds = {"fit": 0.0, "predict": 0.0}

    def __init__(self, forecaster):
        self.forecaster = forecaster
        self.prediction_length = forecaster.prediction_length

    def __getattr__(self, name):
        return getattr(self.forecaster, name)

    def fit(self, panel, end=None):
        started = time.perf_counter()
        self.forecaster.fit(panel, end)
        Timed.seconds["fit"] += time.perf_counter() - started
        return self

    def predict_paths(self, *args, **kwargs):
        started = time.perf_counter()
        paths = self.forecaster.predict_paths(*args, **kwargs)
        Timed.seconds["predict"] += time.perf_counter() - started
        return paths


def pooled(forecasts):
    """ND of the median and mean wQL over the deciles, pooled over every series-window."""
    actual = forecasts["target_value"].to_numpy()
    total = np.nansum(np.abs(actual))
    losses = []
    for decile in range(1, 10):
        error = actual - forecasts[f"p{decile * 10}"].to_numpy()
        losses.append(2 * np.nansum(np.maximum(decile / 10 * error, (decile / 10 - 1) * error)) / total)
    return {"ND": np.nansum(np.abs(actual - forecasts["p50"].to_numpy())) / total, "mean_wQL": float(np.mean(losses))}


def recipe_check(arguments):
    import kerasts.forecast.algorithms as algorithms

    table, frequency = electricity_table()
    original = algorithms.build_forecaster

    def timed_build(*args, **kwargs):
        return Timed(original(*args, **kwargs))

    algorithms.build_forecaster = timed_build
    import kerasts.forecast.predictor as predictor_module

    predictor_module.build_forecaster = timed_build
    print("| seed | ND | mean wQL | workflow s | fit s | predict s | overhead, share of fit |")
    print("|---|---|---|---|---|---|---|")
    for seed in arguments.seeds:
        Timed.seconds.update(fit=0.0, predict=0.0)
        started = time.perf_counter()
        group = DatasetGroup(table, frequency=frequency)
        predictor = train_predictor(group, 24, algorithm={"name": "deepar", "config": {"epochs": arguments.epochs,
                                                                                        "seed": seed}},
                                    backtest_windows=7, forecast_types=DECILES, seed=seed, verbose=0)
        predictor.forecast()
        total = time.perf_counter() - started
        scores = pooled(predictor.backtest_forecasts)
        overhead = total - Timed.seconds["fit"] - Timed.seconds["predict"]
        print(f"| {seed} | {scores['ND']:.4f} | {scores['mean_wQL']:.4f} | {total:.1f} | {Timed.seconds['fit']:.1f} | "
              f"{Timed.seconds['predict']:.1f} | {overhead:.1f} s, {overhead / Timed.seconds['fit']:.1%} |", flush=True)


def auto_study(arguments):
    table, frequency = load(arguments.dataset)
    horizon, test_windows, validation_windows = PROTOCOLS[arguments.dataset]
    window_counts = arguments.validation_windows or [validation_windows]
    full = DatasetGroup(table, frequency=frequency)
    panel = full.panel(horizon)
    test_start = backtest_origins(panel.target.shape[1], horizon, test_windows)[0]
    before = table[pd.to_datetime(table["timestamp"]) < panel.timestamps[test_start]]
    # DeepAR, the MLP, NPTS, seasonal naive, and ETS, ARIMA, Theta (kerasts[stats]).
    candidates = tuple(arguments.candidates or AUTO_CANDIDATES)
    print(f"{arguments.dataset}: {panel.target.shape[0]} series x {panel.target.shape[1]} steps; horizon {horizon}, "
          f"{test_windows} test window(s), validation on {' / '.join(map(str, window_counts))} window(s)\n",
          flush=True)
    levels = [0.1, 0.5, 0.9]
    levels_before_test = series_levels(panel, test_start)
    by_seed = []
    for seed in arguments.seeds:
        settings = [{"name": name, "config": {"seed": seed}} if name == "deepar" else name for name in candidates]
        choosers = {}
        for windows in window_counts:
            started = time.perf_counter()
            choosers[windows] = train_predictor(DatasetGroup(before, frequency=frequency), horizon,
                                                backtest_windows=windows, seed=seed, verbose=0, candidates=settings)
            print(f"seed {seed}, {windows} validation window(s): validation backtest and the winner's refit "
                  f"{time.perf_counter() - started:.0f} s; pick {choosers[windows].algorithm}", flush=True)
        rows, test_paths = {}, {}
        for name, setting in zip(candidates, settings):
            started = time.perf_counter()
            forecaster = build_forecaster(setting, horizon, panel, test_start)
            scores, paths = backtest({name: forecaster}, panel, test_windows, quantiles=levels, seed=seed, fit=True,
                                     return_paths=True)
            test_paths[name] = paths[name]
            rows[name] = _test_row(scores.loc[name], time.perf_counter() - started)
            for windows, chooser in choosers.items():  # NaN where AutoPredictor left the candidate out
                rows[name][f"validation wQL, {windows} window(s)"] = chooser.leaderboard["Average wQL"].get(name)
        # AutoPredictor's selections, each chosen on the validation windows only, scored on the test.
        for windows, chooser in choosers.items():
            backtested = [name for name in candidates if name in chooser.leaderboard.index]
            board = chooser.leaderboard.loc[backtested, "Average wQL"]
            losses = chooser.item_losses.reindex(panel.series_ids)
            for selection in SELECTIONS:
                weights = member_weights(board, losses, selection).to_numpy()
                combined = [(test_paths[candidates[0]][window][0],
                             quantile_average([test_paths[name][window][1] for name in backtested], weights))
                            for window in range(test_windows)]
                label = f"auto: {selection}" + (f", {windows} window(s)" if len(window_counts) > 1 else "")
                if selection == "best":
                    label += f" ({board.astype(float).idxmin()})"
                rows[label] = _test_row(score_backtest_paths(label, panel, combined, levels).loc[label], np.nan)
                test_paths[label] = combined
        frame = pd.DataFrame(rows).T
        best = frame.loc[list(candidates), "test Average wQL"].idxmin()
        print(f"seed {seed}: best single on the test in hindsight: {best}")
        print(frame.to_string(float_format=lambda value: f"{value:.4f}") + "\n", flush=True)
        quintiles = scores_by_level(levels_before_test, {name: per_series_scores(panel, paths)
                                                         for name, paths in test_paths.items()})
        by_seed.append(quintiles)
        print(f"seed {seed}: per-series sMAPE and MASE of the median by level quintile (Q1 lowest)")
        print(quintiles.to_string(float_format=lambda value: f"{value:.3f}") + "\n", flush=True)
    if len(by_seed) > 1:
        stacked = pd.concat(by_seed, keys=range(len(by_seed)))
        means, spreads = stacked.groupby(level=1).mean(), stacked.groupby(level=1).std()
        print(f"Over seeds {arguments.seeds}: mean ± sd of each cell")
        print(pd.DataFrame({column: [f"{means.loc[name, column]:.3f} ± {spreads.loc[name, column]:.3f}"
                                     for name in by_seed[0].index] for column in means.columns},
                           index=by_seed[0].index).to_string())


def _test_row(scores, seconds):
    mean = scores.loc["mean"]
    return {"test Average wQL": mean["mean_wQL"], "test ND": mean["ND"],
            "test sMAPE": mean["sMAPE"], "test MASE": mean["MASE"], "test coverage": mean["coverage_80"],
            "fit+predict s": seconds}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["recipe", "auto"])
    parser.add_argument("--dataset", default="electricity", choices=sorted(PROTOCOLS))
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--candidates", nargs="+", help="AutoPredictor's candidates (default: all)")
    parser.add_argument("--validation-windows", type=int, nargs="+",
                        help="AutoPredictor's backtest windows, one choice per count (default: the protocol's)")
    arguments = parser.parse_args()
    (recipe_check if arguments.mode == "recipe" else auto_study)(arguments)


if __name__ == "__main__":
    main()
