import tensorflow_probability as tfp

from kerasts.likelihoods.base import Likelihood, positive

tfd = tfp.distributions


class Gaussian(Likelihood):
    """Normal likelihood for real-valued targets: parameters `loc`, `scale`."""

    name = "gaussian"
    location_parameter = "loc"
    parameter_names = ("loc", "scale")

    def _domain_map(self, raw):
        return {"loc": raw["loc"], "scale": positive(raw["scale"])}

    def _scale(self, parameters, target_scale):
        return {"loc": parameters["loc"] * target_scale, "scale": parameters["scale"] * target_scale}

    def _distribution(self, loc, scale):
        return tfd.Normal(loc=loc, scale=scale)
