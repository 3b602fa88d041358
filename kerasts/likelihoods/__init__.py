"""Likelihood families: parameter names, domain maps, scaling, TFP distributions.

Plain Python classes, no Keras layers: `kerasts.layers.DistributionOutput` and
`kerasts.losses.NegativeLogLikelihood` look a family up here by name.
"""

from kerasts.likelihoods.base import CountLikelihood, Likelihood
from kerasts.likelihoods.beta import Beta
from kerasts.likelihoods.gaussian import Gaussian
from kerasts.likelihoods.negative_binomial import NegativeBinomial
from kerasts.likelihoods.poisson import Poisson
from kerasts.likelihoods.student_t import StudentT
from kerasts.likelihoods.zero_inflated_negative_binomial import ZeroInflatedNegativeBinomial

_REGISTRY = {
    family.name: family
    for family in (Gaussian, StudentT, NegativeBinomial, Poisson, ZeroInflatedNegativeBinomial, Beta)
}


def names():
    """The names `get` accepts."""
    return tuple(_REGISTRY)


def get(likelihood):
    """A likelihood from its name (e.g. `"student_t"`) or an instance, returned as is."""
    if isinstance(likelihood, Likelihood):
        return likelihood
    if not isinstance(likelihood, str):
        raise TypeError(f"`likelihood` must be a name from {names()} or a Likelihood, got {likelihood!r}.")
    if likelihood not in _REGISTRY:
        raise ValueError(f"Unknown likelihood {likelihood!r}: expected one of {names()}.")
    return _REGISTRY[likelihood]()


__all__ = [
    "Beta", "CountLikelihood", "Gaussian", "Likelihood", "NegativeBinomial", "Poisson",
    "StudentT", "ZeroInflatedNegativeBinomial", "get", "names",
]
