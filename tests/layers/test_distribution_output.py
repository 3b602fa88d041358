import numpy as np
import pytest

import kerasts
from kerasts.testing import TestCase


def _count_targets(shape, seed=0):
    return np.random.default_rng(seed).poisson(5.0, size=shape).astype("float32")


class DistributionOutputTest(TestCase):
    @pytest.mark.slow
    def test_harness_for_every_likelihood(self):
        hidden = np.random.default_rng(1).normal(size=(8, 6, 4)).astype("float32")
        targets = {
            "gaussian": np.random.default_rng(2).normal(size=(8, 6)).astype("float32"),
            "student_t": np.random.default_rng(3).standard_t(4, size=(8, 6)).astype("float32"),
            "negative_binomial": _count_targets((8, 6)),
            "poisson": _count_targets((8, 6)),
            "zero_inflated_negative_binomial": _count_targets((8, 6)) * (np.arange(6) % 2),
            "beta": np.random.default_rng(4).beta(2, 5, size=(8, 6)).astype("float32"),
        }
        for name, target in targets.items():
            with self.subTest(likelihood=name):
                num_parameters = kerasts.likelihoods.get(name).num_parameters
                self.run_layer_test(
                    kerasts.layers.DistributionOutput,
                    {"likelihood": name},
                    hidden,
                    expected_output_shape=(8, 6, num_parameters),
                    target=target,
                    loss=kerasts.losses.NegativeLogLikelihood(name),
                    # One MirroredStrategy fit covers the layer; it is the slow check.
                    run_distribution_check=name == "negative_binomial",
                )

    def test_harness_with_target_scale_input(self):
        hidden = np.random.default_rng(5).normal(size=(8, 6, 4)).astype("float32")
        scale = np.full((8, 1), 20.0, dtype="float32")
        self.run_layer_test(
            kerasts.layers.DistributionOutput,
            {"likelihood": "negative_binomial"},
            hidden,
            call_kwargs={"target_scale": scale},
            expected_output_shape=(8, 6, 2),
            target=_count_targets((8, 6)) * 20,
            loss=kerasts.losses.NegativeLogLikelihood("negative_binomial"),
            run_distribution_check=False,
        )


def test_parameters_are_on_their_domain():
    hidden = np.random.default_rng(6).normal(scale=10.0, size=(64, 3)).astype("float32")
    for name in kerasts.likelihoods.names():
        likelihood = kerasts.likelihoods.get(name)
        parameters = likelihood.unstack(kerasts.layers.DistributionOutput(name)(hidden))
        for parameter, values in parameters.items():
            values = np.asarray(values)
            if parameter == "loc":
                continue
            if parameter == "zero_inflation":
                assert np.all((values > 0) & (values < 1)), (name, parameter)
            elif parameter == "df":
                assert np.all(values > 2), name
            else:
                assert np.all(values > 0), (name, parameter)


def test_target_scale_maps_negative_binomial_as_deepar():
    layer = kerasts.layers.DistributionOutput("negative_binomial")
    hidden = np.random.default_rng(7).normal(size=(4, 3)).astype("float32")
    unscaled = np.asarray(layer(hidden))
    scale = np.array([1.0, 4.0, 9.0, 100.0], dtype="float32")
    scaled = np.asarray(layer(hidden, target_scale=scale))
    np.testing.assert_allclose(scaled[:, 0], unscaled[:, 0] * scale, rtol=1e-6)
    np.testing.assert_allclose(scaled[:, 1], unscaled[:, 1] / np.sqrt(scale), rtol=1e-6)


def test_target_scale_that_would_enlarge_the_output_is_refused():
    layer = kerasts.layers.DistributionOutput("gaussian")
    with pytest.raises(ValueError, match=r"`target_scale` of shape \(4, 1\) does not broadcast"):
        layer(np.ones((4, 3), "float32"), target_scale=np.ones((4, 1), "float32"))


def test_beta_refuses_target_scale():
    layer = kerasts.layers.DistributionOutput("beta")
    with pytest.raises(ValueError, match="beta likelihood .* cannot be rescaled"):
        layer(np.ones((2, 3), "float32"), target_scale=np.ones((2,), "float32"))


def test_unknown_likelihood_name_lists_the_choices():
    with pytest.raises(ValueError, match="Unknown likelihood 'gamma'.*negative_binomial"):
        kerasts.layers.DistributionOutput("gamma")
