import keras
import numpy as np
import pytest
import tensorflow as tf

import kerasts
from kerasts.layers import RecurrentStack
from kerasts.testing import TestCase

SEQUENCE = np.random.default_rng(0).normal(size=(8, 12, 5)).astype("float32")


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_sequence_pass_equals_stepping_the_same_cells(cell):
    stack = RecurrentStack(cell, units=6, num_layers=2)
    outputs, final_states = stack(SEQUENCE)
    states = [[tf.zeros((8, 6)) for _ in layer] for layer in final_states]
    stepped = []
    for step in range(SEQUENCE.shape[1]):
        output, states = stack.step(SEQUENCE[:, step], states)
        stepped.append(output)
    np.testing.assert_allclose(outputs, tf.stack(stepped, axis=1), atol=1e-5)
    for expected, actual in zip(tf.nest.flatten(states), tf.nest.flatten(final_states)):
        np.testing.assert_allclose(actual, expected, atol=1e-5)


def test_fused_lstm_matches_keras_lstm_layer_with_the_same_weights():
    stack = RecurrentStack("lstm", units=6, num_layers=1)
    outputs, _ = stack(SEQUENCE)
    reference = keras.layers.LSTM(6, return_sequences=True)
    reference.build(SEQUENCE.shape)
    reference.set_weights(stack.get_weights())
    np.testing.assert_allclose(outputs, reference(SEQUENCE), atol=1e-5)


def test_fused_lstm_gradients_match_the_stepped_cells():
    stack = RecurrentStack("lstm", units=4, num_layers=2)
    stack(SEQUENCE)

    def loss_of(run):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.square(run()))
        return tape.gradient(loss, stack.trainable_weights)

    def stepped():  # the Keras cells themselves: `step` is inference-only
        states = [[tf.zeros((8, 4)), tf.zeros((8, 4))] for _ in range(2)]
        outputs = []
        for step in range(SEQUENCE.shape[1]):
            output = SEQUENCE[:, step]
            for index, cell in enumerate(stack.cells):
                output, states[index] = cell(output, states[index])
            outputs.append(output)
        return tf.stack(outputs, axis=1)

    for fused, reference in zip(loss_of(lambda: stack(SEQUENCE)[0]), loss_of(stepped)):
        np.testing.assert_allclose(fused, reference, atol=1e-4)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("batch", [8, 3, 1])  # 3 and 1: uneven and empty shards
def test_batch_shards_give_the_unsharded_outputs_states_and_gradients(cell, batch):
    sequence = SEQUENCE[:batch]
    whole = RecurrentStack(cell, units=4, num_layers=2)
    sharded = RecurrentStack(cell, units=4, num_layers=2, batch_shards=2)
    whole(sequence), sharded(sequence)
    sharded.set_weights(whole.get_weights())

    def run(stack):
        with tf.GradientTape() as tape:
            outputs, states = stack(sequence)
            loss = tf.reduce_sum(tf.square(outputs)) + sum(tf.reduce_sum(state) for state in tf.nest.flatten(states))
        return [outputs, *tf.nest.flatten(states), *tape.gradient(loss, stack.trainable_weights)]

    for expected, actual in zip(run(whole), run(sharded), strict=True):
        np.testing.assert_allclose(actual, expected, atol=1e-5)


def test_batch_shards_must_be_a_positive_integer():
    with pytest.raises(ValueError, match="`batch_shards` must be a positive integer, got 0"):
        RecurrentStack("lstm", batch_shards=0)


@keras.saving.register_keras_serializable(package="kerasts_tests")
class RecurrentOutputs(RecurrentStack):
    """The stack's outputs alone, so the harness can fit it with one loss."""

    def call(self, inputs, training=None):
        return super().call(inputs, training=training)[0]

    def compute_output_spec(self, inputs, training=None):
        return super().compute_output_spec(inputs)[0]


class RecurrentStackTest(TestCase):
    def test_harness_lstm(self):
        self.run_layer_test(RecurrentOutputs, {"cell": "lstm", "units": 4, "num_layers": 2, "dropout": 0.1,
                                               "batch_shards": 2}, SEQUENCE, (8, 12, 4))

    def test_harness_gru(self):
        self.run_layer_test(RecurrentOutputs, {"cell": "gru", "units": 4, "num_layers": 1}, SEQUENCE, (8, 12, 4),
                            run_distribution_check=False)


def test_unknown_cell_is_named():
    with pytest.raises(ValueError, match="Unknown recurrent cell 'rnn'"):
        RecurrentStack("rnn")


def test_a_user_registered_cell_runs_and_round_trips_with_its_arguments():
    kerasts.layers.register_recurrent_cell(
        "test_simple_rnn", lambda units, name, activation="tanh": keras.layers.SimpleRNNCell(
            units, activation=activation, name=name))
    stack = RecurrentStack({"name": "test_simple_rnn", "config": {"activation": "relu"}}, units=3, num_layers=2)
    outputs, states = stack(np.ones((2, 5, 4), "float32"))
    assert outputs.shape == (2, 5, 3) and stack.cells[0].activation.__name__ == "relu"
    assert RecurrentStack.from_config(stack.get_config()).cell == {"name": "test_simple_rnn",
                                                                   "config": {"activation": "relu"}}
    with pytest.raises(TypeError, match="given by name or as"):
        RecurrentStack(["lstm"])
