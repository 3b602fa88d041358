"""GRU4Rec's ranking losses (Hidasi & Karatzoglou 2018): BPR-max, TOP1-max and sampled cross-entropy.

For each slot and step, the negatives are the targets of the other slots at the same step
(minus copies of the slot's own target and padding), as in session-parallel training, and, given the
items' popularity, `num_negatives` items drawn once per batch with probability proportional to
`popularity ** alpha` (GRU4Rec's shared negative samples; minus copies of the slot's target).
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


class SharedNegatives:
    """Items drawn once per batch with probability proportional to `popularity ** alpha` (padding,
    index 0, and items never seen are never drawn), and their scores for each slot and step."""

    def __init__(self, item_popularity, num_negatives, alpha, seed):
        self.num_negatives = int(num_negatives)
        popularity = tf.concat([[0.0], tf.constant([float(value) for value in item_popularity[1:]], tf.float32)],
                               axis=0)
        self.target_log_share = tf.math.log(popularity / tf.reduce_sum(popularity) + 1e-12)
        weights = tf.pow(popularity, float(alpha)) * tf.cast(popularity > 0, tf.float32)
        self.sample_log_share = tf.math.log(weights / tf.reduce_sum(weights) + 1e-12)
        self._generator = tf.random.Generator.from_seed(int(seed))

    def draw(self):
        seed = self._generator.make_seeds(1)[:, 0]
        return tf.cast(tf.random.stateless_categorical(self.sample_log_share[None], self.num_negatives, seed)[0],
                       tf.int32)

    @staticmethod
    def scores(targets, logits, samples):
        """`(scores (B, T, S), mask (B, T, S))`: every slot's scores of the samples, and which are not its target."""
        return tf.gather(logits, samples, axis=-1), tf.not_equal(targets[..., None], samples[None, None, :])


def _negative_weights(negatives, mask):
    """Softmax over each row's negatives (zero where masked; rows without negatives stay zero)."""
    masked = tf.where(mask, negatives, tf.fill(tf.shape(negatives), -1e9))
    weights = tf.nn.softmax(masked, axis=-1) * tf.cast(mask, negatives.dtype)
    return weights


class _MaxRankingLoss(keras.losses.Loss):
    """The negatives of BPR-max and TOP1-max: in-batch targets, plus shared samples when the items'
    popularity is given."""

    def __init__(self, item_popularity=None, num_negatives=2048, alpha=0.5, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.item_popularity = None if item_popularity is None else [float(value) for value in item_popularity]
        self.num_negatives, self.alpha, self.seed = int(num_negatives), float(alpha), int(seed)
        self._sampler = (None if item_popularity is None or self.num_negatives == 0 else
                         SharedNegatives(self.item_popularity, self.num_negatives, self.alpha, self.seed))

    def candidates(self, y_true, y_pred):
        """`(positive (B, T), negatives (B, T, C), mask (B, T, C))` over in-batch and sampled negatives."""
        targets = tf.cast(y_true, tf.int32)
        positive, negatives, mask = in_batch_scores(targets, y_pred)
        if self._sampler is None:
            return positive, negatives, mask
        sampled, sampled_mask = self._sampler.scores(targets, y_pred, self._sampler.draw())
        return positive, tf.concat([negatives, sampled], axis=-1), tf.concat([mask, sampled_mask], axis=-1)

    def get_config(self):
        return {**super().get_config(), "item_popularity": self.item_popularity, "num_negatives": self.num_negatives,
                "alpha": self.alpha, "seed": self.seed}


_NEGATIVES_ARGS = """item_popularity: events per item index (index 0, padding, is never drawn); given, each
            batch also draws `num_negatives` shared negatives with probability proportional to
            `popularity ** alpha` (GRU4Rec's); `None`: in-batch negatives only.
        num_negatives, alpha: the shared samples per batch and the exponent of their distribution.
        seed: seeds the sampler."""


@keras.saving.register_keras_serializable(package="kerasts")
class BPRMax(_MaxRankingLoss):
    __doc__ = f"""BPR-max: `-log(sum_j s_j sigmoid(r_i - r_j)) + regularization * sum_j s_j r_j^2`, with `s` the
    softmax of the negatives' scores `r_j`. Takes targets (batch, steps) and logits
    (batch, steps, items); pass the padding mask as `sample_weight`.

    Args:
        regularization: the weight of the score penalty (GRU4Rec's `bpreg`).
        elu: with `elu > 0`, every score first goes through an ELU of that alpha (GRU4Rec's
            `elu_param`), which bounds negative scores below; 0: the scores as they are.
        {_NEGATIVES_ARGS}
    """

    def __init__(self, regularization=1.0, elu=0.5, item_popularity=None, num_negatives=2048, alpha=0.5, seed=0,
                 name="bpr_max", **kwargs):
        super().__init__(item_popularity, num_negatives, alpha, seed, name=name, **kwargs)
        self.regularization, self.elu = float(regularization), float(elu)

    def call(self, y_true, y_pred):
        if self.elu > 0:  # expm1 of the negative part only: a large positive score would overflow its gradient
            y_pred = tf.where(y_pred > 0, y_pred, self.elu * tf.math.expm1(tf.minimum(y_pred, 0.0)))
        positive, negatives, mask = self.candidates(y_true, y_pred)
        weights = _negative_weights(negatives, mask)
        ranking = tf.reduce_sum(weights * tf.sigmoid(positive[..., None] - negatives), axis=-1)
        penalty = tf.reduce_sum(weights * tf.square(negatives), axis=-1)
        has_negatives = tf.cast(tf.reduce_any(mask, axis=-1), positive.dtype)
        return has_negatives * (-tf.math.log(ranking + 1e-10) + self.regularization * penalty)

    def get_config(self):
        return {**super().get_config(), "regularization": self.regularization, "elu": self.elu}


@keras.saving.register_keras_serializable(package="kerasts")
class TOP1Max(_MaxRankingLoss):
    __doc__ = f"""TOP1-max: `sum_j s_j (sigmoid(r_j - r_i) + sigmoid(r_j^2))`, `s` the softmax of the negatives'
    scores. Same inputs as `BPRMax`.

    Args:
        {_NEGATIVES_ARGS}
    """

    def __init__(self, item_popularity=None, num_negatives=2048, alpha=0.5, seed=0, name="top1_max", **kwargs):
        super().__init__(item_popularity, num_negatives, alpha, seed, name=name, **kwargs)

    def call(self, y_true, y_pred):
        positive, negatives, mask = self.candidates(y_true, y_pred)
        weights = _negative_weights(negatives, mask)
        return tf.reduce_sum(weights * (tf.sigmoid(negatives - positive[..., None]) + tf.sigmoid(tf.square(negatives))),
                             axis=-1)


@keras.saving.register_keras_serializable(package="kerasts")
class SampledCrossEntropy(keras.losses.Loss):
    """GRU4Rec's cross-entropy over in-batch items plus shared sampled negatives, log-Q corrected.

    At each step a slot's candidates are the targets of all slots at that step (in-batch items,
    which appear in proportion to their popularity) and `num_negatives` items drawn once per batch
    with probability proportional to `popularity ** alpha`. Copies of the slot's own target among
    the other candidates and padding are removed; with `logq_correction`, each candidate's logit is
    lowered by the log of its probability of being a candidate (popularity share for in-batch items,
    the sampling probability for the shared ones), so popular items are not over-penalised.

    Args:
        item_popularity: events per item index (index 0, padding, is never sampled).
        num_negatives: shared sampled negatives per batch.
        alpha: exponent of the sampling distribution (0: uniform, 1: by popularity).
        logq_correction: apply the correction above.
        seed: seeds the sampler.
    """

    def __init__(self, item_popularity, num_negatives=128, alpha=0.75, logq_correction=True, seed=0,
                 name="sampled_cross_entropy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.item_popularity = [float(value) for value in item_popularity]
        self.num_negatives, self.alpha = int(num_negatives), float(alpha)
        self.logq_correction, self.seed = bool(logq_correction), int(seed)
        self._sampler = SharedNegatives(self.item_popularity, self.num_negatives, self.alpha, self.seed)

    def call(self, y_true, y_pred):
        targets = tf.cast(y_true, tf.int32)
        positive, in_batch, mask = in_batch_scores(targets, y_pred)
        samples = self._sampler.draw()
        sampled, sampled_mask = self._sampler.scores(targets, y_pred, samples)
        if self.logq_correction:
            # Column j of step t holds slot j's target at t.
            in_batch = in_batch - tf.gather(self._sampler.target_log_share, tf.transpose(targets))[None]
            sampled = sampled - tf.gather(self._sampler.sample_log_share, samples)
            positive = positive - tf.gather(self._sampler.target_log_share, targets)
        sampled = tf.where(sampled_mask, sampled, -1e9)
        negatives = tf.where(mask, in_batch, -1e9)
        logits = tf.concat([positive[..., None], negatives, sampled], axis=-1)
        return -tf.nn.log_softmax(logits, axis=-1)[..., 0]

    def get_config(self):
        return {**super().get_config(), "item_popularity": self.item_popularity, "num_negatives": self.num_negatives,
                "alpha": self.alpha, "logq_correction": self.logq_correction, "seed": self.seed}
