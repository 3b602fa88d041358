"""Keras losses of kerasts (each registered as serializable under the `kerasts` package)."""

from kerasts.losses.nll import NegativeLogLikelihood, pack_observed, split_observed
from kerasts.losses.session_ranking import BPRMax, SampledCrossEntropy, TOP1Max

__all__ = ["BPRMax", "NegativeLogLikelihood", "SampledCrossEntropy", "TOP1Max", "pack_observed", "split_observed"]
