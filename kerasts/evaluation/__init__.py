"""Evaluation loops built on `kerasts.metrics`."""

from kerasts.evaluation.forecast_evaluation import DEFAULT_QUANTILES, evaluate_sample_forecast

__all__ = ["DEFAULT_QUANTILES", "evaluate_sample_forecast"]
