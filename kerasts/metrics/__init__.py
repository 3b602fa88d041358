"""Evaluation metrics: forecast accuracy (numpy) now; ranking metrics join with recommendation."""

from kerasts.metrics.forecast import (
    coverage, crps, interval_coverage, mape, mase, mean_weighted_quantile_loss, nd, nrmse,
    quantile_loss, rho_risk, rmse, seasonality_for_frequency, wape, weighted_quantile_loss,
)

__all__ = [
    "coverage", "crps", "interval_coverage", "mape", "mase", "mean_weighted_quantile_loss", "nd",
    "nrmse", "quantile_loss", "rho_risk", "rmse", "seasonality_for_frequency", "wape",
    "weighted_quantile_loss",
]
