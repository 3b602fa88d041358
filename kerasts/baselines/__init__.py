"""Baselines with the same interfaces as the models they are compared with."""

from kerasts.baselines.seasonal_naive import seasonal_naive_forecast

__all__ = ["seasonal_naive_forecast"]
