import tensorflow as tf
import tensorflow_probability as tfp

from kerasts.likelihoods.base import CountLikelihood, positive, probability
from kerasts.likelihoods.negative_binomial import negative_binomial_distribution, scale_mean_and_dispersion

tfd = tfp.distributions


class ZeroInflatedNegativeBinomial(CountLikelihood):
    """Negative binomial with extra zeros, for intermittent demand.

    Parameters `zero_inflation` (probability of a structural zero), `mean` and
    `dispersion` of the negative binomial part. Scaling touches only the NB part.
    """

    name = "zero_inflated_negative_binomial"
    parameter_names = ("zero_inflation", "mean", "dispersion")

    def _domain_map(self, raw):
        return {
            "zero_inflation": probability(raw["zero_inflation"]),
            "mean": positive(raw["mean"]),
            "dispersion": positive(raw["dispersion"]),
        }

    def _scale(self, parameters, target_scale):
        return scale_mean_and_dispersion(parameters, target_scale)

    def _distribution(self, zero_inflation, mean, dispersion):
        mixture_weights = tf.stack([zero_inflation, 1.0 - zero_inflation], axis=-1)
        return tfd.Mixture(
            cat=tfd.Categorical(probs=mixture_weights),
            components=[tfd.Deterministic(tf.zeros_like(mean)), negative_binomial_distribution(mean, dispersion)],
        )

    def log_prob(self, parameters, target):
        # Written out rather than through the mixture: the Deterministic part's -inf
        # log-density off zero would otherwise enter the gradient.
        named = self.unstack(parameters)
        zero_inflation = named["zero_inflation"]
        count_log_prob = negative_binomial_distribution(named["mean"], named["dispersion"]).log_prob(target)
        at_zero = tf.math.log(zero_inflation + (1.0 - zero_inflation) * tf.exp(count_log_prob))
        off_zero = tf.math.log1p(-zero_inflation) + count_log_prob
        return tf.where(tf.equal(target, 0.0), at_zero, off_zero)
