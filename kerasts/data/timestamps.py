"""The one checked conversion of timestamp columns, for Forecast tables and Personalize interactions.

Integers are ambiguous (pandas reads them as nanoseconds, which puts every row in 1970), so they are
recognised by magnitude: epoch seconds are about 1e9 and epoch milliseconds about 1e12 for any date
between 1973 and 5138. What fits neither is refused with what was found.
"""

import warnings

import numpy as np
import pandas as pd

from kerasts._checks import finite_number, shown

# Magnitudes of epoch timestamps after 1973-03-03 and before 5138: seconds, then milliseconds.
_EPOCH_RANGES = {"s": (1e8, 1e11), "ms": (1e11, 1e14)}
_UNIT_NAMES = {"s": "epoch seconds", "ms": "epoch milliseconds"}


def _epoch_unit(values):
    """'s', 'ms' or None: the unit every value's magnitude fits."""
    magnitudes = np.abs(values[np.isfinite(values)])
    for unit, (low, high) in _EPOCH_RANGES.items():
        if magnitudes.size and magnitudes.min() >= low and magnitudes.max() < high:
            return unit
    return None


def _example(series, mask):
    row = mask.idxmax()
    return f"row {row!r} holds {shown(series[row])!r}"


def to_datetimes(series, table, column):
    """A Forecast table's timestamp column as datetimes.

    Takes datetimes, strings pandas parses, or numbers in epoch seconds or milliseconds (recognised by
    magnitude); timestamps in one time zone keep their wall-clock time. Refuses, naming the table, the column and a row: unparsable strings, strings with
    different UTC offsets (convert them to one time zone first), numbers in no epoch unit, and
    missing timestamps.
    """
    name = f"`{table}` column {column!r}"
    if series.isna().any():
        raise ValueError(f"{name} holds missing timestamps: {_example(series, series.isna())}.")
    if pd.api.types.is_bool_dtype(series):
        raise TypeError(f"{name} holds booleans, not timestamps.")
    if pd.api.types.is_numeric_dtype(series):
        unit = _epoch_unit(series.to_numpy(dtype="float64"))
        if unit is None:
            raise ValueError(f"{name} holds numbers that are neither epoch seconds (about 1e9) nor epoch "
                             f"milliseconds (about 1e12), from {shown(series.min())!r} to {shown(series.max())!r}: give "
                             "dates or epoch times.")
        return pd.to_datetime(series, unit=unit)
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return series.dt.tz_localize(None)  # one time zone: periods follow its wall-clock time
    if pd.api.types.is_datetime64_dtype(series):
        return series
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pandas' notes on inferring formats and mixed offsets
            parsed = pd.to_datetime(series)
    except (ValueError, TypeError, OverflowError) as error:
        # pandas' own message advises arguments of its to_datetime, which the user does not call: name the row.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            unread = pd.to_datetime(series, errors="coerce").isna()
        found = _example(series, unread) if unread.any() else str(error).splitlines()[0]
        raise ValueError(f"{name} holds values that are not timestamps: {found}. Give every timestamp in one "
                         "format, e.g. 2025-01-31 or 2025-01-31 13:00:00.") from error
    if not (isinstance(parsed.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(parsed)):
        offsets = pd.Series([value.utcoffset() for value in parsed]).astype(str)
        first = offsets.iloc[0]
        raise ValueError(f"{name} holds timestamps with different UTC offsets ({first} and "
                         f"{offsets[offsets != first].iloc[0]}, {_example(series, offsets != first)}): convert "
                         "them to one time zone first.")
    return parsed.dt.tz_localize(None) if isinstance(parsed.dtype, pd.DatetimeTZDtype) else parsed


def epoch_seconds_column(series, name, missing=False):
    """`series` as epoch seconds (numbers, missing values as NaN), or a `ValueError` naming `name` and a row:
    values that are not numbers (e.g. date strings), milliseconds (divide by 1000), and missing values
    unless `missing`."""
    if pd.api.types.is_datetime64_any_dtype(series):  # to_numeric would give nanoseconds, read as milliseconds
        raise ValueError(f"{name} must hold epoch seconds, not datetimes ({series.dtype}): convert it with "
                         "`(column - pd.Timestamp(0, tz=column.dt.tz)) // pd.Timedelta(seconds=1)`.")
    numbers = pd.to_numeric(series, errors="coerce")
    bad = numbers.isna() & series.notna() if missing else numbers.isna()
    if bad.any():
        raise ValueError(f"{name} must hold epoch seconds; {_example(series, bad)}"
                         + (" (a date string: convert it to epoch seconds)" if isinstance(series[bad.idxmax()], str)
                            else "") + ".")
    if np.nanmax(np.abs(numbers.to_numpy(dtype="float64")), initial=0.0) >= _EPOCH_RANGES["ms"][0]:
        raise ValueError(f"{name} must hold epoch seconds, but its values look like epoch milliseconds "
                         f"(up to {shown(numbers.max())!r}): divide them by 1000.")
    return numbers


def to_epoch_seconds(series, column):
    """Personalize's TIMESTAMP column as int64 epoch seconds (`epoch_seconds_column`, no missing values)."""
    return epoch_seconds_column(series, f"`interactions` column {column!r}").astype("int64")


def epoch_seconds(value, name):
    """One timestamp in epoch seconds (a live event's `sentAt`, a new item's `CREATION_TIMESTAMP`) as a float,
    or a `ValueError` naming `name`: not a finite number, or outside the epoch-seconds range (1973 to 5138;
    milliseconds are named as such)."""
    value = finite_number(value, name)
    low, high = _EPOCH_RANGES["s"]
    if not low <= value < high:
        hint = " (that looks like milliseconds: divide by 1000)" if value >= high else ""
        raise ValueError(f"{name} must be epoch seconds, got {value!r}{hint}.")
    return value
