"""Evaluation metrics (numpy): forecast accuracy and full-catalog ranking."""

from kerasts.metrics.forecast import (
    coverage, crps, interval_coverage, mape, mase, mase_per_series, mean_weighted_quantile_loss, nd, nrmse, owa,
    quantile_loss, rho_risk, rmse, seasonality_for_frequency, smape, smape_per_series, wape, weighted_quantile_loss,
)
from kerasts.metrics.ranking import (
    catalog_coverage, hit_rate_at_k, mean_reciprocal_rank_at_k, ndcg_at_k, precision_at_k, ranking_metrics,
    recall_at_k, single_target_metrics,
)

__all__ = [
    "catalog_coverage", "coverage", "crps", "hit_rate_at_k", "interval_coverage", "mape", "mase", "mase_per_series",
    "mean_reciprocal_rank_at_k", "mean_weighted_quantile_loss", "nd", "ndcg_at_k", "nrmse", "owa", "precision_at_k",
    "quantile_loss", "ranking_metrics", "recall_at_k", "rho_risk", "rmse", "seasonality_for_frequency",
    "single_target_metrics", "smape", "smape_per_series", "wape", "weighted_quantile_loss",
]
