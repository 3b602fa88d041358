import kerasts  # noqa: F401 - first, to silence TensorFlow's start-up logging

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

from kerasts.data import synthetic_multitask  # noqa: E402
from kerasts.models import MMoE, SharedBottom  # noqa: E402
from kerasts.testing import TestCase  # noqa: E402

FEATURES = {"x": {"type": "numeric", "size": 4, "units": None},
            "job": {"type": "categorical", "vocabulary": ["a", "b", "c"], "embedding_dim": 3}}
TASKS = {"clicked": "binary", "dwell": "regression"}
LOSSES = {"clicked": "binary_crossentropy", "dwell": "mean_squared_error"}


def _data(rows=32, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 4)).astype("float32")
    inputs = {"x": x, "job": np.array(["a", "b", "c", "zz"] * (rows // 4), dtype=object)}
    labels = {"clicked": (x[:, 0] > 0).astype("float32")[:, None], "dwell": (x[:, 1] * 2).astype("float32")[:, None]}
    return inputs, labels


class MultiTaskHarnessTest(TestCase):
    def test_mmoe_harness(self):
        inputs, labels = _data()
        self.run_model_test(MMoE, {"features": FEATURES, "tasks": TASKS, "num_experts": 3, "expert_units": (8,),
                                   "tower_units": (4,)},
                            {**inputs, "job": tf.constant(inputs["job"].astype(str))},
                            expected_output_shape={"clicked": (32, 1), "dwell": (32, 1)}, target=labels, loss=LOSSES)

    def test_shared_bottom_harness(self):
        inputs, labels = _data()
        self.run_model_test(SharedBottom, {"features": FEATURES, "tasks": TASKS, "bottom_units": (8,)},
                            {**inputs, "job": tf.constant(inputs["job"].astype(str))},
                            expected_output_shape={"clicked": (32, 1), "dwell": (32, 1)}, target=labels, loss=LOSSES,
                            run_distribution_check=False)  # the MMoE run covers the shared code under a strategy


def _model():
    model = MMoE(FEATURES, TASKS, num_experts=4)
    model.compile("adam", loss=LOSSES)
    return model


@pytest.mark.parametrize(
    "change, error, message",
    [
        (lambda x, y: (x, {**y, "clicked": np.full((32, 1), 2.0)}), ValueError, "binary: its labels must be 0 or 1"),
        (lambda x, y: (x, {**y, "dwell": np.zeros((32, 2))}), ValueError, r"must have shape \(32,\) or \(32, 1\)"),
        (lambda x, y: (x, {**y, "dwell": np.array(["long"] * 32)}), TypeError, "must be numbers"),
        (lambda x, y: (x, {"clicked": y["clicked"]}), ValueError, r"missing: \['dwell'\]"),
        (lambda x, y: (x, {**y, "bought": y["clicked"]}), ValueError, r"unknown: \['bought'\]"),
        (lambda x, y: ({**x, "x": np.where(np.eye(32, 4) > 0, np.nan, x["x"])}, y), ValueError,
         "'x' holds NaN"),
        (lambda x, y: ({"job": x["job"]}, y), ValueError, "lack feature 'x'"),
    ],
)
def test_bad_fit_input(change, error, message):
    inputs, labels = change(*_data())
    with pytest.raises(error, match=message):
        _model().fit(inputs, labels, epochs=1, verbose=0)


def test_unknown_task_in_compile():
    with pytest.raises(ValueError, match=r"`loss` names task\(s\) \['bought'\]"):
        MMoE(FEATURES, TASKS).compile("adam", loss={**LOSSES, "bought": "mse"})
    with pytest.raises(ValueError, match="'binary' or 'regression'"):
        MMoE(FEATURES, {"clicked": "ranking"})


def test_gate_entropy_sees_a_collapsed_gate():
    model = MMoE(FEATURES, TASKS, num_experts=4)
    inputs, _ = _data()
    model(inputs)
    entropy = model.gate_entropy(inputs)
    assert all(0 <= value <= np.log(4) + 1e-6 for value in entropy.values())
    gate = model.experts._gates[0][-1]
    gate.kernel.assign(np.zeros_like(gate.kernel.numpy()))
    gate.bias.assign([50.0, 0.0, 0.0, 0.0])
    collapsed = model.gate_entropy(inputs)
    assert collapsed["clicked"] < 1e-6 and collapsed["dwell"] > 0.01
    assert model.gate_weights(inputs)["clicked"].shape == (32, 4)


def test_synthetic_multitask_controls_the_task_correlation():
    _, same = synthetic_multitask(4000, dim=20, correlation=1.0, noise_std=0.01, seed=0)
    _, apart = synthetic_multitask(4000, dim=20, correlation=0.0, noise_std=0.01, seed=0)
    assert np.corrcoef(same["task_1"], same["task_2"])[0, 1] > 0.999
    assert abs(np.corrcoef(apart["task_1"], apart["task_2"])[0, 1]) < 0.3
    x, _ = synthetic_multitask(10, dim=7, seed=0)
    assert x.shape == (10, 7) and x.dtype == np.float32
    with pytest.raises(ValueError, match="correlation"):
        synthetic_multitask(10, correlation=2)


def test_synthetic_multitask_takes_the_sine_shapes():
    zeros = np.zeros(3)
    x, flat = synthetic_multitask(50, dim=5, num_sines=3, alphas=zeros, betas=zeros, seed=2)
    same_x, lifted = synthetic_multitask(50, dim=5, num_sines=3, alphas=zeros, betas=np.full(3, np.pi / 2), seed=2)
    np.testing.assert_array_equal(x, same_x)
    for task in ("task_1", "task_2"):  # sin(pi / 2) = 1 for each of the three sines
        np.testing.assert_allclose(lifted[task] - flat[task], 3.0, rtol=1e-5)
    with pytest.raises(ValueError, match=r"`betas` must hold one value per sine, shape \(3,\)"):
        synthetic_multitask(10, num_sines=3, betas=[1.0, 2.0])


def test_mmoe_learns_both_synthetic_tasks():
    keras.utils.set_random_seed(0)
    x, y = synthetic_multitask(3000, dim=10, correlation=0.5, seed=1)
    model = MMoE({"x": {"type": "numeric", "size": 10, "units": None}}, {"task_1": "regression", "task_2": "regression"},
                 num_experts=4, expert_units=(16,))
    model.compile(kerasts.optimizers.Adam(0.01), loss={"task_1": "mse", "task_2": "mse"})
    model.fit({"x": x}, y, epochs=15, batch_size=128, verbose=0)
    predictions = model.predict({"x": x}, verbose=0)
    for task in ("task_1", "task_2"):
        explained = 1 - np.mean((predictions[task][:, 0] - y[task]) ** 2) / np.var(y[task])
        assert explained > 0.8, (task, explained)


def test_compile_defaults_are_the_losses_and_metrics_of_the_task_types():
    model = MMoE({"x": {"type": "numeric", "size": 3, "units": None}}, {"click": "binary", "minutes": "regression"},
                 num_experts=2, expert_units=(4,))
    model.compile("adam")
    assert model.loss == {"click": "binary_crossentropy", "minutes": "mean_squared_error"}
    x = {"x": np.random.default_rng(0).normal(size=(32, 3)).astype("float32")}
    y = {"click": (x["x"][:, 0] > 0).astype("float32"), "minutes": x["x"][:, 1]}
    history = model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    assert "click_auc" in history.history and "minutes_auc" not in history.history
