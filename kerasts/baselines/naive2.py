import numpy as np

from kerasts._checks import check_positive_int
from kerasts.baselines.seasonal_naive import SeasonalPointForecaster

# M4's seasonality test: |ACF at lag m| above 1.645 standard errors (90%, one-sided).
SEASONALITY_CRITICAL_VALUE = 1.645


def _autocorrelation(values, lag):
    centred = values - values.mean()
    return float(np.sum(centred[lag:] * centred[:-lag]) / np.sum(centred ** 2))


def is_seasonal(history, season_length):
    """M4's seasonality test: the autocorrelation at lag `season_length` exceeds 1.645 times its
    standard error under Bartlett's formula (the squared autocorrelations at lags 1..m-1).
    A season of 1, a history shorter than three seasons, or a constant history is not seasonal."""
    values = np.asarray(history, dtype=np.float64)
    if season_length < 2 or values.size < 3 * season_length or np.all(values == values[0]):
        return False
    squared = sum(_autocorrelation(values, lag) ** 2 for lag in range(1, season_length))
    limit = SEASONALITY_CRITICAL_VALUE * np.sqrt((1 + 2 * squared) / values.size)
    return abs(_autocorrelation(values, season_length)) > limit


def seasonal_indices(history, season_length):
    """Classical multiplicative decomposition's seasonal indices, one per position in the season
    counted from the history's first step, normalised to mean 1 (M4's Naive2 uses them)."""
    values = np.asarray(history, dtype=np.float64)
    m = season_length
    # Centred moving average: 2 x m for an even season, m for an odd one.
    trend = np.full(values.size, np.nan)
    kernel = np.full(m, 1.0 / m)
    if m % 2 == 0:
        kernel = np.convolve(kernel, [0.5, 0.5])
    half = kernel.size // 2
    trend[half:values.size - half] = np.convolve(values, kernel, mode="valid")
    ratios = values / trend
    indices = np.array([np.nanmean(ratios[position::m]) for position in range(m)])
    return indices / indices.mean()


def naive2_forecast(history, horizon, season_length):
    """M4's Naive2: the last value of the seasonally adjusted history, seasonality put back.

    Where `is_seasonal` holds, the history is divided by the classical multiplicative seasonal
    indices; the forecast repeats its last value and multiplies each step by its index. Otherwise
    it is the naive forecast (the last value). Multiplicative adjustment needs positive values, so
    a history with a zero or negative value is never adjusted.

    Args:
        history: past values, `(length,)` or `(series, length)`. NaN before a series' first
            observation is its start; NaN inside it is filled with the value before it.
        horizon: steps to forecast.
        season_length: the season `m` (12 monthly, 4 quarterly, 1 yearly).

    Returns:
        Point forecasts `(horizon,)` or `(series, horizon)`; NaN for a series never observed.

    Reference:
        Makridakis, Spiliotis, Assimakopoulos, "The M4 Competition: 100,000 time series and 61
        forecasting methods", International Journal of Forecasting 36(1), 2020 (Naive2, OWA).
    """
    check_positive_int("horizon", horizon)
    check_positive_int("season_length", season_length)
    history = np.asarray(history, dtype=np.float64)
    if history.ndim not in (1, 2):
        raise ValueError(f"`history` must be 1-D or 2-D (series, length), got shape {history.shape}.")
    forecasts = np.full((np.atleast_2d(history).shape[0], horizon), np.nan)
    for row, series in enumerate(np.atleast_2d(history)):
        observed = np.flatnonzero(~np.isnan(series))
        if observed.size == 0:
            continue
        values = series[observed[0]:observed[-1] + 1].copy()
        for step in range(1, values.size):  # carry the last value over gaps
            if np.isnan(values[step]):
                values[step] = values[step - 1]
        factors = np.ones(horizon)
        if np.all(values > 0) and is_seasonal(values, season_length):
            indices = seasonal_indices(values, season_length)
            factors = indices[(values.size + np.arange(horizon)) % season_length]
            values = values / indices[np.arange(values.size) % season_length]
        forecasts[row] = values[-1] * factors
    return forecasts if history.ndim == 2 else forecasts[0]


class Naive2(SeasonalPointForecaster):
    """M4's Naive2 (`naive2_forecast`) as a `kerasts.protocols.Forecaster`: the benchmark OWA is
    relative to.

    Args:
        season_length: the season `m`.
        prediction_length: steps to forecast.
    """

    point_forecast = staticmethod(naive2_forecast)
