import types

import tensorflow as tf

from kerasts._training_graph_release import replica_sum_gradient_names, training_graph_released


@tf.custom_gradient
def _doubled(x):
    return 2.0 * x, lambda upstream: 2.0 * upstream


@tf.function
def _cached(x, y):  # a function traced once and kept for the process, as TFP's lbeta is
    return _doubled(x) * y


def test_the_release_keeps_the_custom_gradients_of_functions_that_outlive_the_block():
    x, y = tf.constant(1.5), tf.constant(3.0)
    with training_graph_released():  # traced first inside a fit, its gradient not yet asked for
        _cached(x, y)
    with tf.GradientTape() as tape:
        tape.watch(x)
        value = _cached(x, y)
    assert float(tape.gradient(value, x)) == 6.0  # its backward is built now, from the registered gradient


def test_the_release_removes_the_replica_sums_registered_in_the_block():
    @tf.function
    def summed(value):  # as Keras's optimizer sums the gradients over the replicas
        return tf.distribute.get_replica_context().all_reduce("sum", value)

    before = replica_sum_gradient_names()
    summed(tf.constant(1.0))
    assert replica_sum_gradient_names() - before  # what Keras's optimizer step leaves behind
    registered = replica_sum_gradient_names()
    with training_graph_released():
        summed(tf.constant([1.0, 2.0]))  # a new shape: traced again, a new registration
    assert replica_sum_gradient_names() == registered


def test_a_tensorflow_without_the_registry_still_fits(monkeypatch):
    from kerasts import _training_graph_release

    # What the release reads stands in for a TensorFlow without the registry; TensorFlow's own module is left
    # whole (deleting its attribute broke any custom gradient traced next, and so the test whenever it ran first).
    monkeypatch.setattr(_training_graph_release, "ops", types.SimpleNamespace())
    with training_graph_released():  # nothing to release: the block runs as it is
        assert float(_cached(tf.constant(1.0), tf.constant(2.0))) == 4.0
    assert replica_sum_gradient_names() == set()
