"""Evaluation loops built on `kerasts.metrics`."""

from kerasts.evaluation.backtest import (BACKTEST_ORIGINS, backtest, backtest_origins, item_quantile_losses,
                                         predict_from_origins, score_backtest_paths, series_backtest_origins,
                                         window_arrays)
from kerasts.evaluation.by_level import per_series_scores, scores_by_level, series_levels
from kerasts.evaluation.forecast_evaluation import DEFAULT_QUANTILES, evaluate_sample_forecast
from kerasts.evaluation.next_items import evaluate_next_items
from kerasts.evaluation.recommender import evaluate_recommender

__all__ = [
    "BACKTEST_ORIGINS", "DEFAULT_QUANTILES", "backtest", "backtest_origins", "item_quantile_losses",
    "per_series_scores", "predict_from_origins", "score_backtest_paths", "scores_by_level", "series_backtest_origins",
    "series_levels", "window_arrays",
    "evaluate_next_items", "evaluate_recommender", "evaluate_sample_forecast",
]
