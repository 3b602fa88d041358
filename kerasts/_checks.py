"""Argument and data checks that read the same in eager code and inside a graph."""

import tensorflow as tf


def check_in_graph(condition, message):
    """Raises `ValueError(message)` eagerly; inside a graph, adds an assertion carrying it.

    Traced code (e.g. `model.fit`) cannot raise a Python error from a tensor's value, so
    there the same message arrives as the `InvalidArgumentError` of `tf.debugging.Assert`.
    """
    if tf.executing_eagerly():
        if not bool(condition):
            raise ValueError(message)
        return
    tf.debugging.Assert(condition, [message])
