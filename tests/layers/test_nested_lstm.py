import keras
import numpy as np
import pytest

import kerasts
from kerasts.layers import NestedLSTM, NestedLSTMCell
from kerasts.testing import TestCase


def _sigmoid(value):
    return 1.0 / (1.0 + np.exp(-value))


def reference_step(x, states, kernels, recurrent_kernels, biases):
    """One Nested LSTM step in numpy, from the paper's equations (identity outer candidate)."""
    depth = len(kernels)
    hidden, memories = states[0], list(states[1:])
    inputs, level_hidden = x, hidden
    output_gates, new_memories = [], []
    for level in range(depth):
        z = inputs @ kernels[level] + level_hidden @ recurrent_kernels[level] + biases[level]
        i, f, g, o = np.split(z, 4, axis=-1)
        i, f, o = _sigmoid(i), _sigmoid(f), _sigmoid(o)
        g = g if level == 0 else np.tanh(g)
        output_gates.append(o)
        if level == depth - 1:
            new_memories.append(f * memories[level] + i * g)
        else:
            inputs, level_hidden = i * g, f * memories[level]  # the inner LSTM's input and hidden state
            new_memories.append(None)
    # Unwind: each inner output h~ = o * tanh(c) becomes the memory of the level above.
    inner_output = output_gates[-1] * np.tanh(new_memories[-1])
    for level in range(depth - 2, -1, -1):
        new_memories[level] = inner_output
        inner_output = output_gates[level] * np.tanh(inner_output)
    return inner_output, [inner_output] + new_memories


def test_parameter_count_follows_the_formula():
    layer = NestedLSTM(40, depth=2)
    layer.build((None, 10, 1))
    assert layer.count_params() == 19_680
    units, features, depth = 16, 5, 3
    cell = NestedLSTMCell(units, depth=depth)
    cell.build((None, features))
    expected = 4 * units * (features + units + 1) + (depth - 1) * 4 * units * (2 * units + 1)
    assert cell.count_params() == expected


def test_depth_one_with_tanh_candidate_equals_keras_lstm_cell():
    x = np.random.default_rng(0).normal(size=(6, 9, 3)).astype("float32")
    nested = NestedLSTM(5, depth=1, outer_candidate_activation="tanh", return_sequences=True)
    lstm = keras.layers.LSTM(5, return_sequences=True)
    nested.build(x.shape)
    lstm.build(x.shape)
    lstm.set_weights(nested.get_weights())
    np.testing.assert_allclose(nested(x), lstm(x), atol=1e-6)


@pytest.mark.parametrize("depth", [2, 3])
def test_step_equals_numpy_reference(depth):
    generator = np.random.default_rng(depth)
    cell = NestedLSTMCell(4, depth=depth, bias_initializer="random_normal")
    cell.build((None, 3))
    x = generator.normal(size=(5, 3)).astype("float32")
    states = [generator.normal(size=(5, 4)).astype("float32") for _ in range(depth + 1)]
    output, new_states = cell(x, states)
    expected_output, expected_states = reference_step(
        x, states, [np.asarray(k) for k in cell.kernels], [np.asarray(k) for k in cell.recurrent_kernels],
        [np.asarray(b) for b in cell.biases])
    np.testing.assert_allclose(output, expected_output, atol=1e-5)
    assert len(new_states) == depth + 1
    for actual, expected in zip(new_states, expected_states):
        np.testing.assert_allclose(actual, expected, atol=1e-5)


def test_forget_bias_starts_at_one_on_the_forget_gate():
    cell = NestedLSTMCell(3, depth=2)
    cell.build((None, 2))
    for bias in cell.biases:
        np.testing.assert_array_equal(np.asarray(bias), np.r_[np.zeros(3), np.ones(3), np.zeros(6)])


def test_dropout_masks_are_per_sample_and_fixed_over_time():
    x = np.ones((2, 6, 4), "float32")  # two identical samples
    layer = NestedLSTM(8, dropout=0.5, recurrent_dropout=0.5, return_sequences=True, seed=1)
    training = np.asarray(layer(x, training=True))
    assert not np.allclose(training[0], training[1])
    inference = np.asarray(layer(x, training=False))
    np.testing.assert_allclose(inference[0], inference[1])


def test_bad_arguments():
    with pytest.raises(ValueError, match="`depth` must be a positive integer"):
        NestedLSTMCell(4, depth=0)
    with pytest.raises(ValueError, match=r"`dropout` must be in \[0, 1\)"):
        NestedLSTM(4, dropout=1.0)


class NestedLSTMHarnessTest(TestCase):
    def test_harness_layer(self):
        x = np.random.default_rng(1).normal(size=(8, 7, 3)).astype("float32")
        self.run_layer_test(NestedLSTM, {"units": 4, "depth": 2, "return_sequences": True, "dropout": 0.1},
                            x, (8, 7, 4))

    def test_harness_with_state_outputs(self):
        x = np.random.default_rng(2).normal(size=(8, 7, 3)).astype("float32")
        self.run_layer_test(NestedLSTM, {"units": 4, "depth": 3, "return_state": True}, x,
                            [(8, 4), (8, 4), (8, 4), (8, 4), (8, 4)], run_training_check=False,
                            run_distribution_check=False)


def test_learns_what_an_lstm_learns():
    generator = np.random.default_rng(3)
    x = generator.normal(size=(256, 12, 1)).astype("float32")
    y = x[:, :, 0].sum(axis=1, keepdims=True) / 3.0  # a running sum: needs memory
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((12, 1)), NestedLSTM(16, depth=2), keras.layers.Dense(1)])
    model.compile(kerasts.optimizers.Adam(0.01), loss="mse")
    history = model.fit(x, y, batch_size=32, epochs=15, verbose=0)
    assert history.history["loss"][-1] < 0.1 * history.history["loss"][0]


@pytest.mark.slow
def test_deepar_with_nested_lstm_fits_forecasts_and_exports(tmp_path):
    table = kerasts.data.synthetic_forecast_table(3, 24 * 8, seed=0)
    windows = kerasts.data.ForecastWindows(kerasts.data.align_target(table, "H"), 12, 6, [1, 24],
                                           likelihood="negative_binomial")
    model = kerasts.models.DeepAR(6, 12, "H", lags=[1, 24], likelihood="negative_binomial", cell="nested_lstm",
                                  units=8, num_samples=10)
    model.compile("adam", loss=kerasts.losses.NegativeLogLikelihood("negative_binomial"))
    history = model.fit(windows.training_dataset(16), steps_per_epoch=5, epochs=2, verbose=0, shuffle=False)
    assert np.isfinite(history.history["loss"]).all()
    inputs = windows.last_windows(with_future_target=False)
    paths = model.forecast(inputs, seed=1)["samples"]
    assert paths.shape == (3, 10, 6)
    model.export(tmp_path / "nested")
    import tensorflow as tf

    exported = tf.saved_model.load(str(tmp_path / "nested"))
    served = exported.forecast({k: tf.constant(v) for k, v in inputs.items()}, tf.constant([1, 0]))
    np.testing.assert_allclose(served["samples"], paths)
