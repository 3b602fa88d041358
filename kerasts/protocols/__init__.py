"""The protocols every model and baseline of a kind implements, so evaluation and workflows run any."""

from kerasts.protocols.forecaster import Forecaster

__all__ = ["Forecaster"]
