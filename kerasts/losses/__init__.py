"""Keras losses of kerasts (each registered as serializable under the `kerasts` package)."""

from kerasts.losses.nll import NegativeLogLikelihood, pack_observed, split_observed

__all__ = ["NegativeLogLikelihood", "pack_observed", "split_observed"]
