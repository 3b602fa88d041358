"""The forecaster protocol: what every forecasting model and baseline implements."""

import numpy as np

from kerasts._checks import check_positive_int
from kerasts.data.forecast_tables import forecast_export_table


class Forecaster:
    """Base of every forecaster: DeepAR (`kerasts.models.DeepARForecaster`), the likelihood-head MLP,
    NPTS and seasonal naive.

    A forecaster is set up with its settings, including `prediction_length`; `fit(panel, end)` learns
    from a `kerasts.data.TimeSeriesPanel` (its related data included) up to grid index `end`, owning
    the whole training recipe; `predict_paths(panel, origin, num_samples, seed)` samples paths of the
    `prediction_length` steps from grid index `origin` on, seeing only the data before it. A point
    forecaster returns one path. `kerasts.evaluation.backtest` and the workflows run nothing else.

    Args:
        prediction_length: steps to forecast.
    """

    def __init__(self, prediction_length):
        self.prediction_length = check_positive_int("prediction_length", prediction_length)

    def fit(self, panel, end=None):
        """Learns from the panel's data before grid index `end` (default: all of it); returns self.
        Forecasters with nothing to learn only check the panel."""
        self.training_end(panel, end)
        return self

    def get_config(self):
        """The constructor's arguments: `type(self)(**forecaster.get_config())` sets up the same forecaster
        (the fitted network, if any, is `model`, saved on its own)."""
        return {"prediction_length": self.prediction_length}

    def predict_paths(self, panel, origin=None, num_samples=100, seed=0):
        """Sample paths `(series, num_samples, prediction_length)` from grid index `origin` (default:
        just after the data), series in panel order; the same seed gives the same paths."""
        raise NotImplementedError

    def forecast_dataframe(self, panel, origin=None, num_samples=100, seed=0, quantiles=(0.1, 0.5, 0.9)):
        """The forecast in Amazon Forecast's export layout (keys, `date`, `p10`, `p50`, `p90`, `mean`).

        `origin`: by default each series is forecast from the step after its own last observation
        (series that start and end at different times each get their own dates; a series never
        observed is left out); an int forecasts every series from that grid index; an array gives
        one origin per series (-1 leaves a series out).
        """
        from kerasts.evaluation.backtest import predict_from_origins  # evaluation builds on this protocol

        origins = self.series_origins(panel, origin)
        rows = np.flatnonzero(origins >= 0)
        paths = predict_from_origins(self, panel, origins, num_samples, seed)
        return forecast_export_table(panel.select(rows), origins[rows], paths[rows], quantiles)

    def series_origins(self, panel, origin=None):
        """One forecast origin per series, checked: `None` -> the step after each series' last
        observation (-1 for a series never observed), an int -> that grid index for all, an array ->
        itself (-1 leaves a series out)."""
        if origin is None:
            return panel.series_end_origins
        if np.ndim(origin) == 0:
            return np.full(len(panel.keys), self.forecast_origin(panel, origin))
        origins = np.asarray(origin)
        if origins.shape != (len(panel.keys),) or not np.issubdtype(origins.dtype, np.integer):
            raise ValueError(f"`origin` must be an int or one int per series ({len(panel.keys)}), got an array of "
                             f"shape {origins.shape} and dtype {origins.dtype}.")
        for value in np.unique(origins[origins >= 0]):
            self.forecast_origin(panel, int(value))
        return origins.astype("int64")

    @staticmethod
    def training_end(panel, end):
        """`end` checked against the panel (default: the grid's length)."""
        length = panel.target.shape[1]
        if end is None:
            return length
        if isinstance(end, bool) or not 1 <= int(end) <= length:
            raise ValueError(f"`end` must be a grid index in [1, {length}], got {end!r}.")
        return int(end)

    def forecast_origin(self, panel, origin):
        """`origin` checked against the panel (default: just after the data)."""
        length = panel.target.shape[1]
        origin = length if origin is None else origin
        if isinstance(origin, bool) or not 1 <= int(origin) <= length:
            raise ValueError(f"`origin` must be a grid index in [1, {length}], got {origin!r}.")
        return int(origin)
