import keras
import tensorflow as tf

from kerasts import likelihoods
from kerasts._checks import check_in_graph


def pack_observed(target, observed):
    """Packs targets and their observed mask into the `y_true` that `NegativeLogLikelihood` reads.

    Args:
        target: array or tensor of targets; values where `observed` is 0 may be NaN.
        observed: same shape, 1 (or True) where the target was observed.

    Returns:
        A float32 tensor of shape `target.shape + (2,)`.
    """
    target = tf.convert_to_tensor(target, dtype=tf.float32)
    observed = tf.convert_to_tensor(observed)
    if target.shape != observed.shape:
        raise ValueError(f"`target` {target.shape} and `observed` {observed.shape} must have the same shape.")
    return tf.stack([target, tf.cast(observed, tf.float32)], axis=-1)


def split_observed(y_true, y_pred):
    """Reads `y_true` as the target alone or as `pack_observed(target, observed)`.

    The target must have the shape of `y_pred[..., 0]` (a trailing axis of 1 is
    accepted); a packed `y_true` adds a trailing axis of 2.
    """
    y_true = tf.convert_to_tensor(y_true, dtype=y_pred.dtype)
    expected = y_pred.shape[:-1]
    if y_true.shape.rank == expected.rank + 1 and y_true.shape[-1] in (1, 2):
        if y_true.shape[-1] == 2:
            target, observed = tf.unstack(y_true, axis=-1)
            return target, observed > 0.5
        y_true = y_true[..., 0]
    if not y_true.shape.is_compatible_with(expected):
        raise ValueError(
            f"`y_true` has shape {y_true.shape}, expected {expected} (targets matching the "
            f"parameters {y_pred.shape} without their last axis), or {expected + [2]} from "
            "`kerasts.losses.pack_observed(target, observed)`."
        )
    return y_true, tf.ones_like(y_true, dtype=tf.bool)


@keras.saving.register_keras_serializable(package="kerasts")
class NegativeLogLikelihood(keras.losses.Loss):
    """Negative log-likelihood of targets under parameters from `DistributionOutput`.

    The loss is the mean over observed points of `-log p(y | parameters)`, weighted by
    `sample_weight` when given (Keras's usual per-sample or per-point weights).

    Args:
        likelihood: the family, as for `kerasts.layers.DistributionOutput`.
        validate_targets: check that observed targets are finite and inside the
            family's support (non-negative integers for counts, (0, 1) for beta).
        reduction: Keras loss reduction (default `"sum_over_batch_size"`, which with
            the observed mask is the mean over observed points).
        name: name of the loss.

    Call arguments:
        y_true: targets of shape `y_pred.shape[:-1]`, or
            `kerasts.losses.pack_observed(target, observed)` to mask unobserved points
            (their values, NaN included, are ignored).
        y_pred: parameters, shape `(..., num_parameters)`.
        sample_weight: optional weights broadcasting against the targets.

    Example:

    ```python
    loss = kerasts.losses.NegativeLogLikelihood("negative_binomial")
    model.compile("adam", loss=loss)
    model.fit(features, kerasts.losses.pack_observed(counts, observed_mask))
    ```
    """

    def __init__(self, likelihood="student_t", validate_targets=True, reduction="sum_over_batch_size",
                 name="negative_log_likelihood", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.likelihood = likelihoods.get(likelihood)
        self.validate_targets = validate_targets

    def __call__(self, y_true, y_pred, sample_weight=None):
        if sample_weight is not None:
            # Keras aligns weights only up to one trailing axis of 1; per-series weights
            # `(batch,)` must also reach per-point losses `(batch, time)`.
            sample_weight = tf.convert_to_tensor(sample_weight)
            target_rank = tf.convert_to_tensor(y_pred).shape.rank - 1
            for _ in range(max(0, target_rank - sample_weight.shape.rank)):
                sample_weight = sample_weight[..., tf.newaxis]
        return super().__call__(y_true, y_pred, sample_weight=sample_weight)

    def call(self, y_true, y_pred):
        target, observed = split_observed(y_true, y_pred)
        if self.validate_targets:
            check_in_graph(
                tf.reduce_all(tf.math.is_finite(tf.boolean_mask(target, observed))),
                "Targets hold NaN or inf at points marked observed: mask them with "
                "`kerasts.losses.pack_observed(target, observed)` or fill them.",
            )
            self.likelihood.check_target(target, observed)
        # Unobserved targets (NaN allowed) are swapped for a value in the support
        # before the log-density, so no NaN reaches the loss or its gradient.
        safe_target = tf.where(observed, target, self.likelihood.placeholder_target)
        negative_log_prob = -self.likelihood.log_prob(y_pred, safe_target)
        negative_log_prob = tf.where(observed, negative_log_prob, tf.zeros_like(negative_log_prob))
        # Keras losses honour the `_keras_mask` of their values (as they do for Masking
        # layers): the reduction becomes the mean over observed points.
        negative_log_prob._keras_mask = observed
        return negative_log_prob

    def get_config(self):
        return {**super().get_config(), "likelihood": likelihoods.serialize(self.likelihood),
                "validate_targets": self.validate_targets}
