"""Amazon Forecast's missing-value filling ("filling" featurization) on aligned panels.

Forecast fills the target and the related series before training, per attribute, with its
`FeaturizationMethodParameters` (https://docs.aws.amazon.com/forecast/latest/dg/howitworks-missing-values.html):

* target: `frontfill` none (a series starts at its first value), `middlefill` (gaps between its first
  and last value) and `backfill` (after its last value, to the end of the data), each `zero` (the
  default), `nan` (left missing), `value` (with `middlefill_value` / `backfill_value`), `mean`,
  `median`, `min` or `max` (of the series' own recorded values);
* related series: `middlefill`, `backfill` and `futurefill` (the forecast horizon), with the same
  methods but `nan`. Forecast has no defaults there; kerasts's is that a value holds until it
  changes (past gaps take the last earlier value) and a value missing over the horizon is an error.

Example of `filling` (attribute name -> parameters):

    {"target_value": {"middlefill": "mean", "backfill": "nan"},
     "price": {"futurefill": "value", "futurefill_value": "9.99"}}
"""

import warnings

import numpy as np

TARGET_METHODS = ("zero", "nan", "value", "mean", "median", "min", "max")
RELATED_METHODS = ("zero", "value", "mean", "median", "min", "max")
TARGET_REGIONS = ("frontfill", "middlefill", "backfill")
RELATED_REGIONS = ("middlefill", "backfill", "futurefill")
TARGET_DEFAULTS = {"frontfill": "none", "middlefill": "zero", "backfill": "zero"}
_STATISTICS = {"mean": np.nanmean, "median": np.nanmedian, "min": np.nanmin, "max": np.nanmax}


def check_filling(filling, target_column, related_columns=()):
    """Validates a `filling` mapping (attribute -> Forecast's filling parameters) and returns it with
    every target region resolved (defaults filled in) and values as floats.

    Raises a `ValueError` naming the attribute, region or method that is not Forecast's.
    """
    if filling is None:
        filling = {}
    if not isinstance(filling, dict):
        raise TypeError(f"`filling` must map attribute names to filling parameters, got {type(filling).__name__}.")
    unknown = sorted(set(filling) - {target_column, *related_columns})
    if unknown:
        raise ValueError(f"`filling` names attribute(s) {unknown}; the target is {target_column!r} and the related "
                         f"series are {list(related_columns)}.")
    resolved = {target_column: _check_attribute(target_column, {**TARGET_DEFAULTS, **filling.get(target_column, {})},
                                                TARGET_REGIONS, TARGET_METHODS)}
    for column in related_columns:
        if column in filling:
            resolved[column] = _check_attribute(column, filling[column], RELATED_REGIONS, RELATED_METHODS)
    return resolved


def _check_attribute(column, parameters, regions, methods):
    if not isinstance(parameters, dict):
        raise TypeError(f"The filling of {column!r} must be a dict such as {{'middlefill': 'mean'}}, got "
                        f"{parameters!r}.")
    checked = {}
    for key, method in parameters.items():
        if key.endswith("_value"):
            continue
        if key not in regions:
            raise ValueError(f"Unknown filling parameter {key!r} for {column!r}: expected {list(regions)} (with "
                             "'<region>_value' for the value method).")
        if key == "frontfill":
            if method != "none":
                raise ValueError(f"The target's frontfill can only be 'none' (a series starts at its first value), "
                                 f"got {method!r} for {column!r}.")
            continue
        if method not in methods:
            raise ValueError(f"Unknown {key} method {method!r} for {column!r}: expected one of {list(methods)}.")
        checked[key] = method
        if method == "value":
            if f"{key}_value" not in parameters:
                raise ValueError(f"{key}='value' for {column!r} needs '{key}_value' (the number to fill with).")
            try:
                checked[f"{key}_value"] = float(parameters[f"{key}_value"])
            except (TypeError, ValueError):
                raise ValueError(f"'{key}_value' for {column!r} must be a number, got "
                                 f"{parameters[f'{key}_value']!r}.") from None
    stray = sorted(key for key in parameters if key.endswith("_value") and checked.get(key[:-6]) != "value")
    if stray:
        raise ValueError(f"{stray} for {column!r} apply only with the 'value' method of their region.")
    return checked


def _fill_values(rows, method, value):
    """Per series, the number its missing steps get (`rows`: the series' recorded values)."""
    if method == "zero":
        return np.zeros(len(rows))
    if method == "value":
        return np.full(len(rows), value)
    with warnings.catch_warnings():  # a series with no value at all stays missing, without numpy's warning
        warnings.simplefilter("ignore", RuntimeWarning)
        return _STATISTICS[method](rows, axis=1)


def regions(values):
    """Boolean masks `(middle, back)` of the missing steps between each series' first and last value,
    and after its last value."""
    present = ~np.isnan(values)
    length = values.shape[1]
    steps = np.arange(length)[None, :]
    first = np.where(present.any(axis=1), present.argmax(axis=1), length)[:, None]
    last = np.where(present.any(axis=1), length - 1 - present[:, ::-1].argmax(axis=1), -1)[:, None]
    missing = ~present
    return missing & (steps > first) & (steps < last), missing & (steps > last) & (last >= 0)


def fill_target(target, parameters):
    """The target `(series, T)` filled as `parameters` (one `check_filling` entry) says, and the mask
    of the steps filled. The statistics come from each series' own recorded values."""
    target = np.asarray(target, dtype="float64")
    filled_values = target.copy()
    for region, mask in zip(("middlefill", "backfill"), regions(target)):
        method = parameters[region]
        if method == "nan":
            continue
        per_series = _fill_values(target, method, parameters.get(f"{region}_value"))
        filled_values = np.where(mask, per_series[:, None], filled_values)
    filled = np.isnan(target) & ~np.isnan(filled_values)
    return filled_values, filled


def fill_related(wide, parameters, history_length):
    """One related series `(series, T + future)` with its gaps filled: `parameters` (a `check_filling`
    entry, possibly empty) decides each region; without one, the past holds the last earlier value
    (the first value before it, from the future if need be) and the future stays missing for the caller
    to report."""
    wide = np.asarray(wide, dtype="float64")
    past, future = wide[:, :history_length], wide[:, history_length:]
    recorded = past.copy()
    middle, back = regions(past)
    for region, mask in (("middlefill", middle), ("backfill", back)):
        if region in parameters:
            values = _fill_values(recorded, parameters[region], parameters.get(f"{region}_value"))
            past = np.where(mask, values[:, None], past)
    if "futurefill" in parameters and future.size:
        values = _fill_values(recorded, parameters["futurefill"], parameters.get("futurefill_value"))
        future = np.where(np.isnan(future), values[:, None], future)
    held = _hold(np.concatenate([past, future], axis=1))
    return np.concatenate([held[:, :history_length], future], axis=1)


def _hold(values):
    """Each missing step takes the last earlier value; steps before the first value take the first."""
    length = values.shape[1]
    present = ~np.isnan(values)
    last_index = np.maximum.accumulate(np.where(present, np.arange(length)[None, :], -1), axis=1)
    first = np.where(present.any(axis=1), present.argmax(axis=1), 0)[:, None]
    source = np.where(last_index >= 0, last_index, first)
    return np.take_along_axis(values, source, axis=1)
