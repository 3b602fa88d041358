"""Past-only covariates (#24): does DeepAR gain from a related series known only up to the forecast start?

    .venv/bin/python benchmarks/past_covariates.py [--datasets covid_japan electricity] [--seeds 0 1 2]

Each dataset's protocol is `deepar_levels.py`'s (covid_japan: 47 prefectures' daily new cases, 4 windows
of 14 days; electricity: 321 clients, 7 windows of 24 h). The past-only covariate is the aggregate of
all series, log(1 + total): the national case count for a prefecture, the grid's load for a client. It
is known the day it happens, never ahead, so it can only be a past-only covariate (a known one would
leak the future). DeepAR with the workflow's defaults, with and without it, seeds as given: per-series
sMAPE and MASE (means), OWA against Naive2, pooled ND and mean wQL, each the mean over seeds with the
OWA's standard deviation; then per-series sMAPE and MASE by level quintile (Q1 lowest; each series'
scores averaged over the seeds), Naive2's beside them.
"""

import argparse
import os
import sys

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(__file__))
from deepar_levels import dataset_panel, score  # noqa: E402

import kerasts  # noqa: E402, F401
from kerasts.baselines import Naive2  # noqa: E402
from kerasts.evaluation import backtest_origins, scores_by_level, series_levels  # noqa: E402
from kerasts.forecast.algorithms import build_forecaster  # noqa: E402
from kerasts.metrics import seasonality_for_frequency  # noqa: E402


def with_aggregate(panel):
    total = np.nansum(panel.target, axis=0)
    past = np.broadcast_to(np.log1p(np.maximum(total, 0))[None, :, None], panel.target.shape + (1,))
    return panel.with_related(past_covariates=past, past_covariate_names=["log_total"])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["covid_japan", "electricity"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    arguments = parser.parse_args()
    for name in arguments.datasets:
        panel, horizon, windows = dataset_panel(name)
        test_start = backtest_origins(panel.target.shape[1], horizon, windows)[0]
        season = seasonality_for_frequency(panel.frequency)
        print(f"\n## {name}: {panel.target.shape[0]} series, horizon {horizon}, {windows} test window(s)", flush=True)
        naive2, naive2_series, _ = score("naive2", Naive2(season, prediction_length=horizon), panel, windows, 0)
        rows, per_series = {}, {"naive2": naive2_series}
        for variant, data in (("without", panel), ("with the aggregate, past-only", with_aggregate(panel))):
            scores, series_scores = [], []
            for seed in arguments.seeds:
                forecaster = build_forecaster({"name": "deepar", "config": {"seed": seed}}, horizon, data, test_start)
                row, by_series, _ = score("deepar", forecaster, data, windows, seed, naive2)
                scores.append(row)
                series_scores.append(by_series)
                print(f"{variant}, seed {seed}: OWA {scores[-1]['OWA']:.3f} ND {scores[-1]['ND']:.4f} "
                      f"wQL {scores[-1]['wQL']:.4f}", flush=True)
            frame = pd.DataFrame(scores)
            rows[variant] = {**frame.mean().drop("seconds"), "OWA sd": frame["OWA"].std()}
            per_series[variant] = sum(series_scores) / len(series_scores)
        print(pd.DataFrame(rows).T.to_string(float_format=lambda value: f"{value:.4f}"), flush=True)
        levels = scores_by_level(series_levels(panel, test_start), per_series)
        print(levels.to_string(float_format=lambda value: f"{value:.3f}"), flush=True)


if __name__ == "__main__":
    main()
