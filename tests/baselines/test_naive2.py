import numpy as np
import pytest

from kerasts.baselines import Naive2, is_seasonal, naive2_forecast, seasonal_indices
from kerasts.data import align_target


def _seasonal_series(periods=6, season=(0.8, 1.0, 1.2, 1.0), level=100.0, trend=0.0):
    steps = np.arange(periods * len(season))
    return (level + trend * steps) * np.tile(season, periods)


def test_a_clearly_seasonal_series_is_adjusted_and_reseasonalised():
    history = _seasonal_series()
    assert is_seasonal(history, 4)
    np.testing.assert_allclose(seasonal_indices(history, 4), [0.8, 1.0, 1.2, 1.0])
    # The adjusted history is flat at 100; the forecast continues the season from the next position.
    np.testing.assert_allclose(naive2_forecast(history, 6, 4), [80.0, 100.0, 120.0, 100.0, 80.0, 100.0])


def test_odd_season_uses_a_plain_centred_moving_average():
    history = _seasonal_series(periods=5, season=(0.5, 1.0, 1.5))
    np.testing.assert_allclose(seasonal_indices(history, 3), [0.5, 1.0, 1.5])


def test_no_seasonality_means_the_last_value():
    rng = np.random.default_rng(0)
    noise = 50 + rng.normal(size=48)
    assert not is_seasonal(noise, 12)
    np.testing.assert_allclose(naive2_forecast(noise, 3, 12), np.full(3, noise[-1]))
    # Too short for the test (under three seasons), a season of 1, or a constant history: not seasonal.
    assert not is_seasonal(_seasonal_series(periods=2), 4)
    assert not is_seasonal(_seasonal_series(), 1)
    assert not is_seasonal(np.full(24, 3.0), 4)


def test_non_positive_histories_are_not_adjusted_multiplicatively():
    history = _seasonal_series() - 90.0  # seasonal, but crosses zero
    np.testing.assert_allclose(naive2_forecast(history, 2, 4), np.full(2, history[-1]))


def test_ragged_rows_start_at_their_first_observation_and_gaps_carry_forward():
    seasonal = _seasonal_series()
    short = np.concatenate([np.full(4, np.nan), seasonal[4:]])  # starts a season later: positions shift
    gappy = seasonal.copy()
    gappy[-1] = np.nan
    forecasts = naive2_forecast(np.stack([seasonal, short, gappy, np.full(24, np.nan)]), 4, 4)
    np.testing.assert_allclose(forecasts[0], [80.0, 100.0, 120.0, 100.0])
    np.testing.assert_allclose(forecasts[1], forecasts[0])
    assert np.isfinite(forecasts[2]).all()
    assert np.isnan(forecasts[3]).all()


def test_naive2_forecaster_on_a_panel(tmp_path):
    import pandas as pd

    values = _seasonal_series()
    table = pd.DataFrame({"item_id": "a", "timestamp": pd.date_range("2020-01-01", periods=values.size, freq="QS"),
                          "target_value": values})
    panel = align_target(table, "Q")
    forecaster = Naive2(4, prediction_length=4)
    paths = forecaster.predict_paths(panel)
    assert paths.shape == (1, 1, 4)
    np.testing.assert_allclose(paths[0, 0], naive2_forecast(values, 4, 4))
    assert Naive2(**forecaster.get_config()).get_config() == forecaster.get_config()


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="history"):
        naive2_forecast(np.zeros((2, 2, 2)), 3, 4)
    with pytest.raises(ValueError, match="season_length"):
        naive2_forecast(np.ones(8), 3, 0)
