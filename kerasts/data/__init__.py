"""Data in: Forecast-layout tables, aligned panels, model windows, bundled and synthetic data."""

from kerasts.data.bundled import load_electricity_sample
from kerasts.data.forecast_tables import (
    CategoryEncoder, TimeSeriesPanel, align_related, align_target, forecast_export_table,
)
from kerasts.data.synthetic import synthetic_forecast_table
from kerasts.data.windows import ForecastWindows, lags_for_frequency

__all__ = [
    "CategoryEncoder", "ForecastWindows", "TimeSeriesPanel", "align_related", "align_target", "forecast_export_table",
    "lags_for_frequency", "load_electricity_sample", "synthetic_forecast_table",
]
