import numpy as np

from kerasts import metrics

DEFAULT_QUANTILES = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def evaluate_sample_forecast(y_true, samples, insample, frequency, quantiles=DEFAULT_QUANTILES):
    """Every forecast metric of kerasts for one set of sample paths.

    A point forecast is scored as a forecast with one sample path (shape `(1,) + S`): its
    quantiles are the point itself, so its mean wQL is comparable with a model's and its
    CRPS is its mean absolute error.

    Args:
        y_true: actuals, shape `(series, horizon)`; NaN is unobserved.
        samples: sample paths, shape `(num_samples, series, horizon)`.
        insample: each series' history before the horizon, `(series, length)`, for MASE.
        frequency: pandas-style frequency (sets MASE's season).
        quantiles: levels for the wQL columns and their mean.

    Returns:
        A dict of metric name to value: `mean_wQL`, `wQL[tau]` per level, `ND` (of the
        median), `WAPE` (of the mean, as Amazon Forecast scores it), `RMSE`, `MAPE` (a fraction),
        `sMAPE` (of the median, M4's, in percent), `MASE`, `NRMSE`, `CRPS`, `rho_risk_0.5`,
        `rho_risk_0.9` and `coverage_80`
        (share of actuals inside the P10-P90 band).
    """
    samples = np.asarray(samples, dtype=np.float64)
    levels = np.asarray(quantiles, dtype=np.float64)
    # One pass over the samples for every level needed (the wQL levels, the median, the band).
    all_levels = np.union1d(levels, [0.1, 0.5, 0.9])
    by_level = dict(zip(all_levels, np.quantile(samples, all_levels, axis=0)))
    quantile_forecasts = np.stack([by_level[level] for level in levels])
    median, lower, upper = by_level[0.5], by_level[0.1], by_level[0.9]
    mean = samples.mean(axis=0)
    results = {"mean_wQL": metrics.mean_weighted_quantile_loss(y_true, quantile_forecasts, levels)}
    for level, value in metrics.weighted_quantile_loss(y_true, quantile_forecasts, levels).items():
        results[f"wQL[{level:g}]"] = value
    results.update({
        "ND": metrics.nd(y_true, median),
        "WAPE": metrics.wape(y_true, mean),
        "RMSE": metrics.rmse(y_true, mean),
        "NRMSE": metrics.nrmse(y_true, mean),
        "MAPE": metrics.mape(y_true, mean),
        "sMAPE": metrics.smape(y_true, median),
        "MASE": metrics.mase(y_true, median, insample, frequency=frequency),
        "CRPS": metrics.crps(y_true, samples),
        "rho_risk_0.5": metrics.rho_risk(y_true, samples, 0.5),
        "rho_risk_0.9": metrics.rho_risk(y_true, samples, 0.9),
        "coverage_80": metrics.interval_coverage(y_true, lower, upper),
    })
    return results
