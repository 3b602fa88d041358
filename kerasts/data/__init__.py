"""Data in: Forecast and Personalize tables, aligned panels, model windows, bundled and synthetic data."""

from kerasts.data.bundled import load_electricity_sample, load_tokyo_daily_cases
from kerasts.data.census import CENSUS_NUMERIC, load_census_income
from kerasts.data.interactions import (
    filter_events, load_movielens, split_multi_value, validate_interactions, weight_events,
)
from kerasts.data.forecast_tables import (
    CategoryEncoder, TimeSeriesPanel, align_related, align_target, forecast_export_table,
)
from kerasts.data.cold_start import cold_start_histories
from kerasts.data.filling import check_filling, fill_related, fill_target
from kerasts.data.holiday_calendar import holiday_days
from kerasts.data.series_windows import MinMaxScaler, sliding_windows
from kerasts.data.session_batches import SessionParallelBatches
from kerasts.data.sessions import (
    filter_interactions, leave_last_session_out, personalize_split, sessionize, split_sessions_by_start,
    time_cutoff_split,
)
from kerasts.data.item_metadata import item_metadata_columns, item_metadata_features, item_metadata_values
from kerasts.data.retrieval import latest_histories, retrieval_dataset, retrieval_examples
from kerasts.data.vocabulary import IdVocabulary
from kerasts.data.synthetic import synthetic_forecast_table, synthetic_interactions, synthetic_multitask
from kerasts.data.windows import ForecastWindows, lags_for_frequency

__all__ = [
    "CENSUS_NUMERIC", "CategoryEncoder", "ForecastWindows", "IdVocabulary", "MinMaxScaler",
    "SessionParallelBatches", "TimeSeriesPanel", "align_related", "align_target", "check_filling", "cold_start_histories", "fill_related",
    "fill_target", "filter_events", "holiday_days",
    "filter_interactions", "forecast_export_table", "item_metadata_columns", "item_metadata_features", "item_metadata_values", "lags_for_frequency", "latest_histories",
    "leave_last_session_out", "load_census_income", "load_electricity_sample", "load_movielens",
    "load_tokyo_daily_cases", "personalize_split", "retrieval_dataset", "retrieval_examples", "sessionize",
    "sliding_windows", "split_multi_value", "split_sessions_by_start", "synthetic_forecast_table", "synthetic_interactions", "synthetic_multitask",
    "time_cutoff_split", "validate_interactions", "weight_events",
]
