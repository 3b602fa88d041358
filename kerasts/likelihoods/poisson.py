import tensorflow_probability as tfp

from kerasts.likelihoods.base import CountLikelihood, positive

tfd = tfp.distributions


class Poisson(CountLikelihood):
    """Poisson likelihood for counts: `rate` (mean and variance)."""

    name = "poisson"
    parameter_names = ("rate",)

    def _domain_map(self, raw):
        return {"rate": positive(raw["rate"])}

    def _scale(self, parameters, target_scale):
        return {"rate": parameters["rate"] * target_scale}

    def _distribution(self, rate):
        return tfd.Poisson(rate=rate)
