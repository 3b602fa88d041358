"""Keras layers of kerasts (each registered as serializable under the `kerasts` package)."""

from kerasts.layers.distribution_output import DistributionOutput

__all__ = ["DistributionOutput"]
