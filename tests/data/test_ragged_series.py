"""Series that start and end at different times: each is forecast from its own end."""

import numpy as np
import pandas as pd
import pytest

from kerasts.baselines import SeasonalNaive
from kerasts.data import ForecastWindows, TimeSeriesPanel


def _ragged_panel():
    values = np.tile(np.arange(1.0, 29.0), (3, 1))
    values[1, 20:] = np.nan  # discontinued at step 20
    values[2, :5] = np.nan  # started at step 5
    values[2, 26:] = np.nan  # and its last two days not in yet
    keys = pd.DataFrame({"item_id": ["full", "stopped", "late"]})
    return TimeSeriesPanel(keys, pd.date_range("2024-01-01", periods=28, freq="D"), values, "D")


def test_each_series_is_forecast_from_its_own_last_observation_by_default():
    panel = _ragged_panel()
    naive = SeasonalNaive(7, prediction_length=3)
    table = naive.forecast_dataframe(panel)
    starts = table.groupby("item_id")["date"].min()
    assert starts["full"] == pd.Timestamp("2024-01-29")
    assert starts["stopped"] == pd.Timestamp("2024-01-21")
    assert starts["late"] == pd.Timestamp("2024-01-27")
    # Each from its own last week: what the series held seven days before each forecast step.
    stopped = table[table["item_id"] == "stopped"]["p50"].to_numpy()
    np.testing.assert_allclose(stopped, [14.0, 15.0, 16.0])
    shared = naive.forecast_dataframe(panel, origin=28)
    assert (shared.groupby("item_id")["date"].min() == pd.Timestamp("2024-01-29")).all()


def test_one_origin_per_series_and_series_left_out():
    panel = _ragged_panel()
    naive = SeasonalNaive(7, prediction_length=2)
    table = naive.forecast_dataframe(panel, origin=np.array([28, -1, 10]))
    assert list(table["item_id"].unique()) == ["full", "late"]
    assert table[table["item_id"] == "late"]["date"].min() == pd.Timestamp("2024-01-11")
    with pytest.raises(ValueError, match=r"one int per series \(3\)"):
        naive.forecast_dataframe(panel, origin=np.array([28, 20]))
    with pytest.raises(ValueError, match=r"`origin` must be a grid index in \[1, 28\]"):
        naive.forecast_dataframe(panel, origin=np.array([28, 40, 10]))


def test_last_windows_take_one_end_per_series():
    panel = _ragged_panel()
    windows = ForecastWindows(panel, 7, 3, [1, 7])
    ends = panel.last_observed + 1
    ragged = windows.last_windows(end=ends, with_future_target=False)
    expected = windows.windows(np.arange(3), ends, with_future_target=False)
    for name in ragged:
        np.testing.assert_array_equal(ragged[name], expected[name])
    # Every context ends on the series' last observation.
    assert (ragged["observed"][:, -1] == 1).all()


def test_training_windows_end_by_each_series_last_observation():
    panel = _ragged_panel()
    windows = ForecastWindows(panel, 7, 3, [1, 7])
    # Origins from the first observation + 1 until the horizon ends on the series' own last step (by the end).
    np.testing.assert_array_equal(windows.window_counts(28), [28 - 3 - 1 + 1, 20 - 3 - 1 + 1, 26 - 3 - 6 + 1])
    np.testing.assert_array_equal(windows.window_counts(24), [24 - 3 - 1 + 1, 20 - 3 - 1 + 1, 24 - 3 - 6 + 1])
    # So no window drawn trains on padding alone: the discontinued and the unfinished series included.
    for sampling in ("uniform", "shuffled"):
        for _, y_true in windows.training_dataset(64, sampling=sampling, seed=1, end=28).take(10):
            assert (y_true.numpy()[:, -1, 1] == 1).all()  # every horizon's last step recorded
