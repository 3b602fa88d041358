"""Keras layers of kerasts (each registered as serializable under the `kerasts` package)."""

from kerasts.layers.distribution_output import DistributionOutput
from kerasts.layers.mean_scaler import MeanScaler

__all__ = ["DistributionOutput", "MeanScaler"]
