"""The protocols every model and baseline of a kind implements, so evaluation and workflows run any."""

from kerasts.protocols.forecaster import Forecaster
from kerasts.protocols.recommender import Recommendations, Recommender

__all__ = ["Forecaster", "Recommendations", "Recommender"]
