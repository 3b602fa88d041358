import numpy as np
import pandas as pd
import pytest

from kerasts.data import CategoryEncoder, align_related, align_target, forecast_export_table


def _table():
    return pd.DataFrame({
        "item_id": ["b", "a", "a", "a", "b", "a"],
        "store": ["s1", "s1", "s1", "s1", "s1", "s2"],
        "timestamp": pd.to_datetime(["2024-01-01 02:10", "2024-01-01 00:05", "2024-01-01 00:45",
                                     "2024-01-01 03:00", "2024-01-01 00:00", "2024-01-01 01:00"]),
        "target_value": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
    })


def test_alignment_sums_per_period_sorts_and_marks_gaps_missing():
    table = _table()
    original = table.copy()
    panel = align_target(table, "H", dimension_columns=["store"])
    pd.testing.assert_frame_equal(table, original)  # the user's table is untouched
    assert list(panel.series_ids) == ["a|s1", "a|s2", "b|s1"]
    expected = np.array([
        [5.0, np.nan, np.nan, 4.0],  # 00:05 and 00:45 fall in one hour and add up
        [np.nan, 6.0, np.nan, np.nan],
        [5.0, np.nan, 1.0, np.nan],
    ])
    np.testing.assert_array_equal(panel.target, expected)
    assert list(panel.first_observed) == [0, 1, 0]
    assert panel.timestamps[0] == pd.Timestamp("2024-01-01 00:00")


def test_exact_duplicate_timestamps_are_summed_and_all_nan_periods_stay_missing():
    table = pd.DataFrame({"item_id": ["a"] * 3, "timestamp": ["2024-01-01", "2024-01-01", "2024-01-03"],
                          "target_value": [1.0, 2.0, np.nan]})
    panel = align_target(table, "D")
    np.testing.assert_array_equal(panel.target, [[3.0, np.nan, np.nan]])


def test_data_on_a_finer_grid_that_stops_inside_its_last_period_is_warned_of():
    import warnings

    days = pd.date_range("2025-01-01", "2025-03-31", freq="D")
    daily = pd.DataFrame({"item_id": "a", "timestamp": days, "target_value": 1.0})
    with pytest.warns(UserWarning, match=r"ends at 2025-03-26, inside its last 'M' period \(2025-03-01 to "
                                         r"2025-03-31\): summed over the part recorded, that period will look low"):
        partial = align_target(daily.iloc[:-5], "M")
    assert partial.target[0, -1] == 26.0  # summed as Forecast sums it: the warning changes nothing
    rng = np.random.default_rng(0)  # transactions at any time of day have no grid of their own
    sales = pd.Timestamp("2025-01-01") + pd.to_timedelta(np.sort(rng.uniform(0, 29.9 * 86400, 300)), unit="s")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        align_target(daily, "M")  # whole months
        align_target(daily, "D")  # the data's own frequency
        align_target(pd.DataFrame({"item_id": "a", "timestamp": sales, "target_value": 1.0}), "D")


@pytest.mark.parametrize(
    "change, error, message",
    [
        (lambda t: t.drop(columns="target_value"), ValueError, r"lacks column\(s\) \['target_value'\]"),
        (lambda t: t.iloc[:0], ValueError, "`target_table` is empty"),
        (lambda t: t.assign(target_value=["x"] + [1.0] * 5), ValueError, "'target_value' must be numeric"),
        (lambda t: t.assign(timestamp=["not a date"] * 6), ValueError, "'timestamp' holds values that are not timestamps"),
        (lambda t: t.assign(timestamp=["2024-01-01", "2024-01-02", "2024-13-01", "2024-01-04", "2024-01-05",
                                       "2024-01-06"]), ValueError,  # the row, not pandas' advice on its arguments
         r"not timestamps: row 2 holds '2024-13-01'. Give every timestamp in one format, e.g. 2025-01-31"),
        (lambda t: t.assign(item_id=[None] + ["a"] * 5), ValueError, "'item_id' holds missing ids"),
        (lambda t: t.to_dict(), TypeError, "must be a pandas DataFrame"),
    ],
)
def test_bad_target_tables(change, error, message):
    with pytest.raises(error, match=message):
        align_target(change(_table()), "H")


def test_unknown_frequency_is_named():
    with pytest.raises(ValueError, match="Unknown frequency 'fortnightly'"):
        align_target(_table(), "fortnightly")


def test_related_series_cover_the_horizon_and_fill_past_gaps():
    panel = align_target(_table()[_table()["store"] == "s1"], "H")
    related = pd.DataFrame({
        "item_id": ["a", "a", "a", "b", "b", "b", "b", "b"],
        "timestamp": pd.to_datetime(["2024-01-01 00:00", "2024-01-01 04:00", "2024-01-01 05:00",
                                     "2024-01-01 00:00", "2024-01-01 01:00", "2024-01-01 02:30",
                                     "2024-01-01 04:00", "2024-01-01 05:00"]),
        "price": [1.0, 2.0, 3.0, 10.0, 11.0, 12.0, 14.0, 15.0],
    })
    cube, names = align_related(related, panel, prediction_length=2)
    assert names == ["price"] and cube.shape == (2, 6, 1)
    np.testing.assert_array_equal(cube[0, :, 0], [1, 1, 1, 1, 2, 3])  # hours 1-3 hold the last price
    with pytest.raises(ValueError, match="'price' is missing over the forecast horizon: series 'a'"):
        align_related(related[related["timestamp"] < "2024-01-01 05:00"], panel, prediction_length=2)


def test_category_encoder_maps_unseen_categories_and_items_to_zero():
    metadata = pd.DataFrame({"item_id": ["a", "b"], "brand": ["x", "y"]})
    encoder = CategoryEncoder.fit(metadata, ["brand"])
    assert encoder.cardinalities == [3]
    later = pd.DataFrame({"item_id": ["a", "b"], "brand": ["y", "new brand"]})
    np.testing.assert_array_equal(encoder.encode(later, ["a", "b", "c"]), [[2], [0], [0]])
    with pytest.raises(ValueError, match="lists item 'a' more than once"):
        CategoryEncoder.fit(pd.concat([metadata, metadata]), ["brand"])


def test_forecast_export_table_layout():
    panel = align_target(_table(), "H", dimension_columns=["store"])
    samples = np.arange(3 * 4 * 2, dtype=float).reshape(3, 4, 2)
    table = forecast_export_table(panel, 4, samples, quantiles=(0.1, 0.5, 0.9))
    assert list(table.columns) == ["item_id", "store", "date", "p10", "p50", "p90", "mean"]
    assert len(table) == 6
    assert table["date"].iloc[0] == pd.Timestamp("2024-01-01 04:00")
    np.testing.assert_allclose(table["mean"].iloc[:2], samples[0].mean(axis=0))
    np.testing.assert_allclose(table["p50"].iloc[:2], np.median(samples[0], axis=0))
