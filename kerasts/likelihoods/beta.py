import tensorflow as tf
import tensorflow_probability as tfp

from kerasts._checks import check_in_graph
from kerasts.likelihoods.base import Likelihood, positive

tfd = tfp.distributions


class Beta(Likelihood):
    """Beta likelihood for rates and proportions in (0, 1): `concentration1`, `concentration0`.

    The target already lives on a fixed scale, so target scaling is not supported.
    """

    name = "beta"
    parameter_names = ("concentration1", "concentration0")
    placeholder_target = 0.5
    rescalable = False

    def _domain_map(self, raw):
        return {name: positive(raw[name]) for name in self.parameter_names}

    def _scale(self, parameters, target_scale):
        raise ValueError(
            "The beta likelihood models targets in (0, 1) and cannot be rescaled: "
            "use it without target scaling (target_scale=None)."
        )

    def _distribution(self, concentration1, concentration0):
        return tfd.Beta(concentration1=concentration1, concentration0=concentration0)

    def check_target(self, target, observed):
        observed_target = tf.boolean_mask(target, observed)
        check_in_graph(
            tf.reduce_all((observed_target > 0) & (observed_target < 1)),
            "The beta likelihood needs targets strictly between 0 and 1; some observed targets are outside.",
        )
