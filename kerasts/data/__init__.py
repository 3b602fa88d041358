"""Data in and out: bundled datasets and synthetic generators (tables and pipelines join as models land)."""

from kerasts.data.bundled import load_electricity_sample
from kerasts.data.synthetic import synthetic_forecast_table

__all__ = ["load_electricity_sample", "synthetic_forecast_table"]
