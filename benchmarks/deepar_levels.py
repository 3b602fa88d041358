"""DeepAR on data it was not tuned for: per-series sMAPE and MASE by series level, OWA against Naive2, and
the spread over seeds, next to the pooled ND and wQL (#23).

    .venv/bin/python benchmarks/deepar_levels.py [--datasets m3_yearly m3_quarterly m3_monthly m3_other
        electricity traffic sample] [--seeds 0 1 2 3 4] [--deepar '{"sampling": "uniform"}'] [--theta]
        [--samples 100] [--algorithm mlp] [--windows 1] [--series 40]

Each dataset's protocol (benchmarks/forecast_workflow.py's): M3, its competition horizons (6 yearly, 8 quarterly and
other, 18 monthly), the out-of-sample part as the one test window; electricity (321 series) and the bundled sample
(11 of them), 7 daily windows of 24 h; traffic (963 sensors), 2 of 24 h. Not in the default list: covid_japan (daily
new cases of 47 prefectures, counts from 0 to tens of thousands), 4 windows of 14 days, and covid_japan_2020 (its
first year only: half the days zero); movielens_monthly (monthly rating counts of the 450 most rated movies of
MovieLens-latest-small, 72% zeros) and movielens_monthly_next (the next 450, 85% zeros), 2 windows of 12 months;
traffic_rates (traffic with its 4 exact zeros missing, so every occupancy lies inside (0, 1)); retail_synthetic
(benchmarks/forecaster_scale.py's panel: 250 items' daily counts over two years, 40% new items), 1 window of 28
days; m3_monthly_calendar and m3_quarterly_calendar (M3 on each series' own calendar from its start year and period,
1857-2005: ragged, so every series is backtested from its own end, `origin="series_end"`; a start year of 0 read as
1990). `--windows N` keeps only the last N test windows, `--series N` a draw of N series (seeded, the same every
run). Every forecaster is fitted once on the data before the first test window (`backtest(fit=True)`), DeepAR
through the workflow's `deepar` algorithm (its context default and `DeepARForecaster`'s recipe) with `--deepar`'s
settings on top, forecasting `--samples` paths (`--algorithm mlp`: the likelihood-head MLP through the workflow's
`mlp` algorithm instead, the same flags; `ets`, `arima` or `theta`: statsforecast's, whose point forecasts do not
depend on the seed). Scores: each series' sMAPE and MASE of the median (its mean over windows), their means over
series and by level quintile (the mean |y| before the test; Q1 lowest), OWA = mean of sMAPE and MASE each relative
to Naive2's, and the pooled ND and mean wQL over 0.1..0.9 (of `backtest`). Seasonal naive and Naive2 are
deterministic; `--theta` adds statsforecast's Theta (slow on electricity and traffic). With several seeds, "deepar,
seeds pooled" scores the seeds' networks as one ensemble: their sample paths pooled."""

import argparse
import dataclasses
import json
import os
import statistics
import sys
import time

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(__file__))
from forecast_workflow import DATA, PROTOCOLS, load  # noqa: E402
from forecaster_scale import synthetic_sales  # noqa: E402

import kerasts  # noqa: E402, F401 - first, to silence TensorFlow's start-up logging
from kerasts.baselines import Naive2, SeasonalNaive  # noqa: E402
from kerasts.baselines.statistical import METHODS  # noqa: E402
from kerasts.data.bundled import load_electricity_sample  # noqa: E402
from kerasts.evaluation import (backtest, per_series_scores, score_backtest_paths, scores_by_level,  # noqa: E402
                                series_backtest_origins, series_levels)
from kerasts.forecast import DatasetGroup  # noqa: E402
from kerasts.forecast.algorithms import NEURAL_ALGORITHMS, build_forecaster  # noqa: E402
from kerasts.metrics import owa, seasonality_for_frequency  # noqa: E402

DATASETS = ("m3_yearly", "m3_quarterly", "m3_monthly", "m3_other", "sample", "electricity", "traffic", "covid_japan",
            "covid_japan_2020", "movielens_monthly", "movielens_monthly_next", "traffic_rates", "retail_synthetic",
            "m3_monthly_calendar", "m3_quarterly_calendar")
DEFAULT_DATASETS = DATASETS[:7]
QUANTILES = [round(0.1 * decile, 1) for decile in range(1, 10)]


def covid_japan_table():
    """Daily new COVID-19 cases of Japan's 47 prefectures, 2020-01-16 .. 2023-01-13 (MHLW): counts from
    zero to tens of thousands."""
    wide = pd.read_csv(os.path.join(DATA, "covid19-japan-mhlw-daily", "newly_confirmed_cases_daily.csv"),
                       encoding="utf-8-sig").drop(columns="ALL")
    table = wide.melt(id_vars="Date", var_name="item_id", value_name="target_value")
    return table.assign(timestamp=pd.to_datetime(table.pop("Date"), format="%Y/%m/%d"))


def movielens_monthly_table(movies=slice(0, 450)):
    """Monthly rating counts of MovieLens-latest-small's movies ranked `movies` by their number of ratings
    (the 450 most rated by default), each from the month of its first rating (zero in months without one):
    low, intermittent counts (the 450 most rated: 72% zeros, mean 0.41 a month; ranks 451-900: 85%, 0.19)."""
    ratings = pd.read_csv(os.path.join(DATA, "movielens-latest-small", "ratings.csv"))
    ratings = ratings[ratings["movieId"].isin(ratings["movieId"].value_counts().index[movies])]
    months = pd.to_datetime(ratings["timestamp"], unit="s").dt.to_period("M")
    counts = ratings.groupby([ratings["movieId"], months]).size().unstack(fill_value=0)
    counts = counts.reindex(columns=pd.period_range(months.min(), months.max(), freq="M"), fill_value=0)
    table = counts.stack().rename("target_value").reset_index()
    table.columns = ["item_id", "month", "target_value"]
    table = table[table["month"] >= table["item_id"].map(months.groupby(ratings["movieId"]).min())]
    return pd.DataFrame({"item_id": "movie_" + table["item_id"].astype(str), "timestamp": table["month"].dt.start_time,
                         "target_value": table["target_value"].astype(float)})


def m3_calendar_table(frequency):
    """M3 on each series' own calendar (its start year and period; the source's year 0 read as 1990)."""
    long = pd.read_csv(os.path.join(DATA, "m3-competition", f"m3_{frequency}.csv.gz"))
    alias = {"monthly": "M", "quarterly": "Q"}[frequency]
    year = long["starting_year"].where(long["starting_year"] > 0, 1990)
    period = long["starting_period"].where(long["starting_period"] > 0, 1)
    per_year = {"M": 12, "Q": 4}[alias]
    steps = year * per_year + period - 1 + long["t"] - 1
    periods = pd.PeriodIndex([pd.Period(year=int(step // per_year), **{"month" if alias == "M" else "quarter":
                                        int(step % per_year) + 1}, freq=alias) for step in steps])
    return pd.DataFrame({"item_id": long["series_id"], "timestamp": periods.start_time,
                         "target_value": long["value"]}), alias


def dataset_table(name):
    """The dataset's long table (`item_id`, `timestamp`, `target_value`), frequency, horizon and test windows."""
    if name == "sample":
        table, frequency, (horizon, windows) = load_electricity_sample(), "H", (24, 7)
    elif name == "covid_japan":
        table, frequency, (horizon, windows) = covid_japan_table(), "D", (14, 4)
    elif name == "covid_japan_2020":  # the first year: low counts, half of them zero
        table = covid_japan_table()
        table, frequency, (horizon, windows) = table[table["timestamp"] < "2021-01-01"], "D", (14, 4)
    elif name == "movielens_monthly":
        table, frequency, (horizon, windows) = movielens_monthly_table(), "M", (12, 2)
    elif name == "movielens_monthly_next":  # the next 450 movies by number of ratings: sparser still
        table, frequency, (horizon, windows) = movielens_monthly_table(slice(450, 900)), "M", (12, 2)
    elif name == "retail_synthetic":
        table, frequency, (horizon, windows) = synthetic_sales(250, 730), "D", (28, 1)
    elif name.endswith("_calendar"):
        table, frequency = m3_calendar_table(name.split("_")[1])
        horizon, windows, _ = PROTOCOLS[name.removesuffix("_calendar")]
    else:
        source = "traffic" if name == "traffic_rates" else name
        (table, frequency), (horizon, windows, _) = load(source), PROTOCOLS[source]
    return table, frequency, horizon, windows


def dataset_panel(name, num_series=None):
    table, frequency, horizon, windows = dataset_table(name)
    if num_series is not None:
        items = table["item_id"].unique()
        drawn = np.random.default_rng(0).choice(items, min(num_series, items.size), replace=False)
        table = table[table["item_id"].isin(drawn)]
    panel = DatasetGroup(table, frequency=frequency).panel(horizon)
    # traffic_rates: traffic's occupancies with their 4 exact zeros missing, so rates inside (0, 1)
    if name == "traffic_rates":
        panel = dataclasses.replace(panel, target=np.where(panel.target > 0, panel.target, np.nan))
    return panel, horizon, windows


def score(name, forecaster, panel, windows, seed, naive2=None, num_samples=100, origin="dataset_end"):
    started = time.perf_counter()
    _, paths = backtest({name: forecaster}, panel, windows, quantiles=QUANTILES, num_samples=num_samples, seed=seed,
                        fit=True, return_paths=True, origin=origin)
    row, per_series = score_paths(name, panel, paths[name], naive2)
    row["seconds"] = time.perf_counter() - started
    return row, per_series, paths[name]


def score_paths(name, panel, window_paths, naive2=None):
    per_series = per_series_scores(panel, window_paths)
    pooled = score_backtest_paths(name, panel, window_paths, QUANTILES).loc[(name, "mean")]
    row = {"sMAPE": per_series["sMAPE"].mean(), "MASE": per_series["MASE"].mean(), "ND": pooled["ND"],
           "wQL": pooled["mean_wQL"], "coverage": pooled["coverage_80"], "seconds": float("nan")}
    reference = naive2 or row
    row["OWA"] = owa(row["sMAPE"], row["MASE"], reference["sMAPE"], reference["MASE"])
    return row, per_series


def run_dataset(name, arguments):
    panel, horizon, windows = dataset_panel(name, arguments.series)
    windows = min(windows, arguments.windows or windows)
    origin = "series_end" if name.endswith("_calendar") else "dataset_end"  # ragged: each series from its own end
    test_start = series_backtest_origins(panel, horizon, windows, origin=origin)[:, 0]
    season = seasonality_for_frequency(panel.frequency)
    print(f"\n## {name}: {panel.target.shape[0]} series x {panel.target.shape[1]} steps, horizon {horizon}, "
          f"{windows} test window(s), season {season}", flush=True)
    rows, per_series = {}, {}
    rows["naive2"], per_series["naive2"], _ = score("naive2", Naive2(season, prediction_length=horizon), panel,
                                                    windows, 0, origin=origin)
    naive2 = rows["naive2"]
    for label, forecaster in (("seasonal_naive", SeasonalNaive(season, prediction_length=horizon)),) + (
            (("theta", build_forecaster("theta", horizon, panel, test_start)),) if arguments.theta else ()):
        rows[label], per_series[label], _ = score(label, forecaster, panel, windows, 0, naive2, origin=origin)
    settings, algorithm = json.loads(arguments.deepar), arguments.algorithm
    pooled_label = f"{algorithm}, seeds pooled"
    seed_paths = []
    for seed in arguments.seeds:
        seeded = {"seed": seed} if algorithm in NEURAL_ALGORITHMS else {}
        forecaster = build_forecaster({"name": algorithm, "config": {**settings, **seeded}}, horizon, panel,
                                      test_start)
        label = f"{algorithm} seed {seed}"
        rows[label], per_series[label], paths = score(label, forecaster, panel, windows, seed, naive2,
                                                      arguments.samples, origin)
        seed_paths.append(paths)
        print(f"{label}: sMAPE {rows[label]['sMAPE']:.3f} MASE {rows[label]['MASE']:.3f} OWA {rows[label]['OWA']:.3f} "
              f"ND {rows[label]['ND']:.4f} ({rows[label]['seconds']:.0f} s)", flush=True)
    if len(seed_paths) > 1:  # the seeds' networks as one ensemble: their sample paths pooled
        pooled = [(window[0][0], np.concatenate([paths[index][1] for paths in seed_paths], axis=1))
                  for index, window in enumerate(zip(*seed_paths))]
        rows[pooled_label], per_series[pooled_label] = score_paths("pooled", panel, pooled, naive2)
    levels = scores_by_level(series_levels(panel, test_start), per_series)
    table = pd.concat([pd.DataFrame(rows).T, levels], axis=1)
    seeds = [f"{algorithm} seed {seed}" for seed in arguments.seeds]
    if len(seeds) > 1:
        table.loc[f"{algorithm} mean"] = table.loc[seeds].mean()
        table.loc[f"{algorithm} sd"] = table.loc[seeds].std()
        table = table.reindex([name for name in table.index if name != pooled_label] + [pooled_label])
    print(table.drop(columns="seconds").to_string(float_format=lambda value: f"{value:.3f}"))
    if len(seeds) > 1:
        mases = table.loc[seeds, "MASE"]
        print(f"\n{algorithm} over seeds {arguments.seeds}: worst MASE / best MASE = {mases.max() / mases.min():.3f}; "
              f"median seconds a seed {statistics.median(table.loc[seeds, 'seconds']):.0f}")
    beaten = [column for column in levels.columns
              if (levels.loc[seeds, column] >= levels.loc["seasonal_naive", column]).any()]
    print(f"Quintile cells where some {algorithm} seed is not below seasonal naive: {beaten or 'none'}", flush=True)
    return table


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=list(DEFAULT_DATASETS), choices=DATASETS)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--deepar", default="{}", help="the forecaster's settings as JSON, over the recipe's")
    parser.add_argument("--algorithm", default="deepar", choices=["deepar", "mlp", *METHODS])
    parser.add_argument("--theta", action="store_true", help="add statsforecast's Theta")
    parser.add_argument("--samples", type=int, default=100, help="sample paths a forecast")
    parser.add_argument("--windows", type=int, help="only the last N test windows of each dataset's protocol")
    parser.add_argument("--series", type=int, help="a seeded draw of N series of each dataset")
    arguments = parser.parse_args()
    print(f"{arguments.algorithm} settings: {arguments.deepar}; seeds {arguments.seeds}; "
          f"{arguments.samples} sample paths")
    for name in arguments.datasets:
        run_dataset(name, arguments)


if __name__ == "__main__":
    main()
