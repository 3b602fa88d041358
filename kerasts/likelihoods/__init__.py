"""Likelihood families: parameter names, domain maps, scaling, TFP distributions.

Plain Python classes, no Keras layers: `kerasts.layers.DistributionOutput` and
`kerasts.losses.NegativeLogLikelihood` look a family up here by name. Add your own family by
subclassing `Likelihood` and decorating it with `register_likelihood`; it is then used and saved by
name like the built-in ones.
"""

import numpy as np

from kerasts._registry import Registry
from kerasts.likelihoods.base import CountLikelihood, Likelihood
from kerasts.likelihoods.beta import Beta
from kerasts.likelihoods.gaussian import Gaussian
from kerasts.likelihoods.negative_binomial import NegativeBinomial
from kerasts.likelihoods.poisson import Poisson
from kerasts.likelihoods.student_t import StudentT
from kerasts.likelihoods.zero_inflated_negative_binomial import ZeroInflatedNegativeBinomial

_REGISTRY = Registry("likelihood", "kerasts.likelihoods.register_likelihood")


def register_likelihood(family):
    """Class decorator: makes a `Likelihood` subclass available under its `name`.

    Arguments of the family's constructor travel in its `get_config()`, so a model built with
    `MyFamily(alpha=2.0)` saves and reloads with that argument.
    """
    if not (isinstance(family, type) and issubclass(family, Likelihood)):
        raise TypeError(f"register_likelihood takes a subclass of kerasts.likelihoods.Likelihood, got {family!r}.")
    if not family.parameter_names:
        raise ValueError(f"{family.__name__} must name its parameters in `parameter_names`.")
    return _REGISTRY.register(family.name, family)


for _family in (Gaussian, StudentT, NegativeBinomial, Poisson, ZeroInflatedNegativeBinomial, Beta):
    register_likelihood(_family)


def names():
    """The names `get` accepts."""
    return _REGISTRY.names()


def get(likelihood):
    """A likelihood from its name (e.g. `"student_t"`), a `{"name": ..., "config": {...}}` dict
    (as `serialize` writes it), or an instance, returned as is."""
    if isinstance(likelihood, Likelihood):
        return likelihood
    return _REGISTRY.create(likelihood)


def by_support(targets):
    """The family `likelihood="auto"` picks for these observed targets (NaN skipped): `"negative_binomial"`
    when every one is a whole number, none is negative and at least half are zero (low, intermittent
    counts), `"student_t"` otherwise. Measured (benchmarks/RESULTS.md, #23): on whole numbers of higher level
    (electricity loads, daily case counts) the standardised Student-t beat the negative binomial, and on rates
    inside (0, 1) (traffic occupancies) it beat beta, so neither gets a branch of its own."""
    values = np.asarray(targets, dtype="float64")
    values = values[~np.isnan(values)]
    if values.size == 0:
        raise ValueError("likelihood='auto' picks a family from the observed targets, and there are none.")
    if np.all(values >= 0) and np.all(values == np.round(values)) and np.mean(values == 0) >= 0.5:
        return "negative_binomial"
    return "student_t"


def serialize(likelihood):
    """The name (with the constructor's arguments, if any) that `get` turns back into the family."""
    likelihood = get(likelihood)
    return Registry.serialize(likelihood.name, likelihood.get_config())


__all__ = [
    "Beta", "CountLikelihood", "Gaussian", "Likelihood", "NegativeBinomial", "Poisson",
    "StudentT", "ZeroInflatedNegativeBinomial", "by_support", "get", "names", "register_likelihood", "serialize",
]
