import numpy as np
import pandas as pd
import pytest

import kerasts
from kerasts.data import ForecastWindows, align_target, lags_for_frequency


def test_hourly_lags_follow_gluonts_structure():
    lags = lags_for_frequency("H")
    assert lags[:7] == [1, 2, 3, 4, 5, 6, 7]
    assert {23, 24, 25, 167, 168, 169, 671, 672, 673} <= set(lags) and max(lags) == 673
    assert max(lags_for_frequency("H", max_lag=100)) == 97
    assert lags_for_frequency("M") == [1, 2, 3, 4, 5, 6, 7, 11, 12, 13, 23, 24, 25, 35, 36, 37]
    assert set(lags_for_frequency("2H")) >= {11, 12, 13}
    # Lags the training history barely covers are dropped: at most half of it.
    assert max(lags_for_frequency("H", history_length=672)) == 336
    assert max(lags_for_frequency("H", history_length=10)) == 7


def _panel(length=60, series=3):
    table = kerasts.data.synthetic_forecast_table(series, length, seed=0)
    return align_target(table, "H")


def test_window_contents_line_up_with_the_panel():
    panel = _panel()
    windows = ForecastWindows(panel, context_length=5, prediction_length=3, lags=[1, 4])
    inputs, labels = windows.labelled_windows(np.array([1]), np.array([20]))
    np.testing.assert_array_equal(inputs["target"][0], panel.target[1, 20 - 5 - 4:23])
    assert inputs["observed"].min() == 1
    expected_seconds = panel.timestamps[15:23].astype("int64") // 10**9
    np.testing.assert_array_equal(inputs["timestamps"][0], expected_seconds)
    np.testing.assert_array_equal(labels[0, :, 0], panel.target[1, 15:23])
    np.testing.assert_array_equal(labels[0, :, 1], 1)


def test_each_window_reads_its_own_series_and_steps():
    panel = _panel()
    covariates = np.arange(3 * 63 * 2, dtype="float32").reshape(3, 63, 2)
    categories = np.array([[7], [8], [9]])
    panel = panel.with_related(covariates=covariates, static_categories=categories, cardinalities=[10])
    windows = ForecastWindows(panel, context_length=5, prediction_length=3, lags=[1, 4])
    series, origins = np.array([2, 0, 2, 1]), np.array([20, 12, 30, 57])
    inputs = windows.windows(series, origins)
    for row, (one_series, origin) in enumerate(zip(series, origins)):
        np.testing.assert_array_equal(inputs["target"][row], panel.target[one_series, origin - 9:origin + 3])
        np.testing.assert_array_equal(inputs["covariates"][row], covariates[one_series, origin - 5:origin + 3])
        assert inputs["static_categories"][row, 0] == categories[one_series, 0]


def test_windows_before_the_data_are_padded_unobserved():
    panel = _panel()
    windows = ForecastWindows(panel, context_length=5, prediction_length=3, lags=[1, 10])
    inputs = windows.windows(np.array([0]), np.array([2]))
    assert inputs["observed"][0, :13].sum() == 0 and inputs["observed"][0, 13:].all()
    assert inputs["timestamps"][0, 0] == (panel.timestamps[0] - pd.Timedelta(hours=3)).value // 10**9


def test_last_windows_for_forecasting_have_no_horizon_target():
    windows = ForecastWindows(_panel(), context_length=5, prediction_length=3, lags=[1, 2])
    inputs = windows.last_windows(with_future_target=False)
    assert inputs["target"].shape == (3, 7) and inputs["timestamps"].shape == (3, 8)


def test_scale_weighted_sampling_prefers_large_series():
    target = np.ones((2, 100))
    target[1] *= 99.0
    panel = kerasts.data.TimeSeriesPanel(pd.DataFrame({"item_id": ["small", "large"]}),
                                         pd.date_range("2024-01-01", periods=100, freq="h"), target, "H")
    windows = ForecastWindows(panel, 5, 3, [1])
    batch, _ = next(iter(windows.training_dataset(2000, sampling="scale", seed=1)))
    large_share = float(np.mean(np.asarray(batch["target"])[:, -1] > 50))
    assert 0.97 < large_share < 1.0  # weights 2 : 100
    batch, _ = next(iter(windows.training_dataset(2000, sampling="uniform", seed=1)))
    assert 0.4 < float(np.mean(np.asarray(batch["target"])[:, -1] > 50)) < 0.6


def test_sampling_is_reproducible_by_seed():
    windows = ForecastWindows(_panel(), 5, 3, [1, 2])
    first = next(iter(windows.training_dataset(8, seed=3)))[0]["target"]
    again = next(iter(windows.training_dataset(8, seed=3)))[0]["target"]
    np.testing.assert_array_equal(first, again)


def test_shuffled_passes_give_every_window_with_its_context_on_the_grid_once_a_pass_in_new_orders():
    target = np.arange(2)[:, None] * 1000.0 + np.arange(20)[None]  # a window's first context value names it
    target[1, :6] = np.nan  # series 1 starts at step 6
    panel = kerasts.data.TimeSeriesPanel(pd.DataFrame({"item_id": ["a", "b"]}),
                                         pd.date_range("2024-01-01", periods=20, freq="h"), target, "H")
    windows = ForecastWindows(panel, 4, 3, [1], context_inside_grid=True)
    counts = windows.window_counts(20)
    assert counts.tolist() == [20 - 7 + 1, 20 - 3 - 7 + 1]  # series 0 from origin 4; series 1 from 7 (one step seen)
    batches = windows.training_dataset(5, sampling="shuffled", seed=2)
    passes = [[], []]
    for index, (inputs, labels) in enumerate(batches.take(2 * -(-counts.sum() // 5))):
        first = np.asarray(inputs["target"])[:, 1] + 1000 * (1 - np.asarray(inputs["observed"])[:, 1])
        passes[index // -(-counts.sum() // 5)].extend(first.tolist())
    # series 0's contexts start at steps 0-13; series 1's at 3-13, the first three unobserved (read as 0 + 1000)
    expected = sorted([float(t) for t in range(14)] + [1000.0 + (t if t >= 6 else 0) for t in range(3, 14)])
    assert sorted(passes[0]) == sorted(passes[1]) == expected and passes[0] != passes[1]
    with pytest.raises(ValueError, match="'scale', 'uniform' or 'shuffled'"):
        windows.training_dataset(5, sampling="passes")


def test_too_short_series_are_named():
    panel = _panel(length=10)
    with pytest.raises(ValueError, match="3 of 3 series are too short for prediction_length=10"):
        next(iter(ForecastWindows(panel, 5, 10, [1]).training_dataset(4)))


def test_series_too_short_to_train_on_are_left_out_with_a_warning():
    panel = _panel(length=30)
    panel.target[1, :25] = np.nan  # a new item: 5 observed steps, fewer than a horizon of 6 needs
    panel.target[1, 25:] = 1e6  # to recognise its windows
    windows = ForecastWindows(panel, 5, 6, [1])
    with pytest.warns(UserWarning, match="1 of 3 series are too short.*forecast but not trained on"):
        dataset = windows.training_dataset(500, seed=0)
    batch, _ = next(iter(dataset))
    assert np.nanmax(np.asarray(batch["target"])) < 1e6


def test_count_likelihood_rejects_negative_targets_naming_the_series():
    table = kerasts.data.synthetic_forecast_table(2, 30, likelihood="poisson", seed=0)
    table.loc[35, "target_value"] = -3.0
    with pytest.raises(ValueError, match="Series 'item_1': The negative_binomial likelihood needs non-negative"):
        ForecastWindows(align_target(table, "H"), 5, 3, [1], likelihood="negative_binomial")


def test_nan_targets_are_fine_for_count_likelihoods():
    table = kerasts.data.synthetic_forecast_table(2, 30, seed=0)
    table.loc[3, "target_value"] = np.nan
    ForecastWindows(align_target(table, "H"), 5, 3, [1], likelihood="poisson")


def test_related_data_is_checked_where_it_joins_the_panel_and_must_reach_the_horizon():
    with pytest.raises(ValueError, match=r"`covariates` must have shape \(3, 60 \+ future steps, K\)"):
        _panel().with_related(covariates=np.zeros((2, 60, 1)))
    with pytest.raises(ValueError, match="`covariate_names` has 2 names for 1 columns"):
        _panel().with_related(covariates=np.zeros((3, 62, 1)), covariate_names=["a", "b"])
    with pytest.raises(ValueError, match="`cardinalities` must give the number of codes"):
        _panel().with_related(static_categories=np.zeros((3, 1), int))
    with pytest.raises(ValueError, match="codes outside"):
        _panel().with_related(static_categories=np.full((3, 1), 4), cardinalities=[4])
    short = _panel().with_related(covariates=np.zeros((3, 62, 1)))
    assert short.future_steps == 2 and short.covariate_names == ("covariate_0",)
    with pytest.raises(ValueError, match="covariates reach 2 steps beyond the data; forecasting needs them over "
                                         "all prediction_length=3"):
        ForecastWindows(short, 5, 3, [1])
    ForecastWindows(short, 5, 2, [1])
