import numpy as np

from kerasts._checks import check_positive_int
from kerasts.protocols.forecaster import Forecaster


def seasonal_naive_forecast(history, horizon, season_length):
    """Repeats the last observed season: `y_hat[t] = y[T - m + (t mod m)]`.

    Args:
        history: past values, shape `(length,)` or `(series, length)`; NaN is unobserved.
        horizon: number of steps to forecast.
        season_length: the season `m` (e.g. 24 for hourly data with a daily cycle).

    Returns:
        Point forecasts of shape `(horizon,)` or `(series, horizon)`. Where the value one
        season back is missing, the value a further season back is used; a step with no
        observed value at any season back stays NaN. A series whose own history (from its
        first observed value) is shorter than one season, such as a new item's, repeats its
        last value (naive, lag 1), as MASE's scale and NPTS do then.
    """
    history = np.asarray(history, dtype=np.float64)
    if history.ndim not in (1, 2):
        raise ValueError(f"`history` must be 1-D or 2-D (series, length), got shape {history.shape}.")
    check_positive_int("season_length", season_length)
    series = np.atleast_2d(history)
    length = series.shape[-1]
    if length == 0:
        raise ValueError("`history` has no steps to forecast from.")
    steps = np.arange(horizon)
    forecast = np.full((series.shape[0], horizon), np.nan)
    # Step t looks back k seasons, k = 1, 2, ..., until it finds an observed value.
    for seasons_back in range(1, length // season_length + 1):
        positions = length - seasons_back * season_length + steps % season_length
        candidate = series[:, positions]
        forecast = np.where(np.isnan(forecast), candidate, forecast)
    observed = ~np.isnan(series)
    short = observed.any(axis=1) & (length - observed.argmax(axis=1) < season_length)
    last = length - 1 - observed[short, ::-1].argmax(axis=1)
    forecast[short] = series[short, last][:, None]
    return forecast if history.ndim == 2 else forecast[0]


class SeasonalPointForecaster(Forecaster):
    """A forecaster whose forecast is a function of each series' history and a season: one sample
    path, the point (`point_forecast(history, horizon, season_length)`, set by each subclass).

    Args:
        season_length: the season `m`.
        prediction_length: steps to forecast.
    """

    point_forecast = None

    def __init__(self, season_length, *, prediction_length):
        super().__init__(prediction_length)
        self.season_length = check_positive_int("season_length", season_length)

    def get_config(self):
        return {**super().get_config(), "season_length": self.season_length}

    def predict_paths(self, panel, origin=None, num_samples=1, seed=0):
        history = panel.target[:, :self.forecast_origin(panel, origin)]
        return type(self).point_forecast(history, self.prediction_length, self.season_length)[:, None, :]


class SeasonalNaive(SeasonalPointForecaster):
    """Seasonal naive (`seasonal_naive_forecast`) as a `kerasts.protocols.Forecaster`.

    Args:
        season_length: the season `m`.
        prediction_length: steps to forecast.
    """

    point_forecast = staticmethod(seasonal_naive_forecast)
