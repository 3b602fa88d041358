"""ETS's, ARIMA's and Theta's sample paths with and without a bound on their spread (`StatisticalForecaster`'s
`spread_limit`: each step's standard deviation at most that many times the series' largest |value| before the
origin).

    .venv/bin/python benchmarks/statistical_spread.py [--datasets m3_quarterly covid_japan m3_monthly traffic
        electricity] [--methods ets theta arima] [--limits 3 1] [--extra-windows 3]

Each dataset's protocol is benchmarks/deepar_levels.py's, its backtest widened by `--extra-windows` earlier
windows (the origins a three-window validation before the test uses). Each method is fitted once per origin
(through the workflow's `build_forecaster`) and its paths drawn with no bound and with each limit, from the same
fit and seed, so a series the bound leaves alone has the same paths in every variant and every difference comes
from the bound series, which are counted (series-origins whose paths changed), as are those with an infinite
value (statsforecast's interval for a series with as many parameters as values: a variant with one has no
pooled scores, shown as inf, and its per-series sMAPE and MASE are the medians', finite where under half the
paths are infinite). Scores over all the origins: pooled ND and mean wQL over the deciles, 80% coverage, each
series' sMAPE and MASE of the median (their means, and by level quintile: the mean |y| before the first origin,
Q1 lowest). `limit c: rule` says whether the variant is at or below no bound on wQL, sMAPE and MASE to 4
significant digits (RESULTS.md, 2026-12-06's rule).
"""

import argparse
import os
import sys
import time

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(__file__))
from deepar_levels import DATASETS, dataset_panel, score_paths  # noqa: E402

import kerasts  # noqa: E402, F401 - first, to silence TensorFlow's start-up logging
from kerasts.baselines.statistical import METHODS  # noqa: E402
from kerasts.evaluation import per_series_scores, scores_by_level, series_backtest_origins, series_levels  # noqa: E402
from kerasts.evaluation.backtest import predict_from_origins  # noqa: E402
from kerasts.forecast.algorithms import build_forecaster  # noqa: E402


def fitted_once(forecaster):
    """`forecaster` whose statsforecast fit at an origin is kept, so each spread limit reuses it."""
    fits, fit = {}, forecaster._normal_forecast

    def by_origin(panel, origin):
        if origin not in fits:
            fits[origin] = fit(panel, origin)
        return fits[origin]

    forecaster._normal_forecast = by_origin
    return forecaster


def significant(value):
    return float(f"{value:.4g}")


def run(name, method, limits, extra_windows):
    panel, horizon, windows = dataset_panel(name)
    windows += extra_windows
    origins = series_backtest_origins(panel, horizon, windows)
    first_origin = origins[:, 0]
    forecaster = fitted_once(build_forecaster(method, horizon, panel, first_origin))
    rows, per_series, all_paths = {}, {}, {}
    started = time.perf_counter()
    for limit in (None, *limits):
        label = "no bound" if limit is None else f"limit {limit:g}"
        forecaster.spread_limit = limit
        # backtest's windows and seeds (window i: seed i), scored apart: paths with an infinite value (an interval
        # from zero degrees of freedom) leave the deciles undefined, which `backtest` refuses to score.
        paths = [(origins[:, index], predict_from_origins(forecaster, panel, origins[:, index], 100, index))
                 for index in range(windows)]
        all_paths[label] = paths
        try:
            rows[label], per_series[label] = score_paths(label, panel, paths)
        except ValueError as error:
            print(f"{label}: pooled scores undefined ({error}), shown as inf")
            per_series[label] = per_series_scores(panel, paths)  # of the medians, finite where under half the paths
            rows[label] = {"sMAPE": per_series[label]["sMAPE"].mean(), "MASE": per_series[label]["MASE"].mean(),
                           **{metric: np.inf for metric in ("ND", "wQL", "coverage", "seconds", "OWA")}}
        rows[label]["infinite"] = sum(int(np.isinf(values).any(axis=(1, 2)).sum()) for _, values in paths)
        rows[label]["bound"] = sum(  # series whose paths the limit changed (equal_nan: those not begun yet)
            int((~np.isclose(limited, free, rtol=0, atol=0, equal_nan=True)).any(axis=(1, 2)).sum())
            for (_, limited), (_, free) in zip(paths, all_paths["no bound"]))
    table = pd.concat([pd.DataFrame(rows).T.drop(columns=["seconds", "OWA"]),
                       scores_by_level(series_levels(panel, first_origin), per_series)], axis=1)
    print(f"\n## {name}, {method}: {panel.target.shape[0]} series, horizon {horizon}, {windows} windows "
          f"({time.perf_counter() - started:.0f} s)")
    print(table.to_string(float_format=lambda value: f"{value:.6g}"))
    free = rows["no bound"]
    for label in rows:
        if label != "no bound":
            changes = {metric: np.nan_to_num(significant(rows[label][metric]) - significant(free[metric]), nan=0.0)
                       for metric in ("wQL", "sMAPE", "MASE")}  # both infinite: equal
            verdict = ("below" if any(change < 0 for change in changes.values()) else "equal") if all(
                change <= 0 for change in changes.values()) else "ABOVE"
            print(f"{label}: rule {verdict}; wQL relative to no bound {rows[label]['wQL'] / free['wQL']:.6g}",
                  flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["m3_quarterly", "covid_japan", "m3_monthly", "traffic",
                                                          "electricity"], choices=DATASETS)
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--limits", nargs="+", type=float, default=[3, 1])
    parser.add_argument("--extra-windows", type=int, default=3)
    arguments = parser.parse_args()
    for name in arguments.datasets:
        for method in arguments.methods:
            run(name, method, arguments.limits, arguments.extra_windows)


if __name__ == "__main__":
    main()
