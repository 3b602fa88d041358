"""Argument and data checks, written once for every module that takes such arguments."""

import numbers


def check_positive_int(name, value):
    """Raises `ValueError` unless `value` is an int (numpy ints too, not bool) of at least 1."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"`{name}` must be a positive integer, got {value!r}.")
    return int(value)


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
    tf.debugging.Assert(condition, [message])
