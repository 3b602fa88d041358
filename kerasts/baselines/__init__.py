"""Baselines with the same interfaces as the models they are compared with.

Forecasters share `predict_paths(windows, origin, num_samples, seed) -> (series, paths, horizon)`,
the interface `kerasts.evaluation.backtest` runs. Recommenders share
`fit(interactions)` and `recommend(history, k, exclude_seen=True)`, run by
`kerasts.evaluation.evaluate_recommender`.
"""

from kerasts.baselines.mlp_forecaster import MLPForecaster, build_likelihood_head_network
from kerasts.baselines.npts import NPTS
from kerasts.baselines.popularity import Popularity
from kerasts.baselines.seasonal_naive import SeasonalNaive, seasonal_naive_forecast
from kerasts.baselines.sims import SIMS
from kerasts.baselines.swing import Swing

__all__ = [
    "MLPForecaster", "NPTS", "Popularity", "SIMS", "SeasonalNaive", "Swing", "build_likelihood_head_network",
    "seasonal_naive_forecast",
]
