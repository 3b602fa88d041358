import numpy as np
import pytest

from kerasts.baselines import NPTS


def test_seasonal_npts_copies_values_from_the_same_phase():
    history = np.tile(np.arange(24.0), 10)[None]  # value = hour of day
    paths = NPTS(season_length=24, prediction_length=1).sample(history, horizon=30, num_samples=50, seed=0)
    assert paths.shape == (1, 50, 30)
    np.testing.assert_array_equal(paths[0], np.tile(np.arange(30.0) % 24, (50, 1)))


def test_recent_seasons_are_drawn_more_often():
    history = np.concatenate([np.zeros(24 * 9), np.ones(24)])[None]  # only the last day is 1
    sampler = NPTS(season_length=24, kernel_scale=1.0, prediction_length=24)
    paths = sampler.sample(history, horizon=24, num_samples=4000, seed=1)
    share_of_last_day = paths[0, :, 0].mean()
    weights = np.exp(-np.arange(10.0))
    assert share_of_last_day == pytest.approx(weights[0] / weights.sum(), abs=0.03)


def test_paths_are_joint_and_reproducible():
    history = np.random.default_rng(0).normal(size=(3, 50))
    sampler = NPTS(season_length=1, kernel_scale=0.1, prediction_length=1)
    first = sampler.sample(history, 10, 20, seed=5)
    np.testing.assert_array_equal(first, sampler.sample(history, 10, 20, seed=5))
    # Every value of a path comes from its own series' history or its earlier steps.
    for series in range(3):
        assert np.isin(first[series], history[series]).all()


def test_unobserved_values_are_never_drawn_and_empty_phases_give_nan():
    history = np.array([[1.0, np.nan, 3.0, np.nan], [np.nan] * 4])
    paths = NPTS(season_length=2, prediction_length=1).sample(history, 4, 30, seed=2)
    assert np.isin(paths[0][:, [0, 2]], [1.0, 3.0]).all()
    assert np.isnan(paths[0][:, [1, 3]]).all() and np.isnan(paths[1]).all()  # no observed value in that phase


def test_a_series_shorter_than_a_season_draws_from_its_recent_steps():
    history = np.array([np.tile(np.arange(4.0), 6), [np.nan] * 21 + [7.0, 8.0, 9.0]])
    paths = NPTS(season_length=4, prediction_length=6).sample(history, 6, 50, seed=3)
    np.testing.assert_array_equal(paths[0], np.tile([0.0, 1, 2, 3, 0, 1], (50, 1)))  # the long one, by phase
    assert np.isin(paths[1], [7.0, 8.0, 9.0]).all()  # the new one: from its own few values, never NaN


def test_bad_arguments():
    with pytest.raises(ValueError, match="`season_length` must be a positive integer"):
        NPTS(season_length=0, prediction_length=1)
    with pytest.raises(TypeError, match="prediction_length"):
        NPTS(24)  # the horizon is a forecaster's setting, never taken for the season
