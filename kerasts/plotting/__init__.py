"""Plots (needs the `plot` extra: matplotlib)."""

from kerasts.plotting.fan_chart import plot_fan_chart

__all__ = ["plot_fan_chart"]
