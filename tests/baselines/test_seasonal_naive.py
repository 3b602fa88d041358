import numpy as np
import pytest

from kerasts.baselines import seasonal_naive_forecast


def test_repeats_the_last_season():
    history = np.arange(10.0)  # last season of 4: 6, 7, 8, 9
    np.testing.assert_array_equal(seasonal_naive_forecast(history, 6, 4), [6, 7, 8, 9, 6, 7])


def test_missing_value_falls_back_one_more_season_and_keeps_series_apart():
    history = np.array([[1.0, 2.0, 3.0, np.nan], [5.0, 6.0, 7.0, 8.0]])
    np.testing.assert_array_equal(seasonal_naive_forecast(history, 2, 2), [[3.0, 2.0], [7.0, 8.0]])


def test_never_observed_step_stays_nan():
    forecast = seasonal_naive_forecast(np.array([np.nan, 1.0, np.nan, 2.0]), 2, 2)
    assert np.isnan(forecast[0]) and forecast[1] == 2.0


@pytest.mark.parametrize(
    "history, season, message",
    [(np.ones(3), 4, "fewer than one season"), (np.ones((2, 2, 2)), 1, "1-D or 2-D"), (np.ones(4), 0, "positive integer")],
)
def test_bad_input(history, season, message):
    with pytest.raises(ValueError, match=message):
        seasonal_naive_forecast(history, 2, season)
