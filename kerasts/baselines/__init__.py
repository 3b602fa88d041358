"""Baselines with the interfaces of the models they are compared with.

Forecasters (seasonal naive, NPTS, the likelihood-head MLP, ETS/ARIMA/Theta) are `kerasts.protocols.Forecaster`s,
run by `kerasts.evaluation.backtest`; recommenders (popularity, SIMS, Swing) are
`kerasts.protocols.Recommender`s, run by `evaluate_recommender` and `evaluate_next_items`.
"""

from kerasts.baselines.mlp_forecaster import MLPForecaster, build_likelihood_head_network
from kerasts.baselines.naive2 import Naive2, is_seasonal, naive2_forecast, seasonal_indices
from kerasts.baselines.npts import NPTS
from kerasts.baselines.popularity import Popularity
from kerasts.baselines.seasonal_naive import SeasonalNaive, seasonal_naive_forecast
from kerasts.baselines.sims import SIMS
from kerasts.baselines.statistical import StatisticalForecaster
from kerasts.baselines.swing import Swing

__all__ = [
    "MLPForecaster", "NPTS", "Naive2", "Popularity", "SIMS", "SeasonalNaive", "StatisticalForecaster", "Swing",
    "build_likelihood_head_network", "is_seasonal", "naive2_forecast", "seasonal_indices", "seasonal_naive_forecast",
]
