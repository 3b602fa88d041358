"""GRU4Rec's ranking losses over in-batch negatives: BPR-max and TOP1-max (Hidasi & Karatzoglou 2018).

For each slot and step, the negatives are the targets of the other slots at the same step
(minus copies of the slot's own target and padding), as in session-parallel training.
"""

import keras
import tensorflow as tf


def in_batch_scores(targets, logits):
    """`(positive (B, T), negatives (B, T, B), mask (B, T, B))`: each slot's score of its target and
    of the other slots' targets at the same step, and which of those count as negatives."""
    targets = tf.cast(targets, tf.int32)
    by_step = tf.transpose(logits, (1, 0, 2))                          # (T, B, N)
    step_targets = tf.transpose(targets)                                # (T, B)
    scores = tf.gather(by_step, step_targets, axis=2, batch_dims=1)     # (T, B, B): row slot, column target
    slots = tf.shape(targets)[0]
    other = ~tf.eye(slots, dtype=tf.bool)[None]
    different = tf.not_equal(step_targets[:, :, None], step_targets[:, None, :])
    present = (step_targets > 0)[:, None, :]
    mask = other & different & present
    positive = tf.linalg.diag_part(scores)
    return tf.transpose(positive), tf.transpose(scores, (1, 0, 2)), tf.transpose(mask, (1, 0, 2))


def _negative_weights(negatives, mask):
    """Softmax over each row's negatives (zero where masked; rows without negatives stay zero)."""
    masked = tf.where(mask, negatives, tf.fill(tf.shape(negatives), -1e9))
    weights = tf.nn.softmax(masked, axis=-1) * tf.cast(mask, negatives.dtype)
    return weights


@keras.saving.register_keras_serializable(package="kerasts")
class BPRMax(keras.losses.Loss):
    """BPR-max: `-log(sum_j s_j sigmoid(r_i - r_j)) + regularization * sum_j s_j r_j^2`, with `s` the
    softmax of the negatives' scores `r_j`. Takes targets (batch, steps) and logits
    (batch, steps, items); pass the padding mask as `sample_weight`."""

    def __init__(self, regularization=1.0, name="bpr_max", **kwargs):
        super().__init__(name=name, **kwargs)
        self.regularization = regularization

    def call(self, y_true, y_pred):
        positive, negatives, mask = in_batch_scores(y_true, y_pred)
        weights = _negative_weights(negatives, mask)
        ranking = tf.reduce_sum(weights * tf.sigmoid(positive[..., None] - negatives), axis=-1)
        penalty = tf.reduce_sum(weights * tf.square(negatives), axis=-1)
        has_negatives = tf.cast(tf.reduce_any(mask, axis=-1), positive.dtype)
        return has_negatives * (-tf.math.log(ranking + 1e-10) + self.regularization * penalty)

    def get_config(self):
        return {**super().get_config(), "regularization": self.regularization}


@keras.saving.register_keras_serializable(package="kerasts")
class TOP1Max(keras.losses.Loss):
    """TOP1-max: `sum_j s_j (sigmoid(r_j - r_i) + sigmoid(r_j^2))`, `s` the softmax of the negatives'
    scores. Same inputs as `BPRMax`."""

    def __init__(self, name="top1_max", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        positive, negatives, mask = in_batch_scores(y_true, y_pred)
        weights = _negative_weights(negatives, mask)
        return tf.reduce_sum(weights * (tf.sigmoid(negatives - positive[..., None]) + tf.sigmoid(tf.square(negatives))),
                             axis=-1)
