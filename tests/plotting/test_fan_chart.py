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
