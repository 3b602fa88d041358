"""Plots (needs the `plot` extra: matplotlib)."""

from kerasts.plotting.fan_chart import plot_fan_chart
from kerasts.plotting.impact_scores import plot_impact_scores

__all__ = ["plot_fan_chart", "plot_impact_scores"]
