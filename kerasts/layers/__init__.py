"""Keras layers of kerasts (each registered as serializable under the `kerasts` package)."""

from kerasts.layers.calendar_features import CalendarFeatures
from kerasts.layers.distribution_output import DistributionOutput
from kerasts.layers.mean_scaler import MeanScaler
from kerasts.layers.recurrent_stack import RecurrentStack, recurrent_cell_names, register_recurrent_cell

__all__ = [
    "CalendarFeatures", "DistributionOutput", "MeanScaler", "RecurrentStack", "recurrent_cell_names",
    "register_recurrent_cell",
]
