"""Series with an order and no calendar (competition data): the `"step-<season>"` frequency."""

import numpy as np
import pandas as pd
import pytest

import kerasts
from kerasts.data import align_target, lags_for_frequency
from kerasts.frequencies import parse_frequency, step_season
from kerasts.metrics import seasonality_for_frequency


def _ragged_table(num_series=4, season=4):
    rng = np.random.default_rng(0)
    rows = []
    for item in range(num_series):
        length = 30 + 6 * item
        steps = np.arange(length)
        values = 50 * (item + 1) * (1 + 0.3 * np.sin(2 * np.pi * steps / season)) + rng.normal(size=length)
        # Right-aligned as competition series are: each ends at step -1, whatever its length.
        rows += [{"item_id": f"s{item}", "timestamp": int(step) - length, "target_value": value}
                 for step, value in zip(steps, values)]
    return pd.DataFrame(rows)


def test_step_frequencies_carry_their_season():
    assert parse_frequency("step-12") == (1, "step") and step_season("step-12") == 12 and step_season("step") == 1
    assert step_season("H") is None
    assert seasonality_for_frequency("step-12") == 12
    assert lags_for_frequency("step-4") == [1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13]
    assert kerasts.layers.CalendarFeatures("step-4").num_features == 0
    with pytest.raises(ValueError, match="Unknown frequency 'step-x'"):
        parse_frequency("step-x")


def test_align_target_puts_integer_steps_on_a_step_grid():
    panel = align_target(_ragged_table(), "step-4")
    assert not panel.has_calendar
    assert list(panel.timestamps[[0, -1]]) == [-48, -1]
    assert np.isnan(panel.target[0, :18]).all() and not np.isnan(panel.target[0, 18:]).any()
    assert list(panel.step_timestamps(48, 2)) == [0, 1]
    bad = _ragged_table().astype({"timestamp": float})
    bad.loc[3, "timestamp"] = 2.5
    with pytest.raises(ValueError, match="column 'timestamp' must hold integer step numbers.*row 3 holds 2.5"):
        align_target(bad, "step-4")


def test_the_workflow_trains_saves_and_forecasts_series_without_timestamps(tmp_path):
    from kerasts.forecast import DatasetGroup, load_predictor, train_predictor

    group = DatasetGroup(_ragged_table(), frequency="step-4")
    predictor = train_predictor(group, 4, algorithm={"name": "deepar", "config": {
        "epochs": 1, "batches_per_epoch": 3, "units": 8, "num_layers": 1, "batch_shards": 1, "num_samples": 10,
        "num_networks": 1}},
        backtest_windows=1, verbose=0)
    assert predictor.forecaster.model.lags == [1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13]
    forecast = predictor.forecast()
    assert list(forecast["date"].unique()) == [0, 1, 2, 3]  # the steps after the data
    predictor.save(tmp_path / "predictor")
    loaded = load_predictor(tmp_path / "predictor")
    pd.testing.assert_frame_equal(loaded.forecast(), forecast)
    assert [point["Timestamp"] for point in loaded.query_forecast("s0")["Forecast"]["Predictions"]["p50"]] == [
        0, 1, 2, 3]
