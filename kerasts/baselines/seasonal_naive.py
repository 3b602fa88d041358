import numpy as np

from kerasts._checks import check_positive_int


def seasonal_naive_forecast(history, horizon, season_length):
    """Repeats the last observed season: `y_hat[t] = y[T - m + (t mod m)]`.

    Args:
        history: past values, shape `(length,)` or `(series, length)`; NaN is unobserved.
        horizon: number of steps to forecast.
        season_length: the season `m` (e.g. 24 for hourly data with a daily cycle).

    Returns:
        Point forecasts of shape `(horizon,)` or `(series, horizon)`. Where the value one
        season back is missing, the value a further season back is used; a step with no
        observed value at any season back stays NaN.
    """
    history = np.asarray(history, dtype=np.float64)
    if history.ndim not in (1, 2):
        raise ValueError(f"`history` must be 1-D or 2-D (series, length), got shape {history.shape}.")
    check_positive_int("season_length", season_length)
    if history.shape[-1] < season_length:
        raise ValueError(f"`history` has {history.shape[-1]} steps, fewer than one season of {season_length}.")
    series = np.atleast_2d(history)
    length = series.shape[-1]
    steps = np.arange(horizon)
    forecast = np.full((series.shape[0], horizon), np.nan)
    # Step t looks back k seasons, k = 1, 2, ..., until it finds an observed value.
    for seasons_back in range(1, length // season_length + 1):
        positions = length - seasons_back * season_length + steps % season_length
        candidate = series[:, positions]
        forecast = np.where(np.isnan(forecast), candidate, forecast)
    return forecast if history.ndim == 2 else forecast[0]


class SeasonalNaive:
    """Seasonal-naive forecaster with the backtest interface (one sample path: the point)."""

    def __init__(self, season_length):
        self.season_length = season_length

    def predict_paths(self, windows, origin, num_samples, seed):
        history = windows.panel.target[:, :origin]
        return seasonal_naive_forecast(history, windows.prediction_length, self.season_length)[:, None, :]
