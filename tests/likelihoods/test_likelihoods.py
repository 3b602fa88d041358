import math

import keras
import numpy as np
import pytest
import tensorflow as tf

import kerasts
from kerasts import likelihoods

lgamma = np.vectorize(math.lgamma)


def _negative_binomial_log_pmf(y, mean, dispersion):
    r = 1.0 / dispersion
    return (lgamma(y + r) - lgamma(r) - lgamma(y + 1) + r * np.log(r / (r + mean)) + y * np.log(mean / (r + mean)))


CLOSED_FORM_LOG_PROB = {
    "gaussian": lambda y, loc, scale: -0.5 * np.log(2 * np.pi * scale**2) - (y - loc) ** 2 / (2 * scale**2),
    "student_t": lambda y, loc, scale, df: (
        lgamma((df + 1) / 2) - lgamma(df / 2) - 0.5 * np.log(df * np.pi) - np.log(scale)
        - (df + 1) / 2 * np.log1p(((y - loc) / scale) ** 2 / df)
    ),
    "negative_binomial": _negative_binomial_log_pmf,
    "poisson": lambda y, rate: y * np.log(rate) - rate - lgamma(y + 1),
    "zero_inflated_negative_binomial": lambda y, zero_inflation, mean, dispersion: np.where(
        y == 0,
        np.log(zero_inflation + (1 - zero_inflation) * np.exp(_negative_binomial_log_pmf(0.0, mean, dispersion))),
        np.log1p(-zero_inflation) + _negative_binomial_log_pmf(y, mean, dispersion),
    ),
    "beta": lambda y, concentration1, concentration0: (
        lgamma(concentration1 + concentration0) - lgamma(concentration1) - lgamma(concentration0)
        + (concentration1 - 1) * np.log(y) + (concentration0 - 1) * np.log1p(-y)
    ),
}

CLOSED_FORM_MOMENTS = {  # (mean, variance)
    "gaussian": lambda loc, scale: (loc, scale**2),
    "student_t": lambda loc, scale, df: (loc, scale**2 * df / (df - 2)),
    "negative_binomial": lambda mean, dispersion: (mean, mean + dispersion * mean**2),
    "poisson": lambda rate: (rate, rate),
    "zero_inflated_negative_binomial": lambda zero_inflation, mean, dispersion: (
        (1 - zero_inflation) * mean,
        (1 - zero_inflation) * (mean + dispersion * mean**2) + zero_inflation * (1 - zero_inflation) * mean**2,
    ),
    "beta": lambda concentration1, concentration0: (
        concentration1 / (concentration1 + concentration0),
        concentration1 * concentration0
        / ((concentration1 + concentration0) ** 2 * (concentration1 + concentration0 + 1)),
    ),
}

PARAMETERS = {
    "gaussian": {"loc": [0.5, -2.0, 10.0], "scale": [1.0, 0.3, 4.0]},
    "student_t": {"loc": [0.5, -2.0, 10.0], "scale": [1.0, 0.3, 4.0], "df": [3.0, 5.5, 30.0]},
    "negative_binomial": {"mean": [0.7, 5.0, 40.0], "dispersion": [0.1, 0.5, 2.0]},
    "poisson": {"rate": [0.7, 5.0, 40.0]},
    "zero_inflated_negative_binomial": {
        "zero_inflation": [0.1, 0.5, 0.8], "mean": [0.7, 5.0, 40.0], "dispersion": [0.1, 0.5, 2.0],
    },
    "beta": {"concentration1": [0.8, 2.0, 5.0], "concentration0": [1.5, 5.0, 0.9]},
}

TARGETS = {
    "gaussian": [0.0, -1.5, 13.0],
    "student_t": [0.0, -1.5, 13.0],
    "negative_binomial": [0.0, 3.0, 61.0],
    "poisson": [0.0, 3.0, 61.0],
    "zero_inflated_negative_binomial": [0.0, 3.0, 61.0],
    "beta": [0.1, 0.35, 0.97],
}


def _stacked(name):
    likelihood = likelihoods.get(name)
    return likelihood, np.stack([np.array(PARAMETERS[name][p], "float32") for p in likelihood.parameter_names], -1)


@pytest.mark.parametrize("name", likelihoods.names())
def test_log_prob_matches_closed_form(name):
    likelihood, parameters = _stacked(name)
    target = np.array(TARGETS[name], "float32")
    expected = CLOSED_FORM_LOG_PROB[name](target.astype("float64"), **{k: np.array(v) for k, v in PARAMETERS[name].items()})
    np.testing.assert_allclose(likelihood.log_prob(parameters, target), expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name", likelihoods.names())
def test_mean_and_sample_moments_match_closed_form(name):
    likelihood, parameters = _stacked(name)
    mean, variance = CLOSED_FORM_MOMENTS[name](**{k: np.array(v) for k, v in PARAMETERS[name].items()})
    np.testing.assert_allclose(likelihood.mean(parameters), mean, rtol=1e-5)
    samples = np.asarray(likelihood.sample(parameters, 40_000, seed=3), dtype="float64")
    assert samples.shape == (40_000, 3)
    standard_error = np.sqrt(variance / samples.shape[0])
    assert np.all(np.abs(samples.mean(0) - mean) < 5 * standard_error + 1e-6)
    if name != "student_t":  # Student-t sample variances converge too slowly at df=3.
        np.testing.assert_allclose(samples.var(0), variance, rtol=0.1)


@pytest.mark.parametrize("name", likelihoods.names())
def test_sampling_is_reproducible_by_seed(name):
    likelihood, parameters = _stacked(name)
    first = likelihood.sample(parameters, 5, seed=11)
    np.testing.assert_array_equal(first, likelihood.sample(parameters, 5, seed=11))
    assert not np.array_equal(first, likelihood.sample(parameters, 5, seed=12))
    in_graph = tf.function(lambda p: likelihood.sample(p, 5, seed=tf.constant([11, 0])))
    np.testing.assert_array_equal(first, in_graph(parameters))


@pytest.mark.parametrize("name", ["gaussian", "student_t", "beta"])
def test_continuous_quantiles_invert_the_cdf(name):
    likelihood, parameters = _stacked(name)
    for level in (0.1, 0.5, 0.9):
        quantile = likelihood.quantile(parameters, level)
        np.testing.assert_allclose(likelihood.distribution(parameters).cdf(quantile), level, atol=1e-4)


@pytest.mark.parametrize("name", ["gaussian", "student_t", "beta"])
def test_continuous_samples_follow_the_distribution(name):
    likelihood, parameters = _stacked(name)
    samples = np.asarray(likelihood.sample(parameters, 40_000, seed=4))
    for level in (0.01, 0.1, 0.5, 0.9, 0.99):
        below = (samples <= np.asarray(likelihood.quantile(parameters, level))).mean(axis=0)
        # Five binomial standard errors around the level.
        assert np.all(np.abs(below - level) < 5 * np.sqrt(level * (1 - level) / samples.shape[0])), (level, below)


@pytest.mark.parametrize("name", ["gaussian", "student_t"])
def test_mirrored_draws_reflect_the_same_draws_and_follow_the_distribution(name):
    likelihood, parameters = _stacked(name)
    assert likelihood.symmetric
    draws = np.asarray(likelihood.sample(parameters, 40_000, seed=4))
    mirrored = np.asarray(likelihood.sample(parameters, 40_000, seed=4, mirrored=True))
    np.testing.assert_allclose((draws + mirrored) / 2, np.broadcast_to(PARAMETERS[name]["loc"], draws.shape),
                               rtol=1e-5, atol=1e-4)
    for level in (0.01, 0.1, 0.5, 0.9, 0.99):
        below = (mirrored <= np.asarray(likelihood.quantile(parameters, level))).mean(axis=0)
        assert np.all(np.abs(below - level) < 5 * np.sqrt(level * (1 - level) / mirrored.shape[0])), (level, below)


@pytest.mark.parametrize("name", likelihoods.names())
def test_draw_paths_pairs_the_paths_of_symmetric_families_and_draws_the_others_independently(name):
    likelihood, parameters = _stacked(name)
    by_path = np.broadcast_to(parameters[:, None], (3, 5, likelihood.num_parameters))  # two pairs and an odd path
    draws = np.asarray(likelihood.draw_paths(by_path, seed=2))
    assert draws.shape == (3, 5)
    if likelihood.symmetric:
        loc = np.array(PARAMETERS[name]["loc"])[:, None]
        np.testing.assert_allclose((draws[:, :2] + draws[:, 2:4]) / 2, np.broadcast_to(loc, (3, 2)), rtol=1e-5,
                                   atol=1e-4)
        assert not np.allclose(draws[:, :2], draws[:, 2:4])
        assert not np.allclose((draws[:, 0] + draws[:, 4]) / 2, loc[:, 0])
    else:
        np.testing.assert_array_equal(draws, likelihood.sample(by_path, 1, seed=2)[0])


@pytest.mark.parametrize("name", ["negative_binomial", "poisson", "zero_inflated_negative_binomial", "beta"])
def test_asymmetric_families_refuse_mirrored_draws(name):
    likelihood, parameters = _stacked(name)
    assert not likelihood.symmetric
    with pytest.raises(ValueError, match=f"{name} likelihood is not symmetric"):
        likelihood.sample(parameters, 2, seed=0, mirrored=True)


@pytest.mark.parametrize("name", ["negative_binomial", "poisson", "zero_inflated_negative_binomial"])
def test_count_quantile_is_smallest_count_reaching_the_level(name):
    likelihood, parameters = _stacked(name)
    counts = np.arange(0, 2000, dtype="float64")[:, None]
    log_pmf = CLOSED_FORM_LOG_PROB[name](counts, **{k: np.array(v)[None] for k, v in PARAMETERS[name].items()})
    cdf = np.cumsum(np.exp(log_pmf), axis=0)
    for level in (0.05, 0.5, 0.9, 0.99):
        expected = np.argmax(cdf >= level - 1e-6, axis=0)
        np.testing.assert_array_equal(likelihood.quantile(parameters, level), expected)


def test_quantile_level_outside_unit_interval_is_refused():
    likelihood, parameters = _stacked("poisson")
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        likelihood.quantile(parameters, 1.5)


RECOVERY_TRUTH = {
    "gaussian": {"loc": 3.0, "scale": 2.0},
    "student_t": {"loc": 1.0, "scale": 2.0, "df": 4.0},
    "negative_binomial": {"mean": 12.0, "dispersion": 0.4},
    "poisson": {"rate": 4.0},
    "zero_inflated_negative_binomial": {"zero_inflation": 0.3, "mean": 6.0, "dispersion": 0.3},
    "beta": {"concentration1": 2.0, "concentration0": 5.0},
}


@pytest.mark.parametrize("name", likelihoods.names())
def test_fitting_the_head_recovers_known_parameters(name):
    likelihood = likelihoods.get(name)
    truth = np.array([RECOVERY_TRUTH[name][p] for p in likelihood.parameter_names], "float32")
    target = np.asarray(likelihood.sample(truth[None], 20_000, seed=5))[:, 0]
    keras.utils.set_random_seed(0)
    features = keras.Input((1,))
    head = kerasts.layers.DistributionOutput(name)
    if name == "beta":  # Targets in (0, 1) need no scaling.
        inputs, parameters = features, head(features)
        data = np.ones((len(target), 1), "float32")
    else:
        # As DeepAR does: the head works in units of the mean absolute target.
        target_scale = keras.Input(())
        inputs, parameters = [features, target_scale], head(features, target_scale=target_scale)
        data = [np.ones((len(target), 1), "float32"), np.full(len(target), np.abs(target).mean(), "float32")]
    model = keras.Model(inputs, parameters)
    model.compile(kerasts.optimizers.Adam(0.05), loss=kerasts.losses.NegativeLogLikelihood(name))
    batches = tf.data.Dataset.from_tensors((tuple(data) if isinstance(data, list) else data, target)).repeat()
    model.fit(batches, steps_per_epoch=300, epochs=1, verbose=0, shuffle=False)
    fitted = np.asarray(model(data))[0]
    tolerance = 0.25 if name == "student_t" else 0.08  # df is weakly identified from 20k draws.
    np.testing.assert_allclose(fitted, truth, rtol=tolerance, atol=0.02)


@pytest.mark.parametrize("targets, picked", [
    ([0.2, 0.5, np.nan, 0.99], "student_t"),  # rates inside (0, 1): beta lost to the Student-t on traffic
    ([0, 0, 0, 1, 3, np.nan], "negative_binomial"),  # whole numbers, half or more zero
    ([0, 2, 5, 7, 0, 12], "student_t"),  # counts of a higher level
    ([0.0, 0.0, 0.0, 1.5], "student_t"),  # mostly zero, not whole numbers
    ([-1, 0, 0, 0], "student_t"),
])
def test_auto_picks_a_family_by_the_targets_support(targets, picked):
    assert likelihoods.by_support(np.array(targets, dtype=float)) == picked


def test_auto_needs_an_observed_target():
    with pytest.raises(ValueError, match="observed targets, and there are none"):
        likelihoods.by_support(np.full((2, 3), np.nan))
