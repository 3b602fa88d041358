"""Amazon Forecast's predictor: train (one algorithm or AutoPredictor), backtest metrics, forecasts,
queries, backtest export, save and load."""

import os
import warnings

import numpy as np
import pandas as pd

from kerasts._checks import check_positive_int
from kerasts._files import read_saved_directory, replaced_atomically, write_description
from kerasts.data.forecast_tables import TimeSeriesPanel, forecast_export_table
from kerasts.data.holiday_calendar import holiday_days
from kerasts.evaluation.backtest import (BACKTEST_ORIGINS, backtest, item_quantile_losses, predict_from_origins,
                                         score_backtest_paths, series_backtest_origins)
from kerasts.export import export_saved_model, load_model
from kerasts.forecast.algorithms import (ALGORITHMS, AUTO_CANDIDATES, DEEPAR_ALGORITHMS, FORECASTERS, build_forecaster,
                                        with_settings)
from kerasts.forecast.dataset_group import DatasetGroup
from kerasts.forecast.ensemble import SELECTIONS, WeightedForecaster, member_weights, quantile_average
from kerasts.forecast.impact import impact_scores
from kerasts.forecast.what_if import replace_related, transform_related
from kerasts.frequencies import period_alias

FORMAT_VERSION = 2  # 2: a predictor holds one or more member forecasters
PREDICTOR_FILE = "predictor.json"
# The forecast's sample paths, where drawn before the save; a predictor saved without them draws them when first asked.
FORECAST_PATHS_FILE = "forecast_paths.npy"
# Forecast's accuracy metrics, then ours, in the order tables show them.
FORECAST_METRICS = ("Average wQL", "WAPE", "RMSE", "MAPE", "MASE", "sMAPE", "Coverage[0.1-0.9]")
_RENAMED = {"mean_wQL": "Average wQL", "coverage_80": "Coverage[0.1-0.9]"}


def _forecast_types(forecast_types):
    """Forecast types ("0.1", ..., "mean") -> quantile levels, in the order given."""
    levels = []
    for kind in forecast_types:
        if kind == "mean":
            continue
        try:
            level = float(kind)
        except (TypeError, ValueError):
            level = None
        if level is None or not 0 < level < 1:
            raise ValueError(f"Forecast types are quantiles from '0.01' to '0.99' or 'mean', got {kind!r}.")
        levels.append(round(level, 4))
    if not levels:
        raise ValueError("`forecast_types` needs at least one quantile (e.g. '0.5'): wQL is scored on quantiles.")
    return levels


def _windows_that_fit(length, horizon, offset):
    return max(0, (length - horizon - 1) // offset + 1)


def train_predictor(group, forecast_horizon, algorithm="auto", forecast_types=("0.1", "0.5", "0.9"),
                    backtest_windows=1, backtest_window_offset=None, forecast_origin="dataset_end",
                    candidates=AUTO_CANDIDATES, selection="best", num_samples=100, seed=0, verbose=1, filling=None,
                    train_on_filled=False, holidays=(), holiday_attribute=None, backup_directory=None):
    """Trains a predictor on a `DatasetGroup`, as Forecast's CreateAutoPredictor does.

    Every candidate algorithm is fitted on the data before the first backtest window and scored on
    `backtest_windows` windows of `forecast_horizon` steps at the end of the data, `backtest_window_offset`
    steps apart (default: the horizon); with `algorithm="auto"` the one with the lowest Average wQL
    wins (the leaderboard keeps every candidate), otherwise the one named is scored the same way. The
    chosen algorithm is then trained again on all the data, which forecasts. With `selection` other
    than `"best"`, AutoPredictor goes past Forecast: each series' forecast combines candidates
    chosen on the backtest windows (see `kerasts.forecast.ensemble`), and the leaderboard gains that
    combination's row, scored on the windows that chose it (an optimistic figure, as the winner's is).

    Args:
        group: the `DatasetGroup`.
        forecast_horizon: steps to forecast.
        algorithm: `"auto"` or one of `kerasts.forecast.algorithm_names()` (`deepar`, `deepar_nested_lstm`,
            `mlp`, `npts`, `seasonal_naive`), optionally `{"name": ..., "config": {settings}}`.
        forecast_types: quantiles as strings ("0.1", ..., "0.99") and/or "mean", as Forecast names them.
        backtest_windows, backtest_window_offset: the backtest.
        forecast_origin: `"dataset_end"`: every series is backtested and forecast from the end of the
            data (as Forecast does); `"series_end"`: each from its own last observation, so items that
            stopped early (discontinued) are scored on their last windows and forecast past their end.
        candidates: AutoPredictor's algorithms. One whose backtest refuses this data (a `ValueError`) is
            left out with a warning, and named with the reason in `predictor.settings["left_out"]`.
        selection: with `algorithm="auto"`, `"best"` (one algorithm for every series, as Forecast),
            `"ensemble"` (the quantile average of the three best) or `"per_item"` (each series the
            candidate with its lowest backtest loss).
        num_samples, seed: sample paths per forecast and their seed (the training seeds are the
            algorithms' own settings).
        verbose: 0 silent; 1 a line per candidate and Keras's per-epoch lines.
        filling: Forecast's missing-value filling per attribute, e.g. `{"target_value": {"middlefill":
            "mean", "backfill": "nan"}, "price": {"futurefill": "max"}}` (`kerasts.data.filling`; the
            target's default is zero middle and back fill, as Forecast's). Recorded in `settings`.
        train_on_filled: filled target steps are model inputs but, by default, neither training targets
            nor scored actuals; True trains on and scores them as if recorded.
        holidays: country codes (e.g. `("US",)`) whose public holidays the algorithms in
            `HOLIDAY_ALGORITHMS` (DeepAR) read as calendar features (Forecast's holiday supplementary
            feature; the `holidays` package). The dates travel inside the saved model.
        holiday_attribute: instead, a column of the item metadata holding each item's country code:
            each series reads its own country's holidays.
        backup_directory: DeepAR's training backs up there each epoch (a folder per candidate, training
            end and worker; `kerasts.distributed.backup_callback`), so the same call restarted after a
            crash resumes each unfinished fit from its last backup.

    Returns:
        A `Predictor`.
    """
    if not isinstance(group, DatasetGroup):
        raise TypeError(f"`group` must be a kerasts.forecast.DatasetGroup, got {type(group).__name__}.")
    horizon = check_positive_int("forecast_horizon", forecast_horizon)
    check_positive_int("backtest_windows", backtest_windows)
    levels = _forecast_types(forecast_types)
    names = list(candidates) if algorithm == "auto" else [algorithm]
    for name in names:
        ALGORITHMS.parse(name)
    holidays = [holidays] if isinstance(holidays, str) else list(holidays or ())
    if holidays or holiday_attribute:
        _check_holidays(group, holidays, holiday_attribute,
                        [name if isinstance(name, str) else name["name"] for name in names])
    names = [with_settings(name, holidays=holidays, holiday_attribute=holiday_attribute,
                           backup_directory=backup_directory and os.path.join(
                               os.fspath(backup_directory), name if isinstance(name, str) else name["name"]))
             for name in names]
    length = group.history_length()
    offset = horizon if backtest_window_offset is None else check_positive_int("backtest_window_offset",
                                                                             backtest_window_offset)
    if _windows_that_fit(length, horizon, offset) < backtest_windows or length - horizon - (backtest_windows - 1) \
            * offset < 2 * horizon:
        longest = max(1, (length - 1) // (backtest_windows + 2))
        windows = (f"a backtest window of {horizon} steps and still train on at least twice the horizon before it"
                   if backtest_windows == 1 else f"{backtest_windows} backtest windows of {horizon} steps {offset} "
                   "apart and still train on at least twice the horizon before them")
        raise ValueError(f"The history of {length} steps cannot hold {windows}: the longest horizon that fits is about "
                         f"{longest} steps" + ("." if backtest_windows == 1 else ", or use fewer backtest windows."))
    if forecast_origin not in BACKTEST_ORIGINS:
        raise ValueError(f"`forecast_origin` must be one of {BACKTEST_ORIGINS}, got {forecast_origin!r}.")
    if selection not in SELECTIONS:
        raise ValueError(f"`selection` must be one of {SELECTIONS}, got {selection!r}.")
    if selection != "best" and algorithm != "auto":
        raise ValueError(f"`selection={selection!r}` combines AutoPredictor's candidates: use algorithm='auto'.")
    filling = group.check_filling(filling)
    panel = group.panel(horizon, filling, train_on_filled)
    training_ends = series_backtest_origins(panel, horizon, backtest_windows, offset, forecast_origin)[:, 0]
    if forecast_origin == "dataset_end":
        _warn_of_series_ended_before(panel, int(training_ends.max()))
    # Every candidate built before any trains: a setting one does not take is refused now, not hours in.
    built = [(name, _quiet(build_forecaster(name, horizon, panel, training_ends), verbose)) for name in names]
    scores, paths, specs, left_out = [], {}, {}, {}
    for position, (name, forecaster) in enumerate(built):
        label = name if isinstance(name, str) else name["name"]
        if verbose:
            print(f"Backtesting {label} ({position + 1} of {len(names)}) on {backtest_windows} window(s) of "
                  f"{horizon} steps...", flush=True)
        try:
            candidate_scores, candidate_paths = backtest({label: forecaster}, panel, backtest_windows, offset,
                                                         levels, num_samples, seed, fit=True, return_paths=True,
                                                         origin=forecast_origin)
        except ValueError as error:  # this data does not suit the candidate: AutoPredictor goes on without it
            if algorithm != "auto":
                raise
            left_out[label] = str(error)
            warnings.warn(f"AutoPredictor leaves {label} out: {error}", stacklevel=2)
            continue
        scores.append(candidate_scores)
        paths.update(candidate_paths)
        specs[label] = name
    if not specs:
        raise ValueError("No candidate algorithm could backtest this data: "
                         + "; ".join(f"{label}: {reason}" for label, reason in left_out.items()))
    labels = list(specs)
    item_losses = pd.DataFrame({label: item_quantile_losses(panel, paths[label], levels) for label in labels},
                               index=pd.Index(panel.series_ids, name="series"))
    board = pd.concat(scores).xs("mean", level="window")["mean_wQL"]
    weights = member_weights(board, item_losses, selection)
    members = [label for label in labels if weights[label].any()]
    chosen = members[0] if len(members) == 1 else selection
    if len(members) > 1:
        combined = [(paths[members[0]][window][0], quantile_average([paths[name][window][1] for name in members],
                                                                    weights[members].to_numpy()))
                    for window in range(backtest_windows)]
        paths[chosen] = combined
        scores.append(score_backtest_paths(chosen, panel, combined, levels))
    scores = pd.concat(scores).rename(columns=_RENAMED)
    fitted = {}
    for label in members:
        if verbose:
            print(f"Training {label} on all {length} steps...", flush=True)
        fitted[label] = _quiet(build_forecaster(specs[label], horizon, panel, length), verbose).fit(panel)
    best = board.astype(float).idxmin()
    default = {name: 1.0 / len(members) if selection == "ensemble" or best not in members else float(name == best)
               for name in members}  # for series the weights do not name
    forecaster = fitted[chosen] if len(members) == 1 else WeightedForecaster(fitted, weights[members], default)
    return Predictor(chosen, forecaster, panel, list(forecast_types), scores,
                     _backtest_forecasts(panel, paths[chosen], levels),
                     {"backtest_windows": backtest_windows, "backtest_window_offset": offset,
                      "forecast_origin": forecast_origin, "selection": selection, "num_samples": num_samples,
                      "seed": seed, "left_out": left_out, "filling": filling,
                      "train_on_filled": bool(train_on_filled), "holidays": holidays,
                      "holiday_attribute": holiday_attribute}, item_losses)


def _warn_of_series_ended_before(panel, window_start):
    """Warns where series stopped before the backtest windows: Forecast's origin scores none of them, so the
    metrics (and AutoPredictor's choice) rest on the others, and forecasts them from the dataset's end."""
    last = panel.last_observed
    ended = np.flatnonzero((last >= 0) & (last < window_start))
    if not ended.size:
        return
    ids = panel.series_ids
    examples = ", ".join(f"{ids[index]!r} (last value at {panel.step_periods(last[index], 1)[0]})"
                         for index in ended[:3])
    gap = panel.target.shape[1] - int(last[ended].min())  # steps from the earliest end to the first forecast
    warnings.warn(f"{len(ended)} of {len(ids)} series end before the backtest windows, e.g. {examples}: the metrics "
                  "and the choice of algorithm do not score them, and their forecasts start at the dataset's end, as "
                  f"much as {gap} steps after their last value. forecast_origin='series_end' (--forecast-origin "
                  "series_end) backtests and forecasts each series from its own last observation.", stacklevel=3)


def _check_holidays(group, countries, attribute, trained):
    """Names a holiday setting that cannot work before any training: no algorithm of `trained` reads
    holidays, no calendar, both kinds given, an attribute the item metadata lacks, a country code the
    holidays package does not know."""
    setting = "`holiday_attribute`" if attribute else "`holidays`"
    if not set(trained) & set(DEEPAR_ALGORITHMS):
        raise ValueError(f"{setting} are features of {' and '.join(DEEPAR_ALGORITHMS)}; none of the algorithms "
                         f"trained ({', '.join(trained)}) reads them.")
    if not period_alias(group.frequency):
        raise ValueError(f"Holidays need a calendar; the {group.frequency!r} frequency has none.")
    if countries and attribute:
        raise ValueError("Give `holidays` (countries for every series) or `holiday_attribute`, not both.")
    if attribute:
        if group.tables["item_metadata"] is None:
            raise ValueError(f"`holiday_attribute` {attribute!r} names a column of the item metadata, and the dataset "
                             "group has none.")
        if attribute not in group.category_columns():
            raise ValueError(f"`holiday_attribute` {attribute!r} must be a column of the item metadata; its "
                             f"attributes are {group.category_columns()}.")
        countries = sorted(group.tables["item_metadata"][attribute].dropna().astype(str).unique())
    try:
        holiday_days(countries, 2000, 2000)
    except ValueError as error:
        raise ValueError(f"{setting} {attribute!r}: {error}" if attribute else str(error)) from None


def _quiet(forecaster, verbose):
    if hasattr(forecaster, "verbose"):
        forecaster.verbose = 2 if verbose else 0  # one line per epoch
    return forecaster


def _backtest_forecasts(panel, window_paths, levels):
    """The chosen algorithm's backtest forecasts with the actuals, in Forecast's export layout."""
    tables = []
    for window, (origins, paths) in enumerate(window_paths):
        scored = np.flatnonzero(origins >= 0)
        part, origins, paths = panel.select(scored), origins[scored], paths[scored]
        table = forecast_export_table(part, origins, paths, levels)
        steps = origins[:, None] + np.arange(paths.shape[-1])[None, :]
        table.insert(len(panel.keys.columns) + 1, "target_value", part.recorded_target[np.arange(len(scored))[:, None],
                                                                              steps].reshape(-1))
        table.insert(0, "backtest_window", window)
        tables.append(table)
    return pd.concat(tables, ignore_index=True)


class Predictor:
    """A trained predictor: the chosen algorithm fitted on all the data, its backtest and the leaderboard.

    Made by `train_predictor`; `save` / `kerasts.forecast.load_predictor` keep it (with the data it
    forecasts from), `export` writes the model's SavedModel.
    """

    def __init__(self, algorithm, forecaster, panel, forecast_types, backtest_scores, backtest_forecasts, settings,
                 item_losses, forecast_paths=None):
        self.algorithm = algorithm
        self.forecaster = forecaster
        self.panel = panel
        self.forecast_types = list(forecast_types)
        self.levels = _forecast_types(forecast_types)
        self.backtest_scores = backtest_scores
        self.backtest_forecasts = backtest_forecasts
        self.settings = dict(settings)
        self.item_losses = item_losses
        self._paths = forecast_paths

    @property
    def forecast_horizon(self):
        return self.forecaster.prediction_length

    @property
    def metrics(self):
        """The chosen algorithm's accuracy per backtest window and averaged ("average"), under
        Forecast's names (`wQL[0.1]`, ..., `Average wQL`, `WAPE`, `RMSE`, `MAPE`, `MASE`) plus `sMAPE`
        and the share of actuals inside the P10-P90 band."""
        columns = [f"wQL[{level:g}]" for level in self.levels] + list(FORECAST_METRICS)
        table = self.backtest_scores.loc[self.algorithm][columns]
        return table.rename(index={"mean": "average"})

    @property
    def leaderboard(self):
        """Every candidate's averaged backtest metrics, best Average wQL first."""
        columns = [f"wQL[{level:g}]" for level in self.levels] + list(FORECAST_METRICS)
        table = self.backtest_scores.xs("mean", level="window")[columns].astype(float)
        return table.sort_values("Average wQL", kind="stable")

    def _columns(self, table):
        keep = list(self.panel.keys.columns) + ["date"] + [f"p{round(100 * level):d}" for level in self.levels]
        return table[keep + (["mean"] if "mean" in self.forecast_types else [])]

    def origins(self, origin=None):
        """Each series' first forecast step: the end of the grid (`"dataset_end"`) or the step after its
        last observation (`"series_end"`); -1 for a series with no value to forecast from (a cold-start
        item's filled-in history counts). Default: the predictor's."""
        origin = origin or self.settings.get("forecast_origin", "dataset_end")
        if origin not in BACKTEST_ORIGINS:
            raise ValueError(f"`origin` must be one of {BACKTEST_ORIGINS}, got {origin!r}.")
        if origin == "dataset_end":
            return np.where(self.panel.observed.any(axis=1), len(self.panel.timestamps), -1)
        return self.panel.series_end_origins

    def what_if(self, replacements=None, transformations=None):
        """Amazon Forecast's what-if forecast: the forecast with the related series changed, next to the
        baseline forecast, from the same random draws (so only the change moves it).

        Args:
            replacements: a table in the related table's layout (the key columns, `timestamp`, some
                related columns) whose values replace the predictor's at those series and steps
                (history or horizon; past-only covariates too).
            transformations: Forecast's `TimeSeriesTransformations`: a list of `{"Action":
                {"AttributeName": "price", "Operation": "MULTIPLY", "Value": 0.9},
                "TimeSeriesConditions": [{"AttributeName": "item_id", "AttributeValue": "item_1",
                "Condition": "EQUALS"}, {"AttributeName": "timestamp", "AttributeValue": "2024-01-09",
                "Condition": "GREATER_THAN"}]}`; applied after the replacements.

        Returns:
            One row per series and step: the keys, `date`, then `baseline_<type>` and `what_if_<type>`
            for each forecast type (`p10`, ..., `mean`).
        """
        if self.panel.covariates is None and self.panel.past_covariates is None:
            raise ValueError("The predictor has no related time series to change: train it with a related table.")
        if replacements is None and transformations is None:
            raise ValueError("Give `replacements` (a related table) and/or `transformations` to describe the scenario.")
        scenario = self.panel
        if replacements is not None:
            scenario = replace_related(scenario, replacements)
        if transformations is not None:
            scenario = transform_related(scenario, transformations)
        origins = self.origins()
        paths = predict_from_origins(self.forecaster, scenario, origins, self.settings["num_samples"],
                                     self.settings["seed"])
        baseline, changed = self.forecast(), self._forecast_table(origins, paths)
        values = [f"p{round(100 * level):d}" for level in self.levels] + (["mean"] if "mean" in baseline else [])
        keys = [column for column in baseline.columns if column not in values]
        return pd.concat([baseline[keys], baseline[values].add_prefix("baseline_"),
                          changed[values].add_prefix("what_if_")], axis=1)

    def impact_scores(self):
        """Forecast's explainability: how much each related series and item attribute moves the forecast,
        by ablation from the same random draws (see `kerasts.forecast.impact`).

        Returns:
            `(overall, per_series)`: `overall` indexed by feature with `kind`, `impact` (the mean signed
            score over series, in [-1, 1], positive when the feature raises the forecast) and
            `magnitude` (the mean absolute score), largest magnitude first; `per_series` one row per
            series forecast, one column per feature.
        """
        items, overall = impact_scores(self.forecaster, self.panel, self.origins(), self.settings["num_samples"],
                                       self.settings["seed"], len(self.panel.timestamps))
        return overall, items

    def _forecast_table(self, origins, paths):
        """The export table; with cold-start items in the predictor, a `cold_start` column flags them."""
        rows = np.flatnonzero(origins >= 0)
        table = self._columns(forecast_export_table(self.panel.select(rows), origins[rows], paths[rows], self.levels))
        cold = self.panel.cold_start
        if cold.any():
            table.insert(len(self.panel.keys.columns), "cold_start", np.repeat(cold[rows], self.forecast_horizon))
        return table

    def forecast(self, origin=None, num_samples=None, seed=None):
        """Every series' forecast of the horizon in Forecast's export layout: the keys, `date`, one
        column per quantile forecast type (`p10`, ...) and `mean` if asked for.

        Args:
            origin: `"dataset_end"` forecasts every series from the end of the data; `"series_end"`
                each from its own last observation (items discontinued earlier get their own dates).
                Either way series never observed are left out. Default: the predictor's `forecast_origin`.
        """
        origins = self.origins(origin)
        num_samples = num_samples or self.settings["num_samples"]
        seed = self.settings["seed"] if seed is None else seed
        if (num_samples, seed) == (self.settings["num_samples"], self.settings["seed"]) and \
                np.array_equal(origins, self.origins()):
            paths = self.sample_paths()
        else:
            paths = predict_from_origins(self.forecaster, self.panel, origins, num_samples, seed)
        return self._forecast_table(origins, paths)

    def series_row(self, item_id, **dimensions):
        """The position of the series named by its item and dimension values in the predictor's panel."""
        keys = {self.panel.keys.columns[0]: item_id, **dimensions}
        unknown = sorted(set(keys) - set(self.panel.keys.columns))
        if unknown:
            raise ValueError(f"Unknown dimension(s) {unknown}: the series keys are {list(self.panel.keys.columns)}.")
        missing = sorted(set(self.panel.keys.columns) - set(keys))
        if missing:
            example = ", ".join(f"{column}=VALUE" for column in missing)
            raise ValueError(f"Name the series by every key: {missing} missing (give {example} too; the series "
                             f"keys are {list(self.panel.keys.columns)}).")
        match = np.ones(len(self.panel.keys), dtype=bool)
        for column, value in keys.items():
            match &= self.panel.keys[column].astype(str).to_numpy() == str(value)
        if not match.any():
            raise ValueError(f"No series {keys} in the predictor's data.")
        return int(np.flatnonzero(match)[0])

    def sample_paths(self):
        """Every series' sample paths of the horizon from its origin (see `origins`), `(series,
        num_samples, horizon)`: the paths `forecast()` summarises (same seed). Drawn once, as Forecast's
        CreateForecast; `save` keeps them once drawn, so a loaded predictor answers `forecast()`,
        `query_forecast` and plots without forecasting every series again (a statistical method refits each)."""
        if self._paths is None:
            self._paths = predict_from_origins(self.forecaster, self.panel, self.origins(),
                                               self.settings["num_samples"], self.settings["seed"])
        return self._paths

    def query_forecast(self, item_id, **dimensions):
        """One series' forecast as Forecast's QueryForecast returns it (the values `forecast()` exports):
        `{"Forecast": {"Predictions": {"p10": [{"Timestamp": ..., "Value": ...}, ...], ...}}}`."""
        row = self.series_row(item_id, **dimensions)
        origin = self.origins()[row]
        if origin < 0:
            raise ValueError(f"Series {item_id!r} has no observation to forecast from.")
        table = self._columns(forecast_export_table(self.panel.select([row]), origin,
                                                    self.sample_paths()[row:row + 1], self.levels))
        columns = [column for column in table.columns if column not in self.panel.keys.columns and column != "date"]
        stamps = ([date.isoformat() for date in pd.to_datetime(table["date"])] if self.panel.has_calendar
                  else [int(step) for step in table["date"]])
        # JSON has no NaN: a value a forecaster could not give (e.g. a season never observed) is null.
        return {"Forecast": {"Predictions": {column: [{"Timestamp": stamp,
                                                       "Value": float(value) if np.isfinite(value) else None}
                                                      for stamp, value in zip(stamps, table[column])]
                                             for column in columns}}}

    def export_backtest(self, path):
        """Writes Forecast's backtest export into directory `path`: `forecasted-values.csv` (per item,
        window and date: the actual and each forecast type) and `accuracy-metric-values.csv` (per item
        and window: wQL per quantile, Average wQL, WAPE, RMSE)."""
        with replaced_atomically(path) as partial:
            os.makedirs(partial)
            self.backtest_forecasts.to_csv(os.path.join(partial, "forecasted-values.csv"), index=False)
            self._item_accuracy().to_csv(os.path.join(partial, "accuracy-metric-values.csv"), index=False)

    def _item_accuracy(self):
        table = self.backtest_forecasts
        keys = list(self.panel.keys.columns) + ["backtest_window"]
        rows = []
        for key, part in table.groupby(keys, sort=False):
            actual = part["target_value"].to_numpy(dtype="float64")
            row = dict(zip(keys, key))
            total = np.nansum(np.abs(actual))
            for level in self.levels:
                forecast = part[f"p{round(100 * level):d}"].to_numpy()
                error = actual - forecast
                loss = np.nansum(np.maximum(level * error, (level - 1) * error))
                row[f"wQL[{level:g}]"] = 2 * loss / total if total else np.nan
            row["Average wQL"] = np.mean([row[f"wQL[{level:g}]"] for level in self.levels])
            middle = part["mean"].to_numpy()
            row["WAPE"] = np.nansum(np.abs(actual - middle)) / total if total else np.nan
            row["RMSE"] = float(np.sqrt(np.nanmean((actual - middle) ** 2)))
            rows.append(row)
        return pd.DataFrame(rows)

    def export(self, directory, **options):
        """Writes the chosen model's serving SavedModel (see its `serving_endpoints`)."""
        if isinstance(self.forecaster, WeightedForecaster):
            raise ValueError(f"The {self.algorithm} predictor combines {list(self.forecaster.members)}, not one "
                             "network: export a member's, e.g. predictor.forecaster.members['deepar'].model.export(...).")
        if getattr(self.forecaster, "model", None) is None:
            raise ValueError(f"The {self.algorithm} algorithm has no network to export as a SavedModel.")
        export_saved_model(self.forecaster.model, directory, **options)

    def _members(self):
        if isinstance(self.forecaster, WeightedForecaster):
            return self.forecaster.members
        return {self.algorithm: self.forecaster}

    def save(self, directory):
        """Writes everything needed to forecast again (the model, its settings, the data, the backtest) and
        the forecast's sample paths once drawn (`sample_paths`), atomically: an interrupted save leaves the
        previous predictor in `directory` whole."""
        with replaced_atomically(directory) as partial:
            os.makedirs(partial)
            members = []
            for position, (name, member) in enumerate(self._members().items()):
                model = getattr(member, "model", None)
                if model is not None:
                    model.save(os.path.join(partial, f"model_{position}.keras"))
                members.append({"name": name, "class": type(member).__name__, "config": member.get_config(),
                                "has_model": model is not None})
            combined = isinstance(self.forecaster, WeightedForecaster)
            if combined:
                self.forecaster.weights.to_csv(os.path.join(partial, "member_weights.csv"))
            write_description(partial, PREDICTOR_FILE, FORMAT_VERSION, {
                "algorithm": self.algorithm, "members": members,
                "default_weights": self.forecaster.default_weights if combined else None,
                "forecast_types": self.forecast_types, "settings": self.settings,
                "frequency": self.panel.frequency, "covariate_names": list(self.panel.covariate_names),
                "past_covariate_names": list(self.panel.past_covariate_names),
                "category_names": list(self.panel.category_names),
                "category_vocabularies": [list(values) for values in self.panel.category_vocabularies],
                "cardinalities": list(self.panel.cardinalities),
            })
            # Calendar grids as nanoseconds; a step index as its step numbers.
            timestamps = self.panel.timestamps
            arrays = {"target": self.panel.target,
                      "timestamps": timestamps.asi8 if self.panel.has_calendar else np.asarray(timestamps, "int64")}
            if self.panel.covariates is not None:
                arrays["covariates"] = self.panel.covariates
            if self.panel.static_categories is not None:
                arrays["static_categories"] = self.panel.static_categories
            if self.panel.filled is not None:
                arrays["filled"] = self.panel.filled
            if self.panel.past_covariates is not None:
                arrays["past_covariates"] = self.panel.past_covariates
            np.savez(os.path.join(partial, "panel.npz"), **arrays)
            self.panel.keys.to_csv(os.path.join(partial, "keys.csv"), index=False)
            self.backtest_scores.to_csv(os.path.join(partial, "backtest_scores.csv"))
            self.backtest_forecasts.to_csv(os.path.join(partial, "backtest_forecasts.csv"), index=False)
            self.item_losses.to_csv(os.path.join(partial, "item_losses.csv"))
            if self._paths is not None:
                np.save(os.path.join(partial, FORECAST_PATHS_FILE), self._paths)


def load_predictor(directory):
    """The predictor `Predictor.save` wrote; it forecasts exactly what the saved one did."""
    return read_saved_directory(directory, PREDICTOR_FILE, "predictor", FORMAT_VERSION, _read_predictor)


def _read_predictor(directory, description):
    members = {}
    for position, member in enumerate(description["members"]):
        forecaster = members[member["name"]] = FORECASTERS[member["class"]](**member["config"])
        if member["has_model"]:
            forecaster.model = load_model(os.path.join(directory, f"model_{position}.keras"))
    if description["default_weights"] is None:
        forecaster = next(iter(members.values()))
    else:
        weights = pd.read_csv(os.path.join(directory, "member_weights.csv"), index_col="series",
                              dtype={"series": str})
        forecaster = WeightedForecaster(members, weights, description["default_weights"])
    item_losses = pd.read_csv(os.path.join(directory, "item_losses.csv"), index_col="series",
                              dtype={"series": str})
    with np.load(os.path.join(directory, "panel.npz")) as arrays:
        arrays = {name: arrays[name] for name in arrays.files}
    keys = pd.read_csv(os.path.join(directory, "keys.csv"), dtype=str)
    grid = (pd.DatetimeIndex(arrays["timestamps"]) if period_alias(description["frequency"])
            else pd.Index(arrays["timestamps"], dtype="int64"))
    panel = TimeSeriesPanel(keys, grid, arrays["target"], description["frequency"], filled=arrays.get("filled"))
    panel = panel.with_related(covariates=arrays.get("covariates"),
                               covariate_names=description["covariate_names"] or None,
                               static_categories=arrays.get("static_categories"),
                               cardinalities=description["cardinalities"] or None,
                               past_covariates=arrays.get("past_covariates"),
                               past_covariate_names=description.get("past_covariate_names") or None,
                               category_names=description.get("category_names") or None,
                               category_vocabularies=description.get("category_vocabularies") or None)
    scores = pd.read_csv(os.path.join(directory, "backtest_scores.csv"), index_col=[0, 1])
    names, windows = scores.index.get_level_values(0), scores.index.get_level_values(1)
    scores.index = pd.MultiIndex.from_arrays(
        [names, [int(window) if str(window).isdigit() else window for window in windows]],
        names=["forecaster", "window"])
    forecasts = pd.read_csv(os.path.join(directory, "backtest_forecasts.csv"),
                            parse_dates=["date"] if panel.has_calendar else False)
    paths = _read_forecast_paths(os.path.join(directory, FORECAST_PATHS_FILE), len(keys), forecaster.prediction_length)
    return Predictor(description["algorithm"], forecaster, panel, description["forecast_types"], scores, forecasts,
                     description["settings"], item_losses, paths)


def _read_forecast_paths(path, num_series, horizon):
    """The sample paths `save` kept, checked against the predictor's series and horizon (a deterministic
    forecaster draws one path, so the samples are not checked); None where none were kept."""
    if not os.path.exists(path):
        return None
    paths = np.load(path, allow_pickle=False)
    if paths.ndim != 3 or (paths.shape[0], paths.shape[2]) != (num_series, horizon):
        raise ValueError(f"{FORECAST_PATHS_FILE} holds paths of shape {paths.shape}; the predictor forecasts "
                         f"{num_series} series {horizon} steps ahead (series, samples, horizon).")
    return paths
