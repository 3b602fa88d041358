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
