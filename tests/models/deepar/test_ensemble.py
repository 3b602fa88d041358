import keras
import numpy as np
import pytest
import tensorflow as tf

import kerasts
from kerasts.models import DeepAR, DeepAREnsemble
from kerasts.models.deepar import sampling
from kerasts.testing import TestCase
from tests.models.deepar.test_deepar import SMALL, _batch, _windows


def _networks(count=2, **overrides):
    networks = []
    for seed in range(count):
        keras.utils.set_random_seed(seed)
        network = DeepAR(**{**SMALL, **overrides})
        network(_batch(_windows())[0])  # built, so the networks' weights differ by seed
        networks.append(network)
    return networks


class DeepAREnsembleHarnessTest(TestCase):
    def test_harness(self):
        windows = _windows()
        inputs, _ = _batch(windows)
        forecast_inputs = (windows.last_windows(with_future_target=False), np.array([7, 0], "int32"))
        # Not trained as a whole: each network is fitted on its own (DeepARForecaster), then assembled.
        self.run_model_test(DeepAREnsemble, {"networks": _networks()}, inputs, expected_output_shape=(8, 2, 18, 2),
                            target=None, loss=None, run_training_check=False, run_distribution_check=False,
                            endpoint_inputs={"forecast": forecast_inputs})


def test_the_ensemble_pools_each_networks_share_of_the_paths_drawn_with_the_same_seed():
    windows = _windows()
    inputs = windows.last_windows(with_future_target=False)
    first, second = networks = _networks()
    pooled = DeepAREnsemble(networks).forecast(inputs, num_samples=11, seed=3, quantiles=(0.5,))
    expected = np.concatenate([first.forecast(inputs, 6, seed=3)["samples"],
                               second.forecast(inputs, 5, seed=3)["samples"]], axis=1)
    np.testing.assert_allclose(pooled["samples"], expected, rtol=1e-6)
    np.testing.assert_allclose(pooled["mean"], expected.mean(axis=1), rtol=1e-5)
    np.testing.assert_allclose(pooled["quantiles"][:, 0], np.median(expected, axis=1), rtol=1e-5)


def test_networks_of_one_architecture_share_one_trace_of_the_sampling_loop():
    inputs = _windows().last_windows(with_future_target=False)
    first, second = _networks()
    wider = _networks(1, units=12)[0]
    ensemble = DeepAREnsemble([first, second, wider])
    pooled = ensemble.forecast(inputs, num_samples=13, seed=3)["samples"]  # shares 5, 4, 4
    ensemble.forecast(inputs, num_samples=7, seed=3)
    assert sampling.traced_sampler(first).experimental_get_tracing_count() == 1  # two shares, two path counts
    assert "_traced_sampler" not in second.__dict__  # drawn through the first's trace, with its own weights
    assert sampling.traced_sampler(wider).experimental_get_tracing_count() == 1
    np.testing.assert_allclose(pooled[:, 9:], wider.forecast(inputs, 4, seed=3)["samples"], rtol=1e-6)


def test_the_exported_forecast_of_an_ensemble_is_its_pooled_forecast(tmp_path):
    windows = _windows()
    inputs = windows.last_windows(with_future_target=False)
    ensemble = DeepAREnsemble(_networks(3))
    ensemble.export(str(tmp_path / "ensemble"))
    reloaded = tf.saved_model.load(str(tmp_path / "ensemble"))  # held: its variables live as long as it does
    served = reloaded.forecast({name: tf.constant(value) for name, value in inputs.items()},
                               tf.constant([4, 0], tf.int32))
    np.testing.assert_allclose(served["samples"].numpy(), ensemble.forecast(inputs, seed=4)["samples"], rtol=1e-5)
    assert served["samples"].shape == (4, SMALL["num_samples"], SMALL["prediction_length"])


def test_bad_ensembles_are_refused_by_name():
    with pytest.raises(TypeError, match="two or more DeepAR networks"):
        DeepAREnsemble(_networks(1))
    with pytest.raises(TypeError, match="two or more DeepAR networks"):
        DeepAREnsemble([_networks(1)[0], keras.layers.Dense(2)])
    with pytest.raises(ValueError, match=r"networks\[1\]` differs .* \['prediction_length'\]"):
        DeepAREnsemble([DeepAR(**SMALL), DeepAR(**{**SMALL, "prediction_length": 3})])
    with pytest.raises(ValueError, match="num_samples=2 cannot be shared by 3 networks"):
        DeepAREnsemble([DeepAR(**{**SMALL, "num_samples": 2}) for _ in range(3)])
    with pytest.raises(ValueError, match="num_samples=1 is fewer than the ensemble's 2 networks"):
        DeepAREnsemble(_networks()).forecast(_windows().last_windows(with_future_target=False), num_samples=1)
