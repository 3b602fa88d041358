import kerasts  # noqa: F401 - first, to silence TensorFlow's start-up logging

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from kerasts.layers import MixtureOfExperts  # noqa: E402
from kerasts.testing import TestCase  # noqa: E402


class MixtureOfExpertsHarnessTest(TestCase):
    def test_harness(self):
        inputs = np.random.default_rng(0).normal(size=(16, 5)).astype("float32")
        self.run_layer_test(MixtureOfExperts, {"num_experts": 3, "num_tasks": 2, "expert_units": (8, 4),
                                               "gate_units": (6,)},
                            inputs, expected_output_shape=[(16, 4), (16, 4)])


def test_each_task_mixes_the_experts_with_its_own_softmax_gate():
    layer = MixtureOfExperts(num_experts=3, num_tasks=2, expert_units=(4,), return_gates=True)
    x = np.random.default_rng(1).normal(size=(7, 5)).astype("float32")
    (mixtures, gates) = layer(x)
    experts = [np.maximum(x @ network[0].kernel.numpy() + network[0].bias.numpy(), 0) for network in layer._experts]
    for task in range(2):
        gate = gates[task].numpy()
        np.testing.assert_allclose(gate.sum(axis=1), 1.0, rtol=1e-6)
        logits = x @ layer._gates[task][0].kernel.numpy() + layer._gates[task][0].bias.numpy()
        expected_gate = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        np.testing.assert_allclose(gate, expected_gate, rtol=1e-5)
        expected = sum(expected_gate[:, [i]] * experts[i] for i in range(3))
        np.testing.assert_allclose(mixtures[task].numpy(), expected, rtol=1e-5, atol=1e-6)
    assert not np.allclose(gates[0].numpy(), gates[1].numpy())  # separate gates


@pytest.mark.parametrize("kwargs, message", [({"num_experts": 0, "num_tasks": 2},
                                              "`num_experts` must be a positive integer"),
                                             ({"num_experts": 2, "num_tasks": 2, "expert_units": ()}, "at least one")])
def test_bad_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MixtureOfExperts(**kwargs)
