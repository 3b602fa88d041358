"""Data that was never negative gets forecasts that are not either, whichever forecaster drew them."""

import numpy as np
import pandas as pd

from kerasts.data import TimeSeriesPanel
from kerasts.evaluation import backtest
from kerasts.protocols import Forecaster


class _WideGaussian(Forecaster):
    """Normal draws around each series' last value, wide enough to go below zero (as a Gaussian interval does)."""

    def predict_paths(self, panel, origin=None, num_samples=100, seed=0):
        origin = self.forecast_origin(panel, origin)
        last = panel.target[:, origin - 1]
        noise = np.random.default_rng(seed).normal(0.0, 3.0, (len(last), num_samples, self.prediction_length))
        return last[:, None, None] + noise


def _panel(values):
    return TimeSeriesPanel(pd.DataFrame({"item_id": ["a", "b"]}), pd.date_range("2024-01-01", periods=20, freq="D"),
                           np.asarray(values, dtype="float64"), "D")


def test_paths_are_raised_to_zero_only_where_no_value_before_the_origin_is_negative():
    counts = np.tile(np.arange(20.0) % 3, (2, 1))  # 0, 1, 2, ... as intermittent counts
    forecaster = _WideGaussian(prediction_length=4)
    table = forecaster.forecast_dataframe(_panel(counts))
    assert (table["p10"] >= 0).all() and (table["p10"] == 0).any() and (table["p90"] > 0).all()
    _, paths = backtest({"wide": forecaster}, _panel(counts), 2, return_paths=True)
    assert all(np.nanmin(window_paths) >= 0 for _, window_paths in paths["wide"])
    signed = counts.copy()
    signed[1, 3] = -1.0  # one negative value before the origin: the data's support includes negatives
    assert (forecaster.forecast_dataframe(_panel(signed))["p10"] < 0).any()
    raw = forecaster.predict_paths(_panel(counts), num_samples=10)
    assert (raw < 0).any()  # the forecaster's own draws are left as they are; forecasts are not
