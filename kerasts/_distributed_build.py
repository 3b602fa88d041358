"""A fix for Keras 3.15's distributed `fit` in every kerasts model: string inputs under `tf.distribute`
strategies, and any inputs under `MultiWorkerMirroredStrategy` (keras-team/keras#20585)."""

import tensorflow as tf


def _across_workers(strategy):
    """Whether `strategy` reduces across worker processes (Keras 3.15's test for its multi-worker path)."""
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and \
        strategy.extended._in_multi_worker_mode()


class DistributedBuildMixin:
    """Put before `keras.Model` in the bases of a kerasts model.

    Before a distributed `fit`, Keras 3.15 builds the model on one input batch averaged over the
    replicas with `strategy.reduce`. That fails for string features (TensorFlow has no string `AddN`)
    and, under `MultiWorkerMirroredStrategy`, for every input: the reduce becomes a cross-worker
    collective over a nest of per-replica values, which the collective ops cannot convert ("Attempt
    to convert a value (PerReplica: ...)"). Building needs only shapes and dtypes, so this builds on
    the first local replica's part of the batch instead; nothing crosses workers. Upstream, the same
    change in `keras/src/backend/tensorflow/trainer.py`'s `_maybe_symbolic_build` (take
    `strategy.experimental_local_results(value)[0]` instead of `strategy.reduce("MEAN", ...)`) would fix
    both for every model.

    A second Keras 3.15 bug stops multi-worker `fit` and `evaluate` after the build: each step's logs
    (scalars, the same on every replica, since the metrics are synchronised) are averaged with
    `strategy.reduce("MEAN", value, axis=0)`, which has no axis 0 for a scalar. Under that strategy
    only, `train_step` and `test_step` return their logs as 1-element vectors, whose mean over axis 0
    is the scalar Keras expects (upstream: `axis=None` for scalars in `reduce_per_replica`).
    """

    def train_step(self, data):
        return self._reducible_across_workers(super().train_step(data))

    def test_step(self, data):
        return self._reducible_across_workers(super().test_step(data))

    def _reducible_across_workers(self, logs):
        if not _across_workers(self._distribute_strategy):
            return logs
        return tf.nest.map_structure(lambda value: tf.reshape(value, [-1]) if value.shape.rank == 0 else value, logs)

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
