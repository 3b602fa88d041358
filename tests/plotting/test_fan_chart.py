import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from kerasts.plotting import plot_fan_chart  # noqa: E402


def test_fan_chart_draws_band_median_history_and_actuals():
    samples = np.random.default_rng(0).normal(10, 1, size=(50, 6))
    ax = plot_fan_chart(np.arange(20.0), np.full(6, 10.0), samples, title="series", history_steps=8)
    labels = [line.get_label() for line in ax.get_lines()]
    assert {"history", "actual", "median"} <= set(labels)
    assert len(ax.get_lines()[0].get_xdata()) == 8
    assert ax.get_title() == "series"


def test_fan_chart_rejects_mismatched_samples():
    with pytest.raises(ValueError, match=r"`samples` must have shape \(num_samples, 6\)"):
        plot_fan_chart(np.arange(5.0), np.zeros(6), np.zeros((10, 5)))


def test_a_forecast_past_the_data_draws_no_actuals_and_dates_its_axis():
    import pandas as pd

    history_dates = pd.date_range("2026-10-01", periods=30, freq="D")
    future_dates = pd.date_range("2026-10-31", periods=7, freq="D")
    ax = plot_fan_chart(np.arange(30.0), np.full(7, np.nan), np.ones((20, 7)), history_dates=history_dates,
                        future_dates=future_dates)
    labels = [line.get_label() for line in ax.get_lines()]
    assert "actual" not in labels and {"history", "median"} <= set(labels)
    assert ax.get_xlabel() == "date" and isinstance(ax.xaxis.get_major_formatter(), matplotlib.dates.ConciseDateFormatter)
