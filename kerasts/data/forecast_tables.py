"""Amazon Forecast's three tables -> aligned numpy panels.

* target time series: `item_id` (plus optional dimension columns such as `store`, which
  with `item_id` name one series), `timestamp`, `target_value`;
* related time series: the same keys and timestamps plus numeric covariates known into
  the future (e.g. price);
* item metadata: `item_id` plus categorical attributes.

Nothing the user passes is modified: every function works on copies.
"""

import dataclasses
import warnings

import numpy as np
import pandas as pd

from kerasts._checks import check_columns, shown
from kerasts.data.filling import fill_related
from kerasts.data.timestamps import to_datetimes
from kerasts.data.vocabulary import IdVocabulary
from kerasts.frequencies import period_alias

SERIES_KEY_SEPARATOR = "|"


@dataclasses.dataclass(frozen=True)
class TimeSeriesPanel:
    """Series aligned on one regular time grid, with what is known about them besides the target.

    Attributes:
        keys: one row per series with its key columns (e.g. `item_id`, `store`).
        timestamps: the grid (period start times; the step numbers for a step frequency), length `T`.
        target: float array `(series, T)`; NaN where nothing was recorded.
        frequency: the grid's frequency string (`"step-<season>"`: a step index without a calendar).
        covariates: optional float32 `(series, T + future, K)`: related series known over the grid
            and `future` steps beyond it (`align_related`); `None` without related data.
        covariate_names: the `K` covariate names.
        static_categories: optional int32 `(series, n)` codes of item attributes (`CategoryEncoder`).
        cardinalities: codes per attribute, the unknown code 0 included (`CategoryEncoder.cardinalities`).
        category_names: the attributes' names (the item-metadata columns), `n` of them.
        category_vocabularies: per attribute, its values in code order (code = position + 1), when known.
        past_covariates: optional float32 `(series, T, P)`: related series known only up to each forecast's
            start (e.g. web traffic), read over the context and not needed over the horizon.
        past_covariate_names: the `P` names.
        filled: optional bool `(series, T)`: steps whose target value was filled in (`kerasts.data.filling`),
            not recorded. Models read filled values as inputs; losses, scores and series ends use only
            the recorded ones (`recorded`, `recorded_target`).

    Attach related data with `panel.with_related(...)`; every forecaster reads it from the panel.
    """

    keys: pd.DataFrame
    timestamps: pd.DatetimeIndex
    target: np.ndarray
    frequency: str
    covariates: np.ndarray = None
    covariate_names: tuple = ()
    static_categories: np.ndarray = None
    cardinalities: tuple = ()
    category_names: tuple = ()
    category_vocabularies: tuple = ()
    past_covariates: np.ndarray = None
    past_covariate_names: tuple = ()
    filled: np.ndarray = None

    def with_related(self, covariates=None, covariate_names=None, static_categories=None, cardinalities=None,
                     past_covariates=None, past_covariate_names=None, category_names=None,
                     category_vocabularies=None):
        """A copy with related series (`align_related`'s array and names), past-only related series
        (`align_related` with no future steps) and/or item attributes (`CategoryEncoder.encode`'s codes
        and `.cardinalities`) attached, their shapes checked."""
        changes = {}
        num_series, length = self.target.shape
        if past_covariates is not None:
            past = np.asarray(past_covariates, dtype="float32")
            if past.ndim != 3 or past.shape[:2] != (num_series, length):
                raise ValueError(f"`past_covariates` must have shape ({num_series}, {length}, P) (series, grid "
                                 f"length, past-only covariates), got {past.shape}.")
            changes.update(past_covariates=past,
                           past_covariate_names=_names(past_covariate_names, past.shape[2], "past_covariate"))
        if covariates is not None:
            covariates = np.asarray(covariates, dtype="float32")
            if covariates.ndim != 3 or covariates.shape[0] != num_series or covariates.shape[1] < length:
                raise ValueError(f"`covariates` must have shape ({num_series}, {length} + future steps, K) (series, "
                                 f"grid length and the steps known ahead, covariates), got {covariates.shape}.")
            changes.update(covariates=covariates,
                           covariate_names=_names(covariate_names, covariates.shape[2], "covariate"))
        if static_categories is not None:
            codes = np.asarray(static_categories)
            if codes.ndim != 2 or codes.shape[0] != num_series:
                raise ValueError(f"`static_categories` must have shape ({num_series}, n), got {codes.shape}.")
            if cardinalities is None or len(cardinalities) != codes.shape[1]:
                raise ValueError("`cardinalities` must give the number of codes of each of the "
                                 f"{codes.shape[1]} static categories (CategoryEncoder.cardinalities).")
            cardinalities = tuple(int(value) for value in cardinalities)
            if codes.size and (codes.min() < 0 or (codes >= np.array(cardinalities)).any()):
                raise ValueError(f"`static_categories` holds codes outside [0, cardinality) for {cardinalities}.")
            names = _names(category_names, codes.shape[1], "category")
            vocabularies = tuple(tuple(str(value) for value in values) for values in category_vocabularies or ())
            if vocabularies and [len(values) + 1 for values in vocabularies] != list(cardinalities):
                raise ValueError("`category_vocabularies` must list each category's values (cardinality - 1 of them).")
            changes.update(static_categories=codes.astype("int32"), cardinalities=cardinalities, category_names=names,
                           category_vocabularies=vocabularies)
        return dataclasses.replace(self, **changes)

    def select(self, rows):
        """The panel of the series at positions `rows` (an index array), on the same grid."""
        rows = np.asarray(rows, dtype="int64")
        return dataclasses.replace(
            self, keys=self.keys.iloc[rows].reset_index(drop=True), target=self.target[rows],
            covariates=None if self.covariates is None else self.covariates[rows],
            static_categories=None if self.static_categories is None else self.static_categories[rows],
            past_covariates=None if self.past_covariates is None else self.past_covariates[rows],
            filled=None if self.filled is None else self.filled[rows])

    def never_negative(self, end):
        """Whether no target value before grid index `end` is negative: the forecasts of such data are kept at
        or above zero (DeepAR inside its sampling loop, every other forecaster's paths in
        `kerasts.evaluation.predict_from_origins`)."""
        return bool(np.nanmin(self.target[:, :end], initial=0.0) >= 0)

    @property
    def last_observed(self):
        """Index of each series' last recorded step (-1 for a series never recorded)."""
        observed = self.recorded
        length = observed.shape[1]
        return np.where(observed.any(axis=1), length - 1 - observed[:, ::-1].argmax(axis=1), -1)

    def longest_history(self, ends):
        """The longest span any series covers from its first recorded step to its last before `ends` (a
        grid index, or one per series; a negative one leaves that series out): how much history the data
        offers a model, which the grid's length overstates where series start and end apart."""
        ends = np.broadcast_to(np.asarray(ends), self.last_observed.shape)
        spans = np.minimum(ends, self.last_observed + 1) - self.first_observed
        return int(max(spans[ends >= 0].max(initial=0), 0))

    @property
    def series_end_origins(self):
        """Each series' first step after its last observation, where its own forecast starts (-1 for a
        series never observed)."""
        ends = self.last_observed + 1
        return np.where(ends > 0, ends, -1)

    @property
    def future_steps(self):
        """Steps beyond the grid that the covariates cover (unbounded without covariates)."""
        return np.inf if self.covariates is None else self.covariates.shape[1] - self.target.shape[1]

    @property
    def observed(self):
        """Steps with a value, recorded or filled in."""
        return ~np.isnan(self.target)

    @property
    def recorded(self):
        """Steps with a recorded value (not filled in)."""
        return self.observed if self.filled is None else self.observed & ~self.filled

    @property
    def cold_start(self):
        """Series with no recorded value whose history was filled in from similar items
        (`kerasts.data.cold_start_histories`)."""
        return ~self.recorded.any(axis=1) & self.observed.any(axis=1)

    @property
    def recorded_target(self):
        """The target with filled-in steps missing (NaN) again: what losses and scores compare against."""
        return self.target if self.filled is None else np.where(self.filled, np.nan, self.target)

    @property
    def series_ids(self):
        """One string per series: its key values joined by `|` (just `item_id` for one key)."""
        return self.keys.astype(str).agg(SERIES_KEY_SEPARATOR.join, axis=1).to_numpy()

    @property
    def first_observed(self):
        """Index of each series' first recorded step (`T` for a series never recorded)."""
        observed = self.recorded
        return np.where(observed.any(axis=1), observed.argmax(axis=1), observed.shape[1])

    @property
    def has_calendar(self):
        """False for a step frequency (`"step-12"`): the grid is an integer step index."""
        return period_alias(self.frequency) is not None

    def step_periods(self, first_step, steps):
        """Periods of grid steps `first_step .. first_step + steps - 1`; the grid extends both ways.
        Without a calendar, the step indices themselves."""
        if not self.has_calendar:
            first = int(self.timestamps[0]) + int(first_step)
            return pd.Index(np.arange(first, first + steps, dtype="int64"))
        first = pd.Period(self.timestamps[0], freq=period_alias(self.frequency)) + int(first_step)
        return pd.period_range(first, periods=steps, freq=period_alias(self.frequency))

    def step_timestamps(self, first_step, steps):
        """Start times of `step_periods(first_step, steps)` (the step indices without a calendar)."""
        periods = self.step_periods(first_step, steps)
        return periods.start_time if self.has_calendar else periods


def _names(given, count, prefix):
    """`count` names for the panel's `prefix` arrays: those given, or `<prefix>_<index>`."""
    names = tuple(given) if given is not None else tuple(f"{prefix}_{index}" for index in range(count))
    if len(names) != count:
        raise ValueError(f"`{prefix}_names` has {len(names)} names for {count} columns.")
    return names


def forecast_export_table(panel, origin, samples, quantiles=(0.1, 0.5, 0.9)):
    """Sample paths -> Amazon Forecast's export layout.

    Args:
        panel: the panel the forecast was made from.
        origin: grid index of the first forecast step (`None` or `len(panel.timestamps)`: the future),
            or one per series (series forecast from their own ends).
        samples: `(series, num_samples, horizon)`, series in panel order.
        quantiles: levels to report, as columns `p10`, `p50`, ... (`p50` for 0.5).

    Returns:
        One row per series and step: the key columns, `date`, one column per quantile, `mean`.
    """
    samples = np.asarray(samples, dtype="float64")
    num_series, _, horizon = samples.shape
    if num_series != len(panel.keys):
        raise ValueError(f"`samples` has {num_series} series on axis 0; the panel has {len(panel.keys)}.")
    origin = len(panel.timestamps) if origin is None else origin
    origins = np.broadcast_to(np.asarray(origin, dtype="int64"), (num_series,))
    dates = {start: panel.step_timestamps(start, horizon) for start in np.unique(origins)}
    table = panel.keys.loc[np.repeat(np.arange(num_series), horizon)].reset_index(drop=True)
    table["date"] = np.concatenate([dates[start] for start in origins]) if num_series else []
    for level, values in zip(quantiles, np.quantile(samples, quantiles, axis=1)):
        table[f"p{round(100 * level):d}"] = values.reshape(-1)
    table["mean"] = samples.mean(axis=1).reshape(-1)
    return table


def _require_table(table, name, columns):
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"`{name}` must be a pandas DataFrame, got {type(table).__name__}.")
    if table.empty:
        raise ValueError(f"`{name}` is empty.")
    check_columns(table, columns, f"`{name}`")
    return table


def numeric_column(table, name, column):
    """Column `column` of table `name` as numbers (empty cells NaN), refusing text, datetimes and
    infinities by row: the one check of a Forecast table's numeric columns."""
    if pd.api.types.is_datetime64_any_dtype(table[column]) or pd.api.types.is_timedelta64_dtype(table[column]):
        raise TypeError(f"`{name}` column {column!r} holds {table[column].dtype} values, not numbers: give its "
                        "numeric meaning (e.g. days since an event), or leave it out.")
    values = pd.to_numeric(table[column], errors="coerce")
    bad = values.isna() & table[column].notna()
    if bad.any():
        raise ValueError(
            f"`{name}` column {column!r} must be numeric; e.g. row {bad.idxmax()!r} holds {table[column][bad.idxmax()]!r}."
        )
    infinite = np.isinf(values)
    if infinite.any():
        raise ValueError(f"`{name}` column {column!r} must hold finite numbers (leave a value empty where it is "
                         f"missing); row {infinite.idxmax()!r} holds {shown(values[infinite.idxmax()])!r}.")
    return values


def _require_keys(table, name, key_columns):
    for column in key_columns:
        if table[column].isna().any():
            raise ValueError(f"`{name}` column {column!r} holds missing ids (NaN); every row needs a series key.")


def align_target(table, frequency, item_column="item_id", dimension_columns=(), timestamp_column="timestamp",
                 target_column="target_value"):
    """Aggregates the target table onto a regular grid, one row per series.

    Rows may come in any order. Values falling in the same period of `frequency` are
    summed, as Amazon Forecast does (so exact duplicate timestamps add up); a period
    with no value, or only NaN values, is missing (NaN), never 0. The grid runs from
    the earliest to the latest period of any series; a series that starts late or ends
    early is NaN outside its own range.

    Args:
        table: the target time series table.
        frequency: e.g. `"H"`, `"D"`, `"W"`, `"M"`, `"15min"`; or `"step-<season>"` (e.g. `"step-12"`)
            when the timestamp column holds integer step numbers and there is no calendar (competition
            data): the grid is then every step from the first to the last.
        item_column, dimension_columns: columns naming a series together.
        timestamp_column, target_column: column names.

    Returns:
        A `TimeSeriesPanel`, series sorted by key.
    """
    key_columns = [item_column, *dimension_columns]
    _require_table(table, "target_table", key_columns + [timestamp_column, target_column])
    _require_keys(table, "target_table", key_columns)
    alias = period_alias(frequency)
    frame = table[key_columns].copy()
    frame["_period"] = _periods(table, "target_table", timestamp_column, alias, warn_of_partial_end=True)
    frame["_value"] = numeric_column(table, "target_table", target_column)
    if frame["_value"].isna().all():
        raise ValueError(f"`target_table` column {target_column!r} holds no values: every row is missing.")
    summed = frame.groupby(key_columns + ["_period"], sort=True)["_value"].sum(min_count=1)
    first, last = summed.index.get_level_values("_period").min(), summed.index.get_level_values("_period").max()
    grid = pd.period_range(first, last, freq=alias) if alias else pd.Index(np.arange(first, last + 1, dtype="int64"))
    wide = summed.unstack("_period").reindex(columns=grid)
    _check_spacing(wide.to_numpy(dtype="float64"), frequency)
    keys = wide.index.to_frame(index=False)
    return TimeSeriesPanel(keys=keys, timestamps=grid.start_time if alias else grid,
                           target=wide.to_numpy(dtype="float64"), frequency=frequency)


def _periods(table, name, column, alias, warn_of_partial_end=False):
    """The timestamp column as periods of `alias`, or as integer steps where `alias` is None; with
    `warn_of_partial_end`, a warning when finer data stops inside its last period (see `_warn_of_partial_end`)."""
    if alias is not None:
        timestamps = to_datetimes(table[column], name, column)
        periods = timestamps.dt.to_period(alias)
        if warn_of_partial_end:
            _warn_of_partial_end(timestamps, periods, alias)
        return periods
    values = pd.to_numeric(table[column], errors="coerce")
    bad = values.isna() | (values != values.round())
    if bad.any():
        row = bad.idxmax()
        value = shown(table[column][row])
        raise ValueError(f"`{name}` column {column!r} must hold integer step numbers for a step frequency; row "
                         f"{row!r} holds {value!r}.")
    return values.astype("int64")


def _warn_of_partial_end(timestamps, periods, alias):
    """Warns when data on a grid finer than `alias` (daily sales for a weekly forecast) stops before its last
    period ends: summed as Forecast sums it, that period holds part of its days and looks like a drop in
    demand, at the very step every forecast starts from."""
    distinct = pd.Series(timestamps.dropna().unique()).sort_values()
    if len(distinct) < 3:
        return
    gaps = distinct.diff().iloc[1:]
    step = gaps.median()  # the data's own spacing, where it has one: transactions at any time have none
    last = periods.max()
    if ((gaps == step).mean() < 0.9 or step >= last.end_time - last.start_time
            or distinct.iloc[-1] + step > last.end_time):
        return
    end = distinct.iloc[-1]
    shown_end = f"{end:%Y-%m-%d}" if end == end.normalize() else str(end)
    warnings.warn(f"The target's data ends at {shown_end}, inside its last {alias!r} period "
                  f"({last.start_time:%Y-%m-%d} to {last.end_time:%Y-%m-%d}): summed over the part recorded, that "
                  "period will look low, and forecasts start from it. Leave its rows out, or give data up to a "
                  "period's end.", stacklevel=4)


def _check_spacing(values, frequency):
    """Refuses a grid finer than the data: when nearly every gap between a series' observed steps is
    the same number (two or more) of `frequency` periods, the data has a coarser frequency (daily data
    aligned hourly leaves 23 of 24 steps empty). Irregular gaps, as in intermittent data, pass."""
    gaps = np.concatenate([np.diff(np.flatnonzero(~np.isnan(row))) for row in values] + [np.array([], int)])
    if gaps.size < 2:
        return
    spacing = int(np.median(gaps))
    if spacing >= 2 and np.mean(gaps == spacing) >= 0.9:
        raise ValueError(
            f"The target's observations are {spacing} {frequency!r} periods apart almost everywhere, so a "
            f"{frequency!r} grid would be {1 - 1 / spacing:.0%} missing values: align it at the data's own "
            f"frequency (one step per {spacing} {frequency!r} periods, e.g. 'D' for daily data)."
        )


def align_related(table, panel, prediction_length, covariate_columns=None, item_column="item_id",
                  dimension_columns=(), timestamp_column="timestamp", aggregation="mean", filling=None):
    """Aligns the related time series onto the panel's grid plus `prediction_length` future steps.

    Values in one period are aggregated (`"mean"` by default; `"sum"`, `"first"`, `"last"`,
    `"min"`, `"max"` too). Covariates are known into the future, so every series needs a
    value at every future step: a missing one raises unless `filling` gives the column a
    `futurefill`. Gaps in the past are filled as `filling` says (Forecast's middlefill and
    backfill, `kerasts.data.filling`), by default from the last earlier value (then the next
    later one), as a known covariate such as a price holds until it changes.

    Returns:
        float32 array `(series, T + prediction_length, covariates)`, series in panel order,
        and the list of covariate names.
    """
    key_columns = [item_column, *dimension_columns]
    _require_table(table, "related_table", key_columns + [timestamp_column])
    _require_keys(table, "related_table", key_columns)
    if aggregation not in ("mean", "sum", "first", "last", "min", "max"):
        raise ValueError(f"`aggregation` must be mean, sum, first, last, min or max, got {aggregation!r}.")
    if covariate_columns is None:
        covariate_columns = [c for c in table.columns if c not in key_columns + [timestamp_column]]
    if not covariate_columns:
        raise ValueError("`related_table` has no covariate columns besides the keys and timestamp.")
    filling = filling or {}
    frame = table[key_columns].copy()
    frame["_period"] = _periods(table, "related_table", timestamp_column, period_alias(panel.frequency))
    for column in covariate_columns:
        if column not in table.columns:
            raise ValueError(f"`related_table` lacks covariate column {column!r}; it has {list(table.columns)}.")
        frame[column] = numeric_column(table, "related_table", column)
    aggregated = frame.groupby(key_columns + ["_period"], sort=True)[covariate_columns].agg(aggregation)
    grid = panel.step_periods(0, len(panel.timestamps) + prediction_length)
    series_index = pd.MultiIndex.from_frame(panel.keys) if len(key_columns) > 1 else pd.Index(panel.keys[item_column])
    cube = np.empty((len(panel.keys), len(grid), len(covariate_columns)), dtype="float64")
    for position, column in enumerate(covariate_columns):
        wide = aggregated[column].unstack("_period").reindex(index=series_index, columns=grid)
        values = wide.to_numpy(dtype="float64")
        if np.isnan(values).all(axis=1).any():
            row = int(np.flatnonzero(np.isnan(values).all(axis=1))[0])
            raise ValueError(f"Covariate {column!r} has no value at all for series {panel.series_ids[row]!r}.")
        filled = fill_related(values, filling.get(column, {}), len(panel.timestamps))
        future = filled[:, len(panel.timestamps):]
        if np.isnan(future).any():
            row, step = np.argwhere(np.isnan(future))[0]
            raise ValueError(
                f"Covariate {column!r} is missing over the forecast horizon: series {panel.series_ids[row]!r} "
                f"has no value at {panel.step_timestamps(len(panel.timestamps) + step, 1)[0]}. Known covariates "
                f"must cover all {prediction_length} future steps, or say how to fill them (`filling`, e.g. "
                f"{{{column!r}: {{'futurefill': 'value', 'futurefill_value': ...}}}}); a related series known only "
                "up to the forecast start is past-only (`past_only_columns`)."
            )
        cube[:, :, position] = filled
    return cube.astype("float32"), list(covariate_columns)


@dataclasses.dataclass(frozen=True)
class CategoryEncoder:
    """Categories of item metadata -> integer codes, one `IdVocabulary` per column (0 for unknown
    or missing values).

    Attributes:
        vocabularies: per column, the known categories in code order (code = position + 1).
    """

    vocabularies: dict

    @property
    def cardinalities(self):
        """Number of codes per column, the unknown bucket included."""
        return [len(vocabulary) + 1 for vocabulary in self.vocabularies.values()]

    @classmethod
    def fit(cls, metadata, columns, item_column="item_id"):
        _require_table(metadata, "item_metadata", [item_column, *columns])
        if metadata[item_column].duplicated().any():
            duplicated = metadata[item_column][metadata[item_column].duplicated()].iloc[0]
            raise ValueError(f"`item_metadata` lists item {duplicated!r} more than once.")
        return cls({column: IdVocabulary.fit(metadata[column]).ids for column in columns})

    def encode(self, metadata, item_ids, item_column="item_id"):
        """Codes `(len(item_ids), columns)`: unseen categories and items absent from the
        metadata get code 0, the documented fallback for data that arrives after training."""
        columns = list(self.vocabularies)
        _require_table(metadata, "item_metadata", [item_column, *columns])
        index = metadata.drop_duplicates(item_column)[item_column].astype(str)
        rows = metadata.drop_duplicates(item_column).set_index(index)
        wanted = pd.Index(item_ids).astype(str)
        if len(wanted) and not wanted.isin(index).any():
            raise ValueError(f"None of the {len(wanted)} items matches an id of `item_metadata` column "
                             f"{item_column!r} (e.g. {list(wanted[:2])} against {list(index[:2])}): are they the "
                             "same ids, spelled the same way?")
        rows = rows.reindex(wanted)
        codes = np.zeros((len(item_ids), len(columns)), dtype="int32")
        for position, column in enumerate(columns):
            known = rows[column].notna().to_numpy()
            codes[known, position] = IdVocabulary(self.vocabularies[column]).encode(rows[column][known])
        return codes
