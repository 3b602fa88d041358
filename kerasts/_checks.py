"""Argument and data checks, written once for every module that takes such arguments."""

import json
import math
import numbers


def shown(value):
    """`value` as a message shows it: a numpy scalar as the Python number it holds (`inf`, not
    `np.float64(inf)`)."""
    return value.item() if hasattr(value, "item") and getattr(value, "ndim", None) == 0 else value


def check_columns(table, needed, name, explained=""):
    """Raises the `ValueError` naming the columns of `needed` that `table` lacks and those it has, with
    `explained` (a clause on where the needed names come from) and, for a column missing only by its case
    ('user_id' for 'USER_ID'), the rename that finds it."""
    missing = [column for column in needed if column not in table.columns]
    if not missing:
        return
    by_lower = {str(column).lower(): column for column in table.columns}
    renames = [f"{by_lower[str(column).lower()]!r} to {column!r}" for column in missing
               if str(column).lower() in by_lower]
    hint = f"; names are case-sensitive: rename {', '.join(renames)}" if renames else ""
    raise ValueError(f"{name} lacks column(s) {missing}; it has {list(table.columns)}{explained}{hint}.")


def check_positive_int(name, value):
    """Raises `ValueError` unless `value` is an int (numpy ints too, not bool) of at least 1."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"`{name}` must be a positive integer, got {value!r}.")
    return int(value)


def finite_number(value, name):
    """`value` as a float, or a `ValueError` naming `name` unless it is a finite int or float (not bool): a
    value read from JSON, where text, NaN or Infinity may come."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {shown(value)!r}.")
    return float(value)


def check_lags(lags):
    """Sorted lags, refused unless distinct positive integers."""
    lags = list(lags) if not isinstance(lags, (str, bytes)) and hasattr(lags, "__iter__") else None
    if not lags or any(isinstance(lag, bool) or not isinstance(lag, numbers.Integral) or lag < 1 for lag in lags) \
            or len(set(lags)) != len(lags):
        raise ValueError(f"`lags` must be distinct positive integers, got {lags!r}.")
    return sorted(int(lag) for lag in lags)


def check_levels(name, levels):
    """Probability levels (quantiles), each strictly between 0 and 1, as floats."""
    try:
        levels = [float(level) for level in levels]
    except (TypeError, ValueError) as error:
        raise ValueError(f"`{name}` must be numbers strictly between 0 and 1, got {levels!r}.") from error
    if not levels or any(not 0 < level < 1 for level in levels):
        raise ValueError(f"`{name}` must be numbers strictly between 0 and 1, got {levels!r}.")
    return levels


def check_in_graph(condition, message):
    """Raises `ValueError(message)` eagerly; inside a graph, adds an assertion carrying it.

    Traced code (e.g. `model.fit`) cannot raise a Python error from a tensor's value, so
    there the same message arrives as the `InvalidArgumentError` of `tf.debugging.Assert`.
    """
    import tensorflow as tf  # here, so the numpy-only modules can use the checks above

    if tf.executing_eagerly():
        if not bool(condition):
            raise ValueError(message)
        return
    from kerasts._graph_checks import MARKER

    tf.debugging.Assert(condition, [MARKER, message])  # GraphChecksMixin finds the message by the marker


def json_object(text, name):
    """The JSON object in `text`, or a `ValueError` naming `name` (a batch line, a request field)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{name} is not JSON: {error}") from None
    if not isinstance(value, dict):
        raise ValueError(f"{name} must be a JSON object, got {type(value).__name__}")
    return value
