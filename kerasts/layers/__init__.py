"""Keras layers of kerasts (each registered as serializable under the `kerasts` package)."""

from kerasts.layers.calendar_features import CalendarFeatures
from kerasts.layers.distribution_output import DistributionOutput
from kerasts.layers.mean_scaler import MeanScaler
from kerasts.layers.mixture_of_experts import MixtureOfExperts
from kerasts.layers.std_scaler import StdScaler
from kerasts.layers.feature_groups import FeatureGroups
from kerasts.layers.tower import Tower
from kerasts.layers.nested_lstm import NestedLSTM, NestedLSTMCell
from kerasts.layers.recurrent_stack import (
    RecurrentStack, recurrent_cell, recurrent_cell_names, register_recurrent_cell,
)

__all__ = [
    "CalendarFeatures", "DistributionOutput", "FeatureGroups", "MeanScaler", "MixtureOfExperts", "NestedLSTM",
    "NestedLSTMCell", "RecurrentStack", "StdScaler", "Tower", "recurrent_cell", "recurrent_cell_names",
    "register_recurrent_cell",
]
