"""kerasts's in-graph checks surfacing as the ValueError they carry, not as a graph error."""

import re

import tensorflow as tf

MARKER = "kerasts check:"
_CARRIED = re.compile(re.escape(f"[{MARKER}]") + r"\s*\[(.+?)\]", re.S)


class GraphChecksMixin:
    """A Keras model whose `fit`, `evaluate` and `predict` raise `ValueError(message)` when a check
    of `kerasts._checks.check_in_graph` fails inside the traced step, instead of TensorFlow's
    `InvalidArgumentError` with the message buried in its graph traceback."""

    def fit(self, *args, **kwargs):
        return self._surfacing_checks(super().fit, *args, **kwargs)

    def evaluate(self, *args, **kwargs):
        return self._surfacing_checks(super().evaluate, *args, **kwargs)

    def predict(self, *args, **kwargs):
        return self._surfacing_checks(super().predict, *args, **kwargs)

    @staticmethod
    def _surfacing_checks(method, *args, **kwargs):
        try:
            return method(*args, **kwargs)
        except tf.errors.InvalidArgumentError as error:
            carried = _CARRIED.search(error.message)
            if carried is None:
                raise
            raise ValueError(carried.group(1)) from None
