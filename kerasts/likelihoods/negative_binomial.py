import tensorflow as tf
import tensorflow_probability as tfp

from kerasts.likelihoods.base import CountLikelihood, positive

tfd = tfp.distributions


def negative_binomial_distribution(mean, dispersion):
    """NB with `Var = mean + dispersion * mean**2` (the DeepAR paper's mu and alpha).

    In TFP's terms: `total_count = 1 / dispersion`, success logits `log(mean * dispersion)`.
    """
    return tfd.NegativeBinomial(total_count=1.0 / dispersion, logits=tf.math.log(mean * dispersion))


def scale_mean_and_dispersion(parameters, target_scale):
    """DeepAR's scaling of a negative binomial: mean times scale, dispersion over sqrt(scale)."""
    return {
        **parameters,
        "mean": parameters["mean"] * target_scale,
        "dispersion": parameters["dispersion"] / tf.sqrt(target_scale),
    }


class NegativeBinomial(CountLikelihood):
    """Negative binomial likelihood for counts: `mean` and `dispersion`.

    `Var = mean + dispersion * mean**2`; parameters fitted on targets divided by a scale
    `v` map back as `mean * v` and `dispersion / sqrt(v)` (Salinas et al. 2017).
    """

    name = "negative_binomial"
    parameter_names = ("mean", "dispersion")

    def _domain_map(self, raw):
        return {"mean": positive(raw["mean"]), "dispersion": positive(raw["dispersion"])}

    def _scale(self, parameters, target_scale):
        return scale_mean_and_dispersion(parameters, target_scale)

    def _distribution(self, mean, dispersion):
        return negative_binomial_distribution(mean, dispersion)
