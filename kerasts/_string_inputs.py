"""A fix for Keras 3.15 models that take string features under `tf.distribute` strategies."""

import tensorflow as tf


class DistributedStringInputsMixin:
    """Put before `keras.Model` in the bases of a model whose inputs include strings.

    Before a distributed `fit`, Keras 3.15 averages one input batch over the replicas to trace the
    model, which fails on string features (TensorFlow has no string `AddN`). Tracing needs only
    shapes and dtypes, so this traces the first replica's part of the batch instead.
    """

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        strategy = self._distribute_strategy
        if strategy is None or iterator is None:
            return super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)
        for _, _, batches in iterator:
            batch = next(batches)
            break
        first_replica = tf.nest.map_structure(
            lambda value: (strategy.experimental_local_results(value)[0]
                           if isinstance(value, tf.distribute.DistributedValues) else value), batch)
        with strategy.scope():
            self._symbolic_build(data_batch=first_replica)
