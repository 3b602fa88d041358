"""Forecast accuracy metrics, as Amazon Forecast and GluonTS define them.

Every function takes numpy-compatible arrays. Conventions shared by all of them:

* `y_true` has any shape `S` (e.g. `(series, horizon)`); NaN marks an unobserved
  target and that point is left out of every sum and mean.
* Point forecasts have shape `S`. Quantile forecasts have shape `(Q,) + S`, with the
  quantile levels given separately. Sample paths have shape `(num_samples,) + S`.
* A forecast that is NaN where the target is observed is an error, not a silent NaN.
* A ratio whose denominator is zero (e.g. all targets zero) is `nan`: the metric is
  undefined there, and returning 0 or inf would read as a real score.
"""

import numpy as np

from kerasts._checks import check_positive_int
from kerasts.frequencies import STEP, parse_frequency, step_season

# Amazon Forecast's MASE seasonality by frequency base (minute, hour, day, week, month, quarter, year).
SEASONALITY_BY_FREQUENCY = {"min": 60, "H": 24, "D": 7, "W": 52, "M": 12, "Q": 4, "Y": 1}


def seasonality_for_frequency(frequency):
    """Season length that MASE uses for a frequency string (`"H"` -> 24, as Amazon Forecast does).

    A multiple such as `"2H"` or an anchored weekly frequency such as `"W-SUN"` uses its base; a step
    frequency its declared season (`"step-12"` -> 12).
    """
    base = parse_frequency(frequency)[1]
    return step_season(frequency) if base == STEP else SEASONALITY_BY_FREQUENCY[base]


def _observed_target(y_true):
    y_true = np.asarray(y_true, dtype=np.float64)
    return y_true, ~np.isnan(y_true)


def _forecast(name, forecast, target_shape, observed, leading_axis=False):
    """Checks a forecast array against the target's shape and observed points."""
    forecast = np.asarray(forecast, dtype=np.float64)
    shape = forecast.shape[1:] if leading_axis else forecast.shape
    if leading_axis and forecast.ndim == 0:
        shape = None
    if shape != target_shape:
        expected = f"(n,) + {target_shape}" if leading_axis else f"{target_shape}"
        raise ValueError(
            f"`{name}` has shape {forecast.shape}, expected {expected} to match `y_true`."
        )
    if np.isnan(forecast[..., observed] if leading_axis else forecast[observed]).any():
        raise ValueError(f"`{name}` holds NaN where `y_true` is observed.")
    return forecast


def _ratio(numerator, denominator):
    return float(numerator / denominator) if denominator != 0 else float("nan")


def _quantile_levels(quantiles):
    levels = np.atleast_1d(np.asarray(quantiles, dtype=np.float64))
    if levels.ndim != 1 or levels.size == 0 or np.any((levels <= 0) | (levels >= 1)):
        raise ValueError(f"`quantiles` must be levels strictly between 0 and 1, got {quantiles!r}.")
    return levels


def quantile_loss(y_true, quantile_forecast, quantile):
    """Pinball loss at one level, summed over observed points (unnormalised)."""
    y_true, observed = _observed_target(y_true)
    forecast = _forecast("quantile_forecast", quantile_forecast, y_true.shape, observed)
    error = y_true[observed] - forecast[observed]
    return float(np.sum(np.maximum(quantile * error, (quantile - 1.0) * error)))


def weighted_quantile_loss(y_true, quantile_forecasts, quantiles):
    """wQL[tau] for each level: `2 * sum(pinball_tau) / sum(|y|)`.

    Args:
        y_true: targets, shape `S`.
        quantile_forecasts: shape `(Q,) + S`, one forecast per level.
        quantiles: the `Q` levels, each in (0, 1).

    Returns:
        A dict `{tau: wQL[tau]}`.
    """
    levels = _quantile_levels(quantiles)
    y_true, observed = _observed_target(y_true)
    forecasts = _forecast("quantile_forecasts", quantile_forecasts, y_true.shape, observed, leading_axis=True)
    if forecasts.shape[0] != levels.size:
        raise ValueError(
            f"`quantile_forecasts` has {forecasts.shape[0]} forecasts on axis 0 but {levels.size} "
            "`quantiles` were given."
        )
    denominator = np.sum(np.abs(y_true[observed]))
    return {
        float(tau): _ratio(2.0 * quantile_loss(y_true, forecast, tau), denominator)
        for tau, forecast in zip(levels, forecasts)
    }


def mean_weighted_quantile_loss(y_true, quantile_forecasts, quantiles):
    """Average of wQL over the given levels (Amazon Forecast's "Average wQL")."""
    return float(np.mean(list(weighted_quantile_loss(y_true, quantile_forecasts, quantiles).values())))


def wape(y_true, y_pred):
    """Weighted absolute percentage error: `sum|y - y_hat| / sum|y|`.

    Amazon Forecast scores the mean forecast with it; GluonTS calls the same ratio ND
    and scores the median (see `nd`).
    """
    y_true, observed = _observed_target(y_true)
    y_pred = _forecast("y_pred", y_pred, y_true.shape, observed)
    return _ratio(np.sum(np.abs(y_true[observed] - y_pred[observed])), np.sum(np.abs(y_true[observed])))


def nd(y_true, y_pred):
    """Normalised deviation (DeepAR paper, GluonTS): the WAPE ratio, conventionally of the median."""
    return wape(y_true, y_pred)


def rmse(y_true, y_pred):
    """Root mean squared error over observed points."""
    y_true, observed = _observed_target(y_true)
    y_pred = _forecast("y_pred", y_pred, y_true.shape, observed)
    if not observed.any():
        return float("nan")
    return float(np.sqrt(np.mean((y_true[observed] - y_pred[observed]) ** 2)))


def nrmse(y_true, y_pred):
    """RMSE divided by the mean absolute target (DeepAR paper, GluonTS)."""
    y_true_array, observed = _observed_target(y_true)
    mean_absolute_target = np.mean(np.abs(y_true_array[observed])) if observed.any() else 0.0
    return _ratio(rmse(y_true, y_pred), mean_absolute_target)


def mape(y_true, y_pred):
    """Mean absolute percentage error, `mean(|y - y_hat| / |y|)`, as a fraction (0.1 is 10%), as
    Amazon Forecast reports it.

    Points whose target is zero are left out (the ratio is undefined there); if every
    observed target is zero the result is `nan`.
    """
    y_true, observed = _observed_target(y_true)
    y_pred = _forecast("y_pred", y_pred, y_true.shape, observed)
    usable = observed & (y_true != 0)
    if not usable.any():
        return float("nan")
    return float(np.mean(np.abs(y_true[usable] - y_pred[usable]) / np.abs(y_true[usable])))


def smape_per_series(y_true, y_pred):
    """Symmetric MAPE in percent of each series, as the M4 competition defines it:
    `200 / h * sum(|y - y_hat| / (|y| + |y_hat|))` over its observed steps.

    Steps where both the target and the forecast are zero are left out (0 / 0); a series with no
    usable step is NaN. `y_true` is `(series, horizon)` (a 1-D array is one series); returns `(series,)`.
    """
    y_true, observed = _observed_target(y_true)
    y_pred = _forecast("y_pred", y_pred, y_true.shape, observed)
    y_true, y_pred, observed = np.atleast_2d(y_true), np.atleast_2d(y_pred), np.atleast_2d(observed)
    denominator = np.abs(y_true) + np.abs(y_pred)
    usable = observed & (denominator > 0)
    terms = np.where(usable, np.abs(y_true - y_pred) / np.where(usable, denominator, 1.0), 0.0)
    counts = usable.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, 200.0 * terms.sum(axis=1) / counts, np.nan)


def smape(y_true, y_pred):
    """M4's sMAPE in percent: `smape_per_series`, then the mean over the series that have a usable step."""
    return _mean_over_series(smape_per_series(y_true, y_pred))


def _mean_over_series(scores):
    return float(np.nanmean(scores)) if (~np.isnan(scores)).any() else float("nan")


def _seasonal_naive_scale(history, season_length):
    """Mean |y_t - y_{t-m}| over a 1-D history, ignoring NaN pairs."""
    history = np.asarray(history, dtype=np.float64)
    if season_length >= history.size:
        # As GluonTS does: too short a history for a season falls back to lag 1.
        season_length = 1
    differences = np.abs(history[season_length:] - history[:-season_length])
    differences = differences[~np.isnan(differences)]
    return float(np.mean(differences)) if differences.size else 0.0


def mase_per_series(y_true, y_pred, insample, season_length=None, frequency=None):
    """Mean absolute scaled error of each series, as M4 and the tourism competition compute it: the
    mean absolute error of the forecast over the series' in-sample seasonal-naive error.

    Args:
        y_true: targets, `(series, horizon)` (a 1-D array is one series).
        y_pred: point forecasts of the same shape.
        insample: the history before the forecast, `(series, length)` (1-D with a 1-D `y_true`);
            NaN is unobserved (e.g. padding before a series starts).
        season_length: the seasonal lag `m`; give it or `frequency`.
        frequency: pandas-style frequency string; sets `m` as Amazon Forecast does
            (`H`: 24, `D`: 7, `W`: 52, `M`: 12, ...).

    Returns:
        `(series,)` scores. A series with a constant history has no seasonal-naive error to scale by,
        and one with no observed target nothing to score: NaN. A history no longer than a season
        is scaled by the lag-1 naive error instead.
    """
    if (season_length is None) == (frequency is None):
        raise ValueError("Give exactly one of `season_length` and `frequency`.")
    if season_length is None:
        season_length = seasonality_for_frequency(frequency)
    check_positive_int("season_length", season_length)
    y_true = np.asarray(y_true, dtype=np.float64)
    insample = np.asarray(insample, dtype=np.float64)
    if y_true.ndim not in (1, 2) or insample.ndim != y_true.ndim or insample.shape[:-1] != y_true.shape[:-1]:
        raise ValueError(
            f"`y_true` {y_true.shape} and `insample` {insample.shape} must both be 1-D (one series) "
            "or 2-D with the same number of series on axis 0."
        )
    y_pred = _forecast("y_pred", y_pred, y_true.shape, ~np.isnan(y_true))
    scores = []
    for target, forecast, history in zip(np.atleast_2d(y_true), np.atleast_2d(y_pred), np.atleast_2d(insample)):
        observed = np.flatnonzero(~np.isnan(history))
        history = history[observed[0]:] if observed.size else history  # from the series' first observation
        scale = _seasonal_naive_scale(history, season_length)
        mask = ~np.isnan(target)
        if scale == 0 or not mask.any():
            scores.append(float("nan"))
        else:
            scores.append(float(np.mean(np.abs(target[mask] - forecast[mask]))) / scale)
    return np.asarray(scores)


def mase(y_true, y_pred, insample, season_length=None, frequency=None):
    """MASE (`mase_per_series`) of one series, or the mean over the series whose scale is defined."""
    scores = mase_per_series(y_true, y_pred, insample, season_length, frequency)
    return float(scores[0]) if np.ndim(y_true) == 1 else _mean_over_series(scores)


def owa(smape_value, mase_value, naive2_smape, naive2_mase):
    """Overall weighted average, the M4 competition's ranking measure: the mean of a method's sMAPE
    and MASE, each relative to Naive2's on the same series (`kerasts.baselines.naive2_forecast`).
    Below 1 beats Naive2. Each argument is a mean over the same series (`smape`, `mase`)."""
    if not naive2_smape > 0 or not naive2_mase > 0:
        raise ValueError(f"Naive2's sMAPE and MASE must be positive, got {naive2_smape!r} and {naive2_mase!r}.")
    return 0.5 * (smape_value / naive2_smape + mase_value / naive2_mase)


def rho_risk(y_true, samples, rho, time_axis=-1):
    """DeepAR paper's rho-risk on the total over the horizon.

    For each series `Z = sum_t y_t` and `Z_hat` = the rho-quantile of the sampled totals;
    the risk is `2 * sum |(Z_hat - Z) * (1{Z < Z_hat} - rho)| / sum Z` over series.

    Args:
        y_true: shape `S` (e.g. `(series, horizon)`).
        samples: sample paths, shape `(num_samples,) + S`.
        rho: the quantile level in (0, 1).
        time_axis: the horizon's axis in `y_true`.
    """
    (rho,) = _quantile_levels(rho)
    y_true, observed = _observed_target(y_true)
    samples = _forecast("samples", samples, y_true.shape, observed, leading_axis=True)
    # Unobserved steps leave both totals, so they are compared like with like.
    totals = np.sum(np.where(observed, y_true, 0.0), axis=time_axis)
    sample_axis_time = time_axis if time_axis < 0 else time_axis + 1
    sample_totals = np.sum(np.where(observed, samples, 0.0), axis=sample_axis_time)
    predicted_totals = np.quantile(sample_totals, rho, axis=0)
    loss = 2.0 * np.abs((predicted_totals - totals) * ((totals < predicted_totals) - rho))
    return _ratio(np.sum(loss), np.sum(np.abs(totals)))


def crps(y_true, samples):
    """Continuous ranked probability score estimated from samples, averaged over observed points.

    Uses `CRPS = E|X - y| - E|X - X'| / 2` with the sorted-sample identity
    `E|X - X'| = 2 / n^2 * sum_i (2i - n - 1) x_(i)`, exact for the empirical distribution.
    """
    y_true, observed = _observed_target(y_true)
    samples = _forecast("samples", samples, y_true.shape, observed, leading_axis=True)
    if not observed.any():
        return float("nan")
    points = samples[:, observed]
    target = y_true[observed]
    num_samples = points.shape[0]
    absolute_error = np.mean(np.abs(points - target), axis=0)
    ordered = np.sort(points, axis=0)
    weights = (2.0 * np.arange(1, num_samples + 1) - num_samples - 1.0)[:, None]
    spread = 2.0 / num_samples**2 * np.sum(weights * ordered, axis=0)
    return float(np.mean(absolute_error - 0.5 * spread))


def coverage(y_true, quantile_forecast):
    """Fraction of observed targets at or below a quantile forecast (ideal: the quantile level)."""
    y_true, observed = _observed_target(y_true)
    forecast = _forecast("quantile_forecast", quantile_forecast, y_true.shape, observed)
    if not observed.any():
        return float("nan")
    return float(np.mean(y_true[observed] <= forecast[observed]))


def interval_coverage(y_true, lower, upper):
    """Fraction of observed targets inside `[lower, upper]` (e.g. the P10-P90 band: ideal 0.8)."""
    y_true, observed = _observed_target(y_true)
    lower = _forecast("lower", lower, y_true.shape, observed)
    upper = _forecast("upper", upper, y_true.shape, observed)
    if np.any(lower[observed] > upper[observed]):
        raise ValueError("`lower` exceeds `upper` at some observed points.")
    if not observed.any():
        return float("nan")
    inside = (y_true[observed] >= lower[observed]) & (y_true[observed] <= upper[observed])
    return float(np.mean(inside))
