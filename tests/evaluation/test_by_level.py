import numpy as np
import pandas as pd
import pytest

from kerasts.baselines import SeasonalNaive
from kerasts.data import TimeSeriesPanel
from kerasts.evaluation import backtest, per_series_scores, scores_by_level, series_levels
from kerasts.metrics import mase_per_series, smape_per_series


def _panel(values):
    keys = pd.DataFrame({"item_id": [f"s{index}" for index in range(values.shape[0])]})
    return TimeSeriesPanel(keys, pd.date_range("2024-01-01", periods=values.shape[1], freq="D"), values, "D")


def test_per_series_scores_average_each_series_over_its_windows():
    rng = np.random.default_rng(0)
    values = rng.uniform(1, 10, size=(3, 40)) * np.array([[1.0], [10.0], [100.0]])
    values[2, :12] = np.nan  # a series that starts later
    panel = _panel(values)
    _, paths = backtest({"naive": SeasonalNaive(7, prediction_length=5)}, panel, 2, return_paths=True)
    scores = per_series_scores(panel, paths["naive"])
    assert list(scores.index) == ["s0", "s1", "s2"]
    expected_smape, expected_mase = [], []
    for origin in (30, 35):
        forecast = SeasonalNaive(7, prediction_length=5).predict_paths(panel, origin)[:, 0]
        actual = values[:, origin:origin + 5]
        expected_smape.append(smape_per_series(actual, forecast))
        expected_mase.append(mase_per_series(actual, forecast, values[:, :origin], season_length=7))
    np.testing.assert_allclose(scores["sMAPE"], np.mean(expected_smape, axis=0))
    np.testing.assert_allclose(scores["MASE"], np.mean(expected_mase, axis=0))


def test_scores_by_level_means_within_level_groups():
    levels = np.array([1.0, 2.0, 30.0, 40.0])
    scores = {"a": pd.DataFrame({"sMAPE": [10.0, 20.0, 1.0, 3.0], "MASE": [2.0, 4.0, 0.5, 1.5]}, index=list("wxyz"))}
    table = scores_by_level(levels, scores, num_groups=2)
    assert table.loc["a", "Q1 sMAPE"] == pytest.approx(15.0)
    assert table.loc["a", "Q2 sMAPE"] == pytest.approx(2.0)
    assert table.loc["a", "Q1 MASE"] == pytest.approx(3.0)
    assert table.loc["a", "Q2 MASE"] == pytest.approx(1.0)


def test_series_levels_are_mean_absolute_values_before_the_end():
    values = np.array([[1.0, -3.0, 100.0], [np.nan, 4.0, 100.0]])
    np.testing.assert_allclose(series_levels(_panel(values), 2), [2.0, 4.0])
    np.testing.assert_allclose(series_levels(_panel(values), np.array([1, 3])), [1.0, 52.0])  # an end per series
