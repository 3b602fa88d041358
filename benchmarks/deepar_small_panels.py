"""DeepAR on small panels (three series): does capping its draws per distinct training window
(`max_draws_per_window`), or early stopping on a held-out last horizon (`early_stopping_patience`), keep it from
memorising them, or does widening its paths about their median by a factor fitted on a held-out horizon
(`--variant widened`) mend the intervals? Rules were fixed in benchmarks/RESULTS.md before their runs: for the cap,
the first ("Rule fixed before any run: capping DeepAR's draws per distinct window") on the exploratory sources and
the second ("The confirming rule") on fresh panels of sources where the cap acts; for early stopping, "Rule fixed
before any run: early stopping on small panels"; for the widening, "Rule fixed before any run: paths widened about
their median".

    .venv/bin/python benchmarks/deepar_small_panels.py run [--sources m3_monthly m3_quarterly sample covid_japan_2020]
        [--panels 10] [--seeds 0 1 2] [--draw-seed 0] [--settings '{"max_draws_per_window": 20}']
        [--variant capped] [--out runs/small_panels]
    .venv/bin/python benchmarks/deepar_small_panels.py summarize [--sources ...] [--variant capped]
        [--out runs/small_panels]
    # the confirming run:
    .venv/bin/python benchmarks/deepar_small_panels.py run --sources m3_monthly m3_other covid_japan_2020 \
        movielens_monthly --panels 6 --draw-seed 100 --out runs/small_panels_confirming
    # early stopping, on the same panels (their default runs are shared):
    .venv/bin/python benchmarks/deepar_small_panels.py run --sources m3_monthly m3_other covid_japan_2020 \
        movielens_monthly --panels 6 --draw-seed 100 --out runs/small_panels_confirming \
        --variant early_stopping --settings '{"early_stopping_patience": 5}'
    # paths widened about their median (the variant is the default recipe, so no --settings):
    .venv/bin/python benchmarks/deepar_small_panels.py run --sources m3_monthly m3_other covid_japan_2020 \
        movielens_monthly --panels 6 --draw-seed 100 --out runs/small_panels_confirming \
        --variant widened --settings '{}'

`run` draws, from each source, `--panels` panels of 3 series (numpy `default_rng(draw seed + the source's index in
SOURCES)`, 3 series without replacement among those with at least 3 x horizon observations), and backtests on each
the default DeepAR (the workflow's `deepar` algorithm) and the same with `--settings` on top (named `--variant`),
each with every seed (fitted once before the first test window); `--variant widened` is the default recipe
wrapped in `WidenedPaths`. Each run appends one row to `<out>/runs.csv` (pooled mean wQL, ND, Coverage[0.1-0.9]
averaged over windows; per-series mean sMAPE and MASE; epochs the last network trained) and its series to
`<out>/series.csv` (a widened run its factor to `<out>/widenings.csv`); runs already there are skipped, so an
interrupted run resumes. `summarize` prints, per source and variant, the means over panels and seeds, the seeds'
spread (sd over seeds of the per-seed means), the per-series sMAPE/MASE by level quintile (over all the source's
series and seeds), and the rule's verdict over `--sources`.

Sources and their protocols: M3 monthly (horizon 18), quarterly and other (8), the competition's last horizon as the
one test window; the bundled electricity sample (24 h, 3 windows); covid_japan_2020 (14 days, 4 windows);
movielens_monthly (12 months, 2 windows)."""

import argparse
import json
import os
import sys

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(__file__))
from deepar_levels import dataset_table, score  # noqa: E402

import kerasts  # noqa: E402, F401 - first, to silence TensorFlow's start-up logging
from kerasts.evaluation import backtest_origins, series_levels  # noqa: E402
from kerasts.evaluation.backtest import _before, predict_from_origins, window_arrays  # noqa: E402
from kerasts.protocols import Forecaster  # noqa: E402
from kerasts.forecast import DatasetGroup  # noqa: E402
from kerasts.forecast.algorithms import build_forecaster  # noqa: E402

SOURCES = {"m3_monthly": 1, "m3_quarterly": 1, "sample": 3, "covid_japan_2020": 4, "m3_other": 1,
           "movielens_monthly": 2}  # name: test windows
EXPLORATORY = ("m3_monthly", "m3_quarterly", "sample", "covid_japan_2020")  # the first rule's sources
SERIES_PER_PANEL = 3
# The widening factors `WidenedPaths` chooses from: 2^(k/8) for k = -16..32, a quarter to 16 (1 among them).
WIDENINGS = 2.0 ** (np.arange(-16, 33) / 8)
CALIBRATED_LEVELS = (0.1, 0.9)  # the 80% interval's ends; widening about the median leaves 0.5 as it is


def widen(paths, factor):
    """`paths` `(series, samples, steps)` moved away from (factor > 1) or toward their median, step by step."""
    median = np.median(paths, axis=1, keepdims=True)
    return median + factor * (paths - median)


def fitted_widening(paths, actuals, non_negative):
    """The factor of WIDENINGS whose widened paths (raised to zero if `non_negative`) have the least quantile loss
    at CALIBRATED_LEVELS on the recorded `actuals` `(series, steps)`, NaN where not recorded; ties go to the factor
    nearest 1, and with nothing recorded it is 1."""
    recorded = np.isfinite(actuals)
    if not recorded.any():
        return 1.0
    losses = []
    for factor in WIDENINGS:
        widened = widen(paths, factor)
        quantiles = np.quantile(np.maximum(widened, 0.0) if non_negative else widened, CALIBRATED_LEVELS, axis=1)
        errors = (actuals[None] - quantiles)[:, recorded]
        levels = np.asarray(CALIBRATED_LEVELS)[:, None]
        losses.append(np.maximum(levels * errors, (levels - 1) * errors).sum())
    losses = np.asarray(losses)
    best = np.flatnonzero(np.isclose(losses, losses.min(), rtol=1e-12, atol=0.0))
    return float(WIDENINGS[best[np.argmin(np.abs(np.log2(WIDENINGS[best])))]])


class WidenedPaths(Forecaster):
    """`forecaster`'s paths widened about their median by a factor fitted on a held-out horizon.

    `fit` first trains a copy of `forecaster` (same settings and seeds) on each series' data before its last
    `prediction_length` steps, forecasts those steps and picks the factor (`fitted_widening`), then trains
    `forecaster` itself as usual; `predict_paths` widens its paths by that factor. Medians, and so MASE and sMAPE,
    are `forecaster`'s own; only the spread about them changes."""

    def __init__(self, forecaster):
        super().__init__(forecaster.prediction_length)
        self.forecaster = forecaster
        self.factor = None

    def fit(self, panel, end=None):
        end = self.training_end(panel, end)
        horizon = self.prediction_length
        ends = np.minimum(panel.series_end_origins, end)
        origins = np.where(ends - horizon > horizon, ends - horizon, -1)
        if (origins > 0).any():
            trial = type(self.forecaster)(**self.forecaster.get_config())
            trial.fit(_before(panel, origins), end=int(origins.max()))
            seed = self.forecaster.seed or 0
            paths = predict_from_origins(trial, panel, origins, self.forecaster.num_samples, seed)
            actuals, _ = window_arrays(panel, origins, horizon)
            non_negative = panel.never_negative(int(origins.max()))
            self.factor = fitted_widening(paths[origins > 0], actuals[origins > 0], non_negative)
        else:
            self.factor = 1.0
        self.forecaster.fit(panel, end)
        self.history = self.forecaster.history
        return self

    def predict_paths(self, panel, origin=None, num_samples=None, seed=0):
        return widen(np.asarray(self.forecaster.predict_paths(panel, origin, num_samples, seed)), self.factor)


def draw_panels(name, draw_seed, count):
    """`count` panels of the source (a `TimeSeriesPanel` each, drawn with `default_rng(draw_seed)`), their
    horizon and test windows."""
    table, frequency, horizon, _ = dataset_table(name)
    observed = table.dropna(subset=["target_value"]).groupby("item_id").size()
    eligible = np.array(sorted(observed.index[observed >= 3 * horizon]))
    rng = np.random.default_rng(draw_seed)
    panels = []
    for _ in range(count):
        items = rng.choice(eligible, SERIES_PER_PANEL, replace=False)
        panels.append(DatasetGroup(table[table["item_id"].isin(items)], frequency=frequency).panel(horizon))
    return panels, horizon, SOURCES[name]


def run(arguments):
    os.makedirs(arguments.out, exist_ok=True)
    runs_path, series_path = os.path.join(arguments.out, "runs.csv"), os.path.join(arguments.out, "series.csv")
    done = set()
    if os.path.exists(runs_path):
        done = set(pd.read_csv(runs_path)[["source", "panel", "seed", "variant"]].itertuples(index=False, name=None))
    variants = {"default": {}, arguments.variant: json.loads(arguments.settings)}
    for name in arguments.sources:
        panels, horizon, windows = draw_panels(name, arguments.draw_seed + list(SOURCES).index(name), arguments.panels)
        for panel_index, panel in enumerate(panels):
            test_start = backtest_origins(panel.target.shape[1], horizon, windows)[0]
            for seed in arguments.seeds:
                for variant, settings in variants.items():
                    if (name, panel_index, seed, variant) in done:
                        continue
                    forecaster = build_forecaster({"name": "deepar", "config": {**settings, "seed": seed}}, horizon,
                                                  panel, test_start)
                    if variant == "widened":
                        forecaster = WidenedPaths(forecaster)
                    row, per_series, _ = score("deepar", forecaster, panel, windows, seed)
                    key = {"source": name, "panel": panel_index, "seed": seed, "variant": variant}
                    epochs = len(forecaster.history.epoch)
                    pd.DataFrame([{**key, **row, "epochs": epochs}]).to_csv(
                        runs_path, mode="a", header=not os.path.exists(runs_path), index=False)
                    if variant == "widened":
                        path = os.path.join(arguments.out, "widenings.csv")
                        pd.DataFrame([{**key, "widening": forecaster.factor}]).to_csv(
                            path, mode="a", header=not os.path.exists(path), index=False)
                    per_series = per_series.assign(level=series_levels(panel, test_start), **key)
                    per_series.reset_index().to_csv(series_path, mode="a", header=not os.path.exists(series_path),
                                                    index=False)
                    print(f"{name} panel {panel_index} seed {seed} {variant}: wQL {row['wQL']:.4f} coverage "
                          f"{row['coverage']:.3f} MASE {row['MASE']:.3f} epochs {epochs} ({row['seconds']:.0f} s)",
                          flush=True)


def summarize(arguments):
    key = ["source", "panel", "seed"]
    runs = pd.read_csv(os.path.join(arguments.out, "runs.csv"))
    runs = runs[runs["variant"].isin(["default", arguments.variant])]
    paired = runs.groupby(key)["variant"].transform("nunique") == 2  # an interrupted run's last half is left out
    runs = runs[paired]
    series = pd.read_csv(os.path.join(arguments.out, "series.csv"))
    series = series[series["variant"].isin(["default", arguments.variant])].merge(runs[key].drop_duplicates(), on=key)
    print(f"Panel-seed pairs with both variants: {runs.groupby('source').size().floordiv(2).to_dict()}")
    runs["coverage_gap"] = (runs["coverage"] - 0.8).abs()
    metrics = ["wQL", "coverage", "coverage_gap", "MASE", "sMAPE", "epochs", "seconds"]
    means = runs.groupby(["source", "variant"])[metrics].mean()
    seed_sd = runs.groupby(["source", "variant", "seed"])[metrics].mean().groupby(["source", "variant"]).std()
    print("Means over panels and seeds (coverage_gap = |Coverage[0.1-0.9] - 0.8|):")
    print(means.to_string(float_format=lambda value: f"{value:.4f}"))
    print("\nSeeds' spread (sd over seeds of each seed's mean over panels):")
    print(seed_sd[["wQL", "coverage_gap", "MASE", "sMAPE"]].to_string(float_format=lambda value: f"{value:.4f}"))
    print("\nPer-series sMAPE and MASE by level quintile (each source's series over its panels and seeds; Q1 lowest):")
    for name, frame in series.groupby("source"):
        distinct = frame.drop_duplicates("series").set_index("series")["level"]  # a series drawn twice counts once
        quintiles = pd.qcut(distinct.rank(method="first"), 5, labels=[f"Q{q}" for q in range(1, 6)])
        frame = frame.assign(quintile=frame["series"].map(quintiles))
        table = frame.groupby(["variant", "quintile"], observed=False)[["sMAPE", "MASE"]].mean().unstack("quintile")
        print(f"\n{name} ({frame['series'].nunique()} distinct series)")
        print(table.to_string(float_format=lambda value: f"{value:.3f}"))
    print(f"\nThe rule (on each source: {arguments.variant} lower on wQL and on coverage_gap at three decimals, "
          "MASE at most 1% higher):")
    adopted = True
    complete = [name for name in arguments.sources
                if {(name, "default"), (name, arguments.variant)} <= set(means.index)]
    for name in complete:
        default, variant = means.loc[(name, "default")], means.loc[(name, arguments.variant)]
        checks = {"wQL": round(variant["wQL"], 3) < round(default["wQL"], 3),
                  "coverage_gap": round(variant["coverage_gap"], 3) < round(default["coverage_gap"], 3),
                  "MASE": variant["MASE"] <= 1.01 * default["MASE"]}
        adopted &= all(checks.values())
        print(f"  {name}: " + ", ".join(f"{metric} {'holds' if held else 'fails'}" for metric, held in checks.items()))
    if len(complete) < len(arguments.sources):
        print("Verdict: none yet, not every source ran.")
    else:
        print(f"Verdict: {'adopt ' + arguments.variant if adopted else 'keep the defaults'}.")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["run", "summarize"])
    parser.add_argument("--sources", nargs="+", default=list(EXPLORATORY), choices=list(SOURCES),
                        help="the sources to run, or whose verdict to give")
    parser.add_argument("--draw-seed", type=int, default=0,
                        help="panels are drawn with default_rng(draw seed + the source's index in SOURCES)")
    parser.add_argument("--panels", type=int, default=10)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--settings", default='{"max_draws_per_window": 20}',
                        help="the variant's DeepAR settings, as JSON over the recipe's")
    parser.add_argument("--variant", default="capped", help="the name of the variant with --settings")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "runs", "small_panels"))
    arguments = parser.parse_args()
    run(arguments) if arguments.command == "run" else summarize(arguments)


if __name__ == "__main__":
    main()
