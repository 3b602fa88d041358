import numpy as np
import pandas as pd
import pytest

from kerasts.layers import CalendarFeatures
from kerasts.testing import TestCase


def _seconds(timestamps):
    return (pd.DatetimeIndex(timestamps).astype("int64") // 10**9).to_numpy()


def test_features_match_pandas_over_centuries_and_leap_days():
    generator = np.random.default_rng(0)
    random_seconds = generator.integers(_seconds(["1901-01-01"])[0], _seconds(["2099-12-31"])[0], size=5000)
    edge_days = pd.to_datetime(["2000-02-29 23:59", "1900-03-01 00:00", "2024-12-31 12:00", "2100-02-28 00:00", "1969-12-31 00:00"])
    seconds = np.concatenate([random_seconds, _seconds(edge_days)])
    stamps = pd.to_datetime(seconds, unit="s")
    features = np.asarray(CalendarFeatures("min")(seconds))
    expected = np.stack([
        stamps.minute / 59 - 0.5, stamps.hour / 23 - 0.5, stamps.dayofweek / 6 - 0.5,
        (stamps.day - 1) / 30 - 0.5, (stamps.dayofyear - 1) / 365 - 0.5,
    ], -1)
    np.testing.assert_allclose(features, expected, atol=1e-6)
    monthly = np.asarray(CalendarFeatures("M")(seconds))[..., 0]
    np.testing.assert_allclose(monthly, (stamps.month - 1) / 11 - 0.5, atol=1e-6)
    weekly = np.asarray(CalendarFeatures("W-SUN")(seconds))
    np.testing.assert_allclose(weekly[..., 1], ((stamps.dayofyear - 1) // 7) / 52 - 0.5, atol=1e-6)


@pytest.mark.parametrize("frequency, count", [("H", 4), ("D", 3), ("W", 2), ("M", 1), ("Q", 0), ("Y", 0)])
def test_feature_count_by_frequency(frequency, count):
    output = CalendarFeatures(frequency)(np.zeros((2, 5), "int64"))
    assert tuple(output.shape) == (2, 5, count)


class CalendarFeaturesTest(TestCase):
    def test_harness(self):
        seconds = _seconds(pd.date_range("2024-01-01", periods=8 * 6, freq="h")).reshape(8, 6)
        # No weights: nothing to train or to mirror.
        self.run_layer_test(CalendarFeatures, {"frequency": "H"}, seconds, (8, 6, 4),
                            run_training_check=False, run_distribution_check=False)


def test_holidays_count_the_days_each_period_touches():
    holidays = {"US": [int((pd.Timestamp(day) - pd.Timestamp("1970-01-01")).days)
                       for day in ("2024-07-04", "2024-12-25", "2025-01-01")]}
    hourly = pd.date_range("2024-07-03 22:00", periods=28, freq="h")
    counts = np.asarray(CalendarFeatures("H", holidays=holidays)(_seconds(hourly)[None]))[0, :, -1]
    np.testing.assert_array_equal(counts, (hourly.date == pd.Timestamp("2024-07-04").date()).astype(float))
    daily = pd.date_range("2024-12-23", periods=12, freq="D")
    counts = np.asarray(CalendarFeatures("D", holidays=holidays)(_seconds(daily)[None]))[0, :, -1]
    np.testing.assert_array_equal(np.flatnonzero(counts), [2, 9])  # Christmas and New Year's Day
    weekly = pd.date_range("2024-12-16", periods=4, freq="W-MON")  # weeks from Monday
    counts = np.asarray(CalendarFeatures("W", holidays=holidays)(_seconds(weekly)[None]))[0, :, -1]
    np.testing.assert_array_equal(counts, [0, 1, 1, 0])
    monthly = pd.date_range("2024-06-01", periods=8, freq="MS")
    counts = np.asarray(CalendarFeatures("M", holidays=holidays)(_seconds(monthly)[None]))[0, :, -1]
    np.testing.assert_array_equal(counts, [0, 1, 0, 0, 0, 0, 1, 1])
    layer = CalendarFeatures("H", holidays=holidays)
    assert CalendarFeatures.from_config(layer.get_config()).holidays == layer.holidays
    with pytest.raises(ValueError, match="Holidays need a calendar; the 'step-12' frequency"):
        CalendarFeatures("step-12", holidays=holidays)


def test_holiday_days_come_from_the_holidays_package_and_unknown_countries_are_named():
    from kerasts.data import holiday_days

    days = holiday_days(("US", "PT"), 2024, 2024)
    us = pd.Timestamp("1970-01-01") + pd.to_timedelta(days["US"], unit="D")
    assert pd.Timestamp("2024-07-04") in us and pd.Timestamp("2024-12-25") in us and len(days["PT"]) >= 10
    with pytest.raises(ValueError, match="Unknown holiday country 'XX'"):
        holiday_days(("XX",), 2024, 2024)
