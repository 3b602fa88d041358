import numpy as np
import pandas as pd
import pytest

import kerasts


def test_electricity_sample_is_in_forecast_layout():
    table = kerasts.data.load_electricity_sample()
    assert list(table.columns) == ["item_id", "timestamp", "target_value"]
    assert table["item_id"].nunique() == 11
    assert len(table) == 11 * 840
    assert table["timestamp"].min() == pd.Timestamp("2014-11-27 00:00")
    assert table["timestamp"].max() == pd.Timestamp("2014-12-31 23:00")
    per_series = table.groupby("item_id")["timestamp"]
    assert (per_series.diff().dropna() == pd.Timedelta("1h")).all()
    assert (table["target_value"] >= 0).all() and np.all(table["target_value"] == np.round(table["target_value"]))


@pytest.mark.parametrize("likelihood", ["negative_binomial", "poisson", "gaussian", "student_t"])
def test_synthetic_table_has_layout_seasonality_and_reproducibility(likelihood):
    table = kerasts.data.synthetic_forecast_table(num_series=3, length=24 * 14, likelihood=likelihood, seed=1)
    assert list(table.columns) == ["item_id", "timestamp", "target_value"]
    assert len(table) == 3 * 24 * 14
    pd.testing.assert_frame_equal(table, kerasts.data.synthetic_forecast_table(3, 24 * 14, likelihood=likelihood, seed=1))
    series = table[table["item_id"] == "item_0"]["target_value"].to_numpy().reshape(14, 24)
    hourly_profile = series.mean(axis=0)
    # The daily cycle (amplitude half the level) stands out of the noise.
    assert hourly_profile.max() > 1.5 * hourly_profile.min()
    if likelihood in ("negative_binomial", "poisson"):
        assert np.all(table["target_value"] >= 0) and np.all(table["target_value"] % 1 == 0)


def test_synthetic_table_rejects_unknown_family():
    with pytest.raises(ValueError, match="`likelihood` must be"):
        kerasts.data.synthetic_forecast_table(likelihood="beta")
