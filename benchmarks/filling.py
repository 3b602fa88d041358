"""Missing-value filling (#24): how the target's middle fill changes DeepAR and seasonal naive on data
with gaps.

    .venv/bin/python benchmarks/filling.py [--datasets sample m3_monthly electricity] [--seeds 0 1]
        [--missing 0.1]

Each dataset's protocol is `deepar_levels.py`'s. A share `--missing` of the training range's steps (before
the first test window) is removed in runs of 1 to 6 steps (seeded, the same gaps for every method), then
filled as Forecast's `middlefill` says: `nan` (left missing: the model sees no value there), `zero`
(Forecast's default), `mean` and `median` (of the series' own values), the filled steps masked out of the
loss (kerasts's default) or, for `zero, trained on`, trained on as if recorded. Every variant's forecasts
are scored against the complete data, next to the same forecasters fitted on the complete data ("no
gaps"): per-series sMAPE and MASE (means), OWA against Naive2 on the complete data, pooled ND and mean wQL.
"""

import argparse
import dataclasses
import os
import sys

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(__file__))
from deepar_levels import dataset_panel, score_paths  # noqa: E402

import kerasts  # noqa: E402, F401
from kerasts.baselines import Naive2, SeasonalNaive  # noqa: E402
from kerasts.data.filling import check_filling, fill_target  # noqa: E402
from kerasts.evaluation import backtest, backtest_origins  # noqa: E402
from kerasts.forecast.algorithms import build_forecaster  # noqa: E402
from kerasts.metrics import seasonality_for_frequency  # noqa: E402

QUANTILES = [round(0.1 * decile, 1) for decile in range(1, 10)]
VARIANTS = ("no gaps", "nan", "zero", "mean", "median", "zero, trained on")


def with_gaps(panel, end, share, seed):
    """The panel with runs of 1..6 steps removed before `end` until about `share` of those steps are gone."""
    random = np.random.default_rng(seed)
    target = panel.target.copy()
    series, length = target.shape
    removed, goal = 0, int(share * np.isfinite(target[:, :end]).sum())
    while removed < goal:
        row, start, run = random.integers(series), random.integers(1, end - 6), random.integers(1, 7)
        removed += int(np.isfinite(target[row, start:start + run]).sum())
        target[row, start:start + run] = np.nan
    return dataclasses.replace(panel, target=target)


def variant_panel(gappy, variant):
    if variant in ("nan", "zero", "mean", "median"):
        method = variant
    else:
        method = "zero"
    filling = check_filling({"target_value": {"middlefill": method, "backfill": "nan"}}, "target_value")
    target, filled = fill_target(gappy.target, filling["target_value"])
    return dataclasses.replace(gappy, target=target, filled=None if variant == "zero, trained on" else filled)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["sample", "m3_monthly", "electricity"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--missing", type=float, default=0.1)
    arguments = parser.parse_args()
    for name in arguments.datasets:
        complete, horizon, windows = dataset_panel(name)
        test_start = backtest_origins(complete.target.shape[1], horizon, windows)[0]
        season = seasonality_for_frequency(complete.frequency)
        gappy = with_gaps(complete, test_start, arguments.missing, seed=0)
        print(f"\n## {name}: {complete.target.shape[0]} series, horizon {horizon}, {windows} test window(s), "
              f"{np.isnan(gappy.target[:, :test_start]).mean() - np.isnan(complete.target[:, :test_start]).mean():.1%}"
              " of the training steps removed", flush=True)
        _, naive2_paths = backtest({"naive2": Naive2(season, prediction_length=horizon)}, complete, windows,
                                   quantiles=QUANTILES, fit=True, return_paths=True)
        naive2, _ = score_paths("naive2", complete, naive2_paths["naive2"])
        rows = {}
        for variant in VARIANTS:
            panel = complete if variant == "no gaps" else variant_panel(gappy, variant)
            makers = {"seasonal_naive": lambda seed: SeasonalNaive(season, prediction_length=horizon)}
            makers["deepar"] = lambda seed: build_forecaster({"name": "deepar", "config": {"seed": seed}}, horizon,
                                                             panel, test_start)
            for label, make in makers.items():
                seeds = arguments.seeds if label == "deepar" else [0]
                scores = []
                for seed in seeds:
                    _, paths = backtest({label: make(seed)}, panel, windows, quantiles=QUANTILES, seed=seed,
                                        fit=True, return_paths=True)
                    scores.append(score_paths(label, complete, paths[label], naive2)[0])
                row = pd.DataFrame(scores).mean()
                if len(seeds) > 1:
                    row["OWA sd"] = pd.DataFrame(scores)["OWA"].std()
                rows[(label, variant)] = row
                print(f"{label:15s} {variant:17s} sMAPE {row['sMAPE']:.3f} MASE {row['MASE']:.3f} OWA {row['OWA']:.3f}"
                      f" ND {row['ND']:.4f} wQL {row['wQL']:.4f}", flush=True)
        table = pd.DataFrame(rows).T.drop(columns="seconds")
        print(table.to_string(float_format=lambda value: f"{value:.4f}"), flush=True)


if __name__ == "__main__":
    main()
