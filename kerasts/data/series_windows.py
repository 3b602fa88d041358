"""One series to supervised windows: min-max scaling from the training part, sliding windows."""

import numpy as np

from kerasts._checks import check_positive_int


class MinMaxScaler:
    """Maps values linearly so that the training part spans [low, high] (default [-1, 1]).

    Statistics come from `fit` only, so validation values may fall outside the range.
    """

    def __init__(self, low=-1.0, high=1.0):
        if not low < high:
            raise ValueError(f"`low` must be below `high`, got {low} and {high}.")
        self.low, self.high = low, high
        self.minimum = self.maximum = None

    def fit(self, values):
        values = np.asarray(values, dtype="float64")
        if values.size == 0 or not np.isfinite(values).all():
            raise ValueError("MinMaxScaler.fit needs a non-empty array of finite numbers.")
        self.minimum, self.maximum = float(values.min()), float(values.max())
        return self

    def _span(self):
        if self.minimum is None:
            raise ValueError("MinMaxScaler is not fitted: call fit(training_values) first.")
        return (self.maximum - self.minimum) or 1.0  # a constant series maps to `low`

    def transform(self, values):
        span = self._span()
        return self.low + (np.asarray(values, dtype="float64") - self.minimum) / span * (self.high - self.low)

    def inverse_transform(self, values):
        span = self._span()
        return self.minimum + (np.asarray(values, dtype="float64") - self.low) / (self.high - self.low) * span


def sliding_windows(values, window):
    """`(x, y)`: every run of `window` consecutive values (x, shape (n, window, 1)) and the value
    right after it (y, shape (n,)), in time order."""
    values = np.asarray(values, dtype="float32")
    check_positive_int("window", window)
    if values.ndim != 1 or values.size <= window:
        raise ValueError(f"A 1-D series longer than the window ({window}) is needed; got shape {values.shape}.")
    x = np.lib.stride_tricks.sliding_window_view(values[:-1], window)
    return x[..., None].copy(), values[window:].copy()
