"""Amazon Forecast's what-if analysis: the related series changed by a replacement table or by
transformations (CreateWhatIfForecast's `TimeSeriesReplacementsDataSource` and
`TimeSeriesTransformations`), applied to a predictor's aligned panel."""

import dataclasses

import numpy as np
import pandas as pd

from kerasts._checks import check_columns
from kerasts.data.forecast_tables import numeric_column
from kerasts.frequencies import period_alias

OPERATIONS = {"ADD": np.add, "SUBTRACT": np.subtract, "MULTIPLY": np.multiply, "DIVIDE": np.divide}
COMPARISONS = {"EQUALS": np.equal, "NOT_EQUALS": np.not_equal, "LESS_THAN": np.less, "GREATER_THAN": np.greater}


def _covariate_arrays(panel):
    """Name -> (array field, position) for every related series of the panel, known and past-only."""
    located = {name: ("covariates", position) for position, name in enumerate(panel.covariate_names)}
    located.update({name: ("past_covariates", position) for position, name in enumerate(panel.past_covariate_names)})
    return located


def _step_grid(panel):
    """The grid and the steps the known covariates reach beyond it, as comparable values (timestamps
    or step numbers)."""
    steps = panel.target.shape[1] if panel.covariates is None else panel.covariates.shape[1]
    return pd.Index(panel.step_timestamps(0, steps))


def _as_steps(values, panel, name):
    if panel.has_calendar:
        try:
            return pd.DatetimeIndex(pd.to_datetime(values)).to_period(period_alias(panel.frequency)).start_time
        except (ValueError, TypeError) as error:
            raise ValueError(f"`{name}` holds a value that is not a timestamp: {error}") from None
    numbers = pd.to_numeric(pd.Series(values), errors="coerce")
    if numbers.isna().any():
        raise ValueError(f"`{name}` must hold step numbers for the {panel.frequency!r} grid.")
    return pd.Index(numbers.astype("int64"))


def _series_rows(panel, keys, name):
    """Panel rows of the series named by `keys` (a DataFrame of the key columns), naming unknown ones."""
    lookup = {tuple(row): index for index, row in enumerate(panel.keys.astype(str).itertuples(index=False))}
    wanted = [tuple(row) for row in keys.astype(str).itertuples(index=False)]
    unknown = sorted({key for key in wanted if key not in lookup})
    if unknown:
        raise ValueError(f"`{name}` names series the predictor does not have: {unknown[:5]} (keys "
                         f"{list(panel.keys.columns)}).")
    return np.array([lookup[key] for key in wanted], dtype="int64")


def replace_related(panel, replacements):
    """The panel with related values replaced where `replacements` (the related table's layout: the key
    columns, `timestamp` and any related columns) gives them; rows in one period are averaged."""
    if not isinstance(replacements, pd.DataFrame):
        raise TypeError(f"`replacements` must be a pandas DataFrame, got {type(replacements).__name__}.")
    keys = list(panel.keys.columns)
    check_columns(replacements, keys + ["timestamp"], "`replacements`", f" (the keys {keys} and 'timestamp')")
    located = _covariate_arrays(panel)
    columns = [column for column in replacements.columns if column not in keys + ["timestamp"]]
    unknown = sorted(set(columns) - set(located))
    if unknown or not columns:
        raise ValueError(f"`replacements` column(s) {unknown or columns} are not related series of the predictor "
                         f"(it has {list(located)}).")
    rows = _series_rows(panel, replacements[keys], "replacements")
    grid = _step_grid(panel)
    steps = grid.get_indexer(_as_steps(replacements["timestamp"], panel, "replacements"))
    if (steps < 0).any():
        bad = replacements["timestamp"].iloc[int(np.flatnonzero(steps < 0)[0])]
        raise ValueError(f"`replacements` timestamp {bad!r} is outside the predictor's grid and horizon "
                         f"({grid[0]} .. {grid[-1]}).")
    arrays = {field: getattr(panel, field).copy() for field in ("covariates", "past_covariates")
              if getattr(panel, field) is not None}
    for column in columns:
        field, position = located[column]
        values = numeric_column(replacements, "replacements", column)  # an empty cell keeps the value
        given = values.notna().to_numpy() & (steps < arrays[field].shape[1])
        frame = pd.DataFrame({"row": rows[given], "step": steps[given], "value": values[given].to_numpy()})
        means = frame.groupby(["row", "step"])["value"].mean()
        arrays[field][means.index.get_level_values(0), means.index.get_level_values(1), position] = means.to_numpy()
    return dataclasses.replace(panel, **arrays)


def transform_related(panel, transformations):
    """The panel with each transformation applied: `{"Action": {"AttributeName": column, "Operation":
    ADD|SUBTRACT|MULTIPLY|DIVIDE, "Value": number}, "TimeSeriesConditions": [{"AttributeName": a key
    column, an item attribute, a related series or "timestamp", "AttributeValue": ..., "Condition":
    EQUALS|NOT_EQUALS|LESS_THAN|GREATER_THAN}, ...]}`, as CreateWhatIfForecast's; the conditions (all must
    hold) pick the series and steps changed (on a related series: where its unchanged value meets it)."""
    if not isinstance(transformations, (list, tuple)) or not transformations:
        raise ValueError("`transformations` must be a non-empty list of {'Action': ..., 'TimeSeriesConditions': "
                         "[...]} dicts.")
    located = _covariate_arrays(panel)
    arrays = {field: getattr(panel, field).copy() for field in ("covariates", "past_covariates")
              if getattr(panel, field) is not None}
    grid = _step_grid(panel)
    for number, transformation in enumerate(transformations):
        where = f"transformation {number}"
        action = transformation.get("Action") if isinstance(transformation, dict) else None
        if not isinstance(action, dict) or {"AttributeName", "Operation", "Value"} - set(action):
            raise ValueError(f"{where} needs an 'Action' with AttributeName, Operation and Value, got "
                             f"{transformation!r}.")
        if action["AttributeName"] not in located:
            raise ValueError(f"{where} changes {action['AttributeName']!r}, not a related series of the predictor "
                             f"(it has {list(located)}).")
        if action["Operation"] not in OPERATIONS:
            raise ValueError(f"{where}: unknown Operation {action['Operation']!r}; expected one of {list(OPERATIONS)}.")
        value = _number(action["Value"], f"{where}: Value must be a finite number")
        if not np.isfinite(value):
            raise ValueError(f"{where}: Value must be a finite number, got {action['Value']!r}.")
        field, position = located[action["AttributeName"]]
        length = arrays[field].shape[1]
        chosen = np.ones((len(panel.keys), length), dtype=bool)
        for condition in transformation.get("TimeSeriesConditions", []):
            chosen &= _condition_mask(panel, condition, grid[:length], where)
        changed = OPERATIONS[action["Operation"]](arrays[field][..., position], value)
        arrays[field][..., position] = np.where(chosen, changed, arrays[field][..., position])
    return dataclasses.replace(panel, **arrays)


def _condition_mask(panel, condition, grid, where):
    """Which (series, step) a condition holds at: on `timestamp`, a key column or an item attribute (text,
    ordered as numbers where every value is one), or a related series (its values before any change)."""
    if not isinstance(condition, dict) or {"AttributeName", "AttributeValue", "Condition"} - set(condition):
        raise ValueError(f"{where}: each condition needs AttributeName, AttributeValue and Condition, got "
                         f"{condition!r}.")
    name, kind, target = condition["AttributeName"], condition["Condition"], condition["AttributeValue"]
    if kind not in COMPARISONS:
        raise ValueError(f"{where}: unknown Condition {kind!r}; expected one of {list(COMPARISONS)}.")
    located = _covariate_arrays(panel)
    if name == "timestamp":
        values = np.asarray(grid)[None]
        target = np.asarray(_as_steps([target], panel, "AttributeValue"))[0]
    elif name in located:
        field, position = located[name]
        recorded = getattr(panel, field)[:, :len(grid), position]
        values = np.full((len(panel.keys), len(grid)), np.nan)  # past-only series end with the data: no match
        values[:, :recorded.shape[1]] = recorded
        target = _number(target, f"{where}: the condition on related series {name!r} needs a numeric AttributeValue")
    else:
        values = _attribute_values(panel, name, where)
        if kind in ("EQUALS", "NOT_EQUALS") and str(target) not in set(values):
            raise ValueError(f"{where}: no series has {name} = {str(target)!r}.")
        # An item without the attribute is unequal to any value and neither less nor greater.
        known, held = values != "", np.full(len(values), kind == "NOT_EQUALS")
        if known.any():  # equality stays textual: ids "007" and "7" are two items
            ordered = kind in ("LESS_THAN", "GREATER_THAN")
            held[known] = COMPARISONS[kind](*(_comparable(values[known], str(target)) if ordered
                                              else (values[known], str(target))))
        return held[:, None]
    return COMPARISONS[kind](values, target)


def _attribute_values(panel, name, where):
    """Each series' value of a key column or item attribute, as text ("" where an attribute is unknown)."""
    if name in panel.keys.columns:
        return panel.keys[name].astype(str).to_numpy()
    if name in panel.category_names and panel.category_vocabularies:
        position = panel.category_names.index(name)
        vocabulary = np.array(("",) + tuple(panel.category_vocabularies[position]), dtype=object)
        return vocabulary[panel.static_categories[:, position]]
    raise ValueError(f"{where}: a condition's AttributeName must be a key column {list(panel.keys.columns)}, an item "
                     f"attribute {list(panel.category_names)}, a related series {list(_covariate_arrays(panel))} or "
                     f"'timestamp', got {name!r}.")


def _comparable(values, target):
    """Text values and target, for ordering: as numbers where all of them are numbers (so "9" < "10"), else as text."""
    numbers = pd.to_numeric(pd.Series(list(values) + [target]), errors="coerce")
    if numbers.notna().all():
        return numbers.to_numpy()[:-1], numbers.to_numpy()[-1]
    return values, target


def _number(value, message):
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{message}, got {value!r}.") from None
