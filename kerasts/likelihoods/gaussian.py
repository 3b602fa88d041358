import tensorflow as tf
import tensorflow_probability as tfp

from kerasts.likelihoods.base import Likelihood, _stateless_seed, positive

tfd = tfp.distributions


class Gaussian(Likelihood):
    """Normal likelihood for real-valued targets: parameters `loc`, `scale`."""

    name = "gaussian"
    location_parameter = "loc"
    parameter_names = ("loc", "scale")
    symmetric = True

    def _domain_map(self, raw):
        return {"loc": raw["loc"], "scale": positive(raw["scale"])}

    def _scale(self, parameters, target_scale):
        return {"loc": parameters["loc"] * target_scale, "scale": parameters["scale"] * target_scale}

    def _distribution(self, loc, scale):
        return tfd.Normal(loc=loc, scale=scale)

    def sample(self, parameters, num_samples, seed, mirrored=False):
        parameters = self.unstack(parameters)
        shape = tf.concat([[num_samples], tf.shape(parameters["loc"])], axis=0)
        normal = tf.random.stateless_normal(shape, _stateless_seed(seed), dtype=parameters["loc"].dtype)
        return parameters["loc"] + parameters["scale"] * (-normal if mirrored else normal)
