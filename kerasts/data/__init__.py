"""Data in: Forecast and Personalize tables, aligned panels, model windows, bundled and synthetic data."""

from kerasts.data.bundled import load_electricity_sample
from kerasts.data.interactions import IdVocabulary, load_movielens, split_multi_value, validate_interactions
from kerasts.data.forecast_tables import (
    CategoryEncoder, TimeSeriesPanel, align_related, align_target, forecast_export_table,
)
from kerasts.data.sessions import (
    filter_interactions, leave_last_session_out, personalize_split, sessionize, time_cutoff_split,
)
from kerasts.data.synthetic import synthetic_forecast_table
from kerasts.data.windows import ForecastWindows, lags_for_frequency

__all__ = [
    "CategoryEncoder", "ForecastWindows", "TimeSeriesPanel", "align_related", "align_target", "forecast_export_table",
    "IdVocabulary", "lags_for_frequency", "load_electricity_sample", "load_movielens", "split_multi_value",
    "filter_interactions", "leave_last_session_out", "personalize_split", "sessionize", "synthetic_forecast_table",
    "time_cutoff_split", "validate_interactions",
]
