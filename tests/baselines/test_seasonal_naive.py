import warnings

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


def test_history_shorter_than_a_season_repeats_its_last_step():
    np.testing.assert_array_equal(seasonal_naive_forecast(np.array([1.0, 2.0, 3.0]), 3, 7), [3.0, 3.0, 3.0])
    # A series' own history starts at its first value: a new item beside a long series is naive too.
    history = np.array([np.arange(10.0), [np.nan] * 7 + [1.0, 2.0, 3.0], [np.nan] * 10])
    np.testing.assert_array_equal(seasonal_naive_forecast(history, 3, 4), [[6, 7, 8], [3, 3, 3], [np.nan] * 3])


@pytest.mark.parametrize(
    "history, season, message",
    [(np.ones(0), 4, "no steps"), (np.ones((2, 2, 2)), 1, "1-D or 2-D"), (np.ones(4), 0, "positive integer")],
)
def test_bad_input(history, season, message):
    with pytest.raises(ValueError, match=message):
        seasonal_naive_forecast(history, 2, season)


@pytest.mark.parametrize("method", ["ets", "arima", "theta"])
def test_statistical_forecasters_follow_a_seasonal_series(method):
    import pandas as pd

    import kerasts

    days = pd.date_range("2024-01-01", periods=140, freq="D")
    rng = np.random.default_rng(1)
    level = np.array([[50.0], [200.0], [800.0]])
    values = level * (1 + 0.2 * np.sin(2 * np.pi * np.arange(140) / 7)) + rng.normal(0, 2, (3, 140))
    table = pd.DataFrame({"item_id": np.repeat(["a", "b", "c"], 140), "timestamp": np.tile(days, 3),
                          "target_value": values.reshape(-1)})
    panel = kerasts.data.align_target(table, "D")
    forecaster = kerasts.baselines.StatisticalForecaster(method, 7, prediction_length=14)
    paths = forecaster.fit(panel, end=126).predict_paths(panel, 126, num_samples=50, seed=0)
    assert paths.shape == (3, 50, 14) and np.isfinite(paths).all()
    actual = panel.target[:, 126:]
    error = np.abs(np.median(paths, axis=1) - actual).mean()
    assert error < 0.1 * np.abs(actual - actual.mean(axis=1, keepdims=True)).mean()  # the weekly cycle followed
    np.testing.assert_array_equal(paths, forecaster.predict_paths(panel, 126, num_samples=50, seed=0))
    # One process gives the very paths the default (a process per CPU: two or more on CI) gave.
    serial = kerasts.baselines.StatisticalForecaster(method, 7, prediction_length=14, n_jobs=1)
    assert serial.get_config()["n_jobs"] == 1 and forecaster.get_config()["n_jobs"] is None
    np.testing.assert_array_equal(paths, serial.predict_paths(panel, 126, num_samples=50, seed=0))
    with pytest.raises(ValueError, match="`method` must be one of"):
        kerasts.baselines.StatisticalForecaster("prophet", 7, prediction_length=14)
    with pytest.raises(ValueError, match="n_jobs"):
        kerasts.baselines.StatisticalForecaster(method, 7, prediction_length=14, n_jobs=0)


@pytest.mark.parametrize("method", ["ets", "arima", "theta"])
def test_statistical_forecaster_forecasts_a_series_with_one_value(method):
    import pandas as pd

    import kerasts

    # Item b launched one day before the origin (a backtest window's start can fall there): its one value is all
    # there is, so the forecast repeats it (statsforecast's naive fallback), not NaN, which the scoring refuses.
    days = pd.date_range("2024-01-01", periods=42, freq="D")
    table = pd.DataFrame({"item_id": ["a"] * 42 + ["b"] * 8, "timestamp": list(days) + list(days[-8:]),
                          "target_value": np.r_[np.random.default_rng(0).poisson(20, 42), 7.0, np.ones(7)]})
    panel = kerasts.data.align_target(table, "D")
    paths = kerasts.baselines.StatisticalForecaster(method, 7, prediction_length=7).predict_paths(panel, 35, 20)
    assert np.isfinite(paths).all()
    np.testing.assert_array_equal(paths[1], 7.0)


def test_statistical_forecaster_bounds_the_spread_of_a_volatile_short_series():
    import pandas as pd

    import kerasts

    # As M3's N2752: a short series falling a hundredfold, then doubling monthly. ETS fits multiplicative errors
    # of about 100% a step, and its interval, hence the paths, widens geometrically far past the series' scale.
    volatile = np.r_[24228, 15000, 9000, 5000, 2600, 1400, 700, 380, 200, 147, 290, 600, 1150, 2400, 4700, 9100, 7498.0]
    months = pd.date_range("2020-01-01", periods=17, freq="MS")
    table = pd.DataFrame({"item_id": ["volatile"] * 17 + ["steady"] * 17, "timestamp": list(months) * 2,
                          "target_value": np.r_[volatile, 1000 + 30 * np.sin(np.arange(17))]})
    panel = kerasts.data.align_target(table, "MS")
    free, bounded = (kerasts.baselines.StatisticalForecaster("ets", 12, prediction_length=18, spread_limit=limit)
                     .predict_paths(panel, 17, 400, 0) for limit in (None, 1))
    steady, volatile_row = (list(panel.keys["item_id"]).index(name) for name in ("steady", "volatile"))
    assert free[volatile_row, :, -1].std() > 10 * 24228
    assert bounded[volatile_row].std(axis=0).max() < 1.2 * 24228  # at most once its largest value, give or take
    np.testing.assert_array_equal(bounded[steady], free[steady])  # a sane interval is left as the method gave it
    default = kerasts.baselines.StatisticalForecaster("ets", 12, prediction_length=18)
    np.testing.assert_array_equal(default.predict_paths(panel, 17, 400, 0), bounded)  # bounded by default
    assert default.get_config()["spread_limit"] == 1
    # ARIMA on M3's N 886 three quarters before a backtest window: as many parameters as values, and an infinite
    # interval (statsforecast divides by zero degrees of freedom), which no score can take.
    quarters = pd.date_range("2020-01-01", periods=12, freq="QS")
    short = pd.DataFrame({"item_id": ["short"] * 3 + ["long"] * 12, "timestamp": list(quarters[-3:]) + list(quarters),
                          "target_value": np.r_[6480, 6720, 6336, 100 + np.arange(12.0)]})
    short_panel = kerasts.data.align_target(short, "QS")
    row = list(short_panel.keys["item_id"]).index("short")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # statsforecast's division by zero, numpy's overflow
        arima_free, arima_default = (kerasts.baselines.StatisticalForecaster(
            "arima", 4, prediction_length=8, **settings).predict_paths(short_panel, 12, 400, 0)
            for settings in ({"spread_limit": None}, {}))
    assert np.isinf(arima_free[row]).any()
    assert np.isfinite(arima_default).all() and arima_default[row].std(axis=0).max() < 1.2 * 6720
    for limit in (0, -1, "3", True):
        with pytest.raises(ValueError, match="`spread_limit` must be"):
            kerasts.baselines.StatisticalForecaster("ets", 12, prediction_length=18, spread_limit=limit)


def test_statistical_options_reach_the_model_and_bad_ones_are_named():
    import pandas as pd

    import kerasts

    days = pd.date_range("2024-01-01", periods=84, freq="D")
    values = 100 * (1 + 0.3 * np.sin(2 * np.pi * np.arange(84) / 7))
    panel = kerasts.data.align_target(pd.DataFrame({"item_id": "a", "timestamp": days, "target_value": values}), "D")
    seasonal = kerasts.baselines.StatisticalForecaster("ets", 7, prediction_length=7)
    level_only = kerasts.baselines.StatisticalForecaster("ets", 7, prediction_length=7, options={"model": "ANN"})
    assert level_only.get_config()["options"] == {"model": "ANN"}
    # The medians of many paths: the weekly cycle (a range of about 60), then a flat line (sampling noise only).
    assert np.ptp(np.median(seasonal.predict_paths(panel, 77, 4000), axis=1)) > 40
    assert np.ptp(np.median(level_only.predict_paths(panel, 77, 4000), axis=1)) < 3  # simple exponential smoothing
    with pytest.raises(ValueError, match="'aproximation'"):
        kerasts.baselines.StatisticalForecaster("arima", 7, prediction_length=7, options={"aproximation": True})
    with pytest.raises(TypeError, match="`options` must be a dict"):
        kerasts.baselines.StatisticalForecaster("arima", 7, prediction_length=7, options="approximation")
    with pytest.raises(ValueError, match="`season_length`, not inside `options`"):
        kerasts.baselines.StatisticalForecaster("arima", 7, prediction_length=7, options={"season_length": 12})


def test_statistical_forecaster_shows_progress_only_when_verbose(capsys):
    import pandas as pd

    import kerasts

    days = pd.date_range("2024-01-01", periods=42, freq="D")
    table = pd.DataFrame({"item_id": np.repeat(["a", "b"], 42), "timestamp": np.tile(days, 2),
                          "target_value": np.random.default_rng(0).poisson(20, 84).astype(float)})
    panel = kerasts.data.align_target(table, "D")
    for verbose in (0, 1):
        kerasts.baselines.StatisticalForecaster("theta", 7, prediction_length=7, verbose=verbose).predict_paths(panel)
        assert ("Forecast" in capsys.readouterr().err) == bool(verbose)  # statsforecast's progress bar
