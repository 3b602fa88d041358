import os
import tempfile

import keras
import numpy as np
import pytest
import tensorflow as tf

import kerasts
from kerasts.losses import NegativeLogLikelihood, pack_observed


def _gaussian_parameters(shape, seed=0):
    generator = np.random.default_rng(seed)
    return np.stack([generator.normal(size=shape), generator.uniform(0.5, 2.0, size=shape)], -1).astype("float32")


def _gaussian_nll(y, parameters):
    loc, scale = parameters[..., 0], parameters[..., 1]
    return 0.5 * np.log(2 * np.pi * scale**2) + (y - loc) ** 2 / (2 * scale**2)


def test_unmasked_loss_is_mean_nll():
    parameters = _gaussian_parameters((4, 5))
    target = np.random.default_rng(1).normal(size=(4, 5)).astype("float32")
    loss = NegativeLogLikelihood("gaussian")(target, parameters)
    np.testing.assert_allclose(loss, _gaussian_nll(target, parameters).mean(), rtol=1e-5)


def test_mask_averages_over_observed_points_and_ignores_their_nan():
    parameters = _gaussian_parameters((4, 5))
    target = np.random.default_rng(2).normal(size=(4, 5)).astype("float32")
    observed = np.random.default_rng(3).uniform(size=(4, 5)) > 0.4
    target_with_gaps = np.where(observed, target, np.nan).astype("float32")
    loss = NegativeLogLikelihood("gaussian")(pack_observed(target_with_gaps, observed), parameters)
    np.testing.assert_allclose(loss, _gaussian_nll(target, parameters)[observed].mean(), rtol=1e-5)


def test_sample_weights_combine_with_the_mask():
    parameters = _gaussian_parameters((4, 5))
    target = np.random.default_rng(4).normal(size=(4, 5)).astype("float32")
    observed = np.ones((4, 5), bool)
    observed[0, :3] = False
    weights = np.array([1.0, 2.0, 0.0, 0.5], "float32")
    loss = NegativeLogLikelihood("gaussian")(pack_observed(target, observed), parameters, sample_weight=weights)
    weighted = _gaussian_nll(target, parameters) * weights[:, None] * observed
    np.testing.assert_allclose(loss, weighted.sum() / observed.sum(), rtol=1e-5)


def test_gradient_is_finite_with_nan_at_unobserved_points():
    parameters = tf.Variable(_gaussian_parameters((3, 4)))
    target = np.full((3, 4), np.nan, "float32")
    target[:, 0] = 1.0
    observed = ~np.isnan(target)
    with tf.GradientTape() as tape:
        loss = NegativeLogLikelihood("gaussian")(pack_observed(target, observed), parameters)
    gradient = tape.gradient(loss, parameters)
    assert np.all(np.isfinite(gradient))
    assert np.all(np.asarray(gradient)[:, 1:] == 0)


@pytest.mark.parametrize(
    "likelihood, target, message",
    [
        ("gaussian", [0.0, np.nan], "NaN or inf at points marked observed"),
        ("negative_binomial", [1.0, -2.0], "non-negative targets"),
        ("poisson", [1.0, 2.5], "integer counts"),
        ("beta", [0.5, 1.0], "strictly between 0 and 1"),
    ],
)
def test_bad_targets_get_clear_errors(likelihood, target, message):
    num_parameters = kerasts.likelihoods.get(likelihood).num_parameters
    parameters = np.ones((2, num_parameters), "float32")
    with pytest.raises(ValueError, match=message):
        NegativeLogLikelihood(likelihood)(np.array(target, "float32"), parameters)


def test_bad_targets_inside_fit_fail_with_the_same_message():
    features = keras.Input((3,))
    model = keras.Model(features, kerasts.layers.DistributionOutput("poisson")(features))
    model.compile("adam", loss=NegativeLogLikelihood("poisson"))
    with pytest.raises(tf.errors.InvalidArgumentError, match="non-negative targets"):
        model.fit(np.ones((4, 3), "float32"), np.array([1.0, -1.0, 2.0, 0.0], "float32"), verbose=0)


def test_mismatched_target_shape_is_named():
    with pytest.raises(ValueError, match=r"`y_true` has shape \(4, 6\), expected \(4, 5\)"):
        NegativeLogLikelihood("gaussian")(np.zeros((4, 6), "float32"), _gaussian_parameters((4, 5)))


def test_pack_observed_needs_matching_shapes():
    with pytest.raises(ValueError, match="must have the same shape"):
        pack_observed(np.zeros((2, 3)), np.ones((2, 4)))


def test_loss_compiles_trains_and_survives_keras_save():
    hidden = keras.Input((6, 3))
    model = keras.Model(hidden, kerasts.layers.DistributionOutput("negative_binomial")(hidden))
    model.compile("adam", loss=NegativeLogLikelihood("negative_binomial", validate_targets=False))
    features = np.random.default_rng(5).normal(size=(8, 6, 3)).astype("float32")
    counts = np.random.default_rng(6).poisson(3.0, size=(8, 6)).astype("float32")
    y_true = pack_observed(counts, np.ones_like(counts))
    model.fit(features, y_true, epochs=1, verbose=0)
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "model.keras")
        model.save(path)
        reloaded = keras.saving.load_model(path)
    assert isinstance(reloaded.loss, NegativeLogLikelihood)
    assert reloaded.loss.likelihood.name == "negative_binomial"
    assert reloaded.loss.validate_targets is False
    np.testing.assert_allclose(
        reloaded.evaluate(features, y_true, verbose=0), model.evaluate(features, y_true, verbose=0), rtol=1e-6
    )
