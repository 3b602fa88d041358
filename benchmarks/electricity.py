"""The electricity benchmark protocol of ../shared/BENCHMARK-TARGETS.md, shared by the benchmark scripts.

321 hourly series from 2014-11-27 00:00; train on all but the last 7 days; test on 7 rolling
24-hour windows (2,247 series-windows); context 168.
"""

import os

import numpy as np
import pandas as pd

DEFAULT_DATA = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data",
                            "electricity-uci-321-last35days", "electricity35.npy")
START = "2014-11-27 00:00"
PREDICTION_LENGTH = 24
CONTEXT_LENGTH = 168
TEST_WINDOWS = 7
QUANTILES = tuple(np.round(np.arange(0.1, 1.0, 0.1), 1))


def load_values(path=DEFAULT_DATA):
    return np.load(path).astype("float64")


def test_origins(length):
    first = length - TEST_WINDOWS * PREDICTION_LENGTH
    return list(range(first, length, PREDICTION_LENGTH))


def pooled_scores(actuals, samples, insample):
    """ND of the median, mean wQL over 0.1..0.9, rho-risks and the share of actuals inside the P10-P90
    band, pooled over all series-windows as GluonTS's evaluator aggregates them. `samples`:
    (num_samples, windows, horizon)."""
    from kerasts.evaluation import evaluate_sample_forecast

    scores = evaluate_sample_forecast(actuals, samples, insample, "H", QUANTILES)
    return {name: scores[name] for name in ("ND", "mean_wQL", "rho_risk_0.5", "rho_risk_0.9", "coverage_80")}


def level_scores(actuals, point, insample, levels):
    """Per-series sMAPE and MASE of a point forecast, each series' mean over its windows, then their
    means by level quintile (`levels`: each series' mean |y| before the test). Rows of `actuals`,
    `point` and `insample` are series-major (all of a series' windows together)."""
    from kerasts.evaluation import scores_by_level
    from kerasts.metrics import mase_per_series, smape_per_series

    windows = actuals.shape[0] // len(levels)
    per_series = pd.DataFrame({
        "sMAPE": smape_per_series(actuals, point).reshape(len(levels), windows).mean(axis=1),
        "MASE": mase_per_series(actuals, point, insample, season_length=24).reshape(len(levels), windows).mean(axis=1)})
    return scores_by_level(levels, {"scores": per_series}).loc["scores"].to_dict()


def panel(values):
    from kerasts.data import TimeSeriesPanel

    keys = pd.DataFrame({"item_id": [f"client_{index:03d}" for index in range(values.shape[0])]})
    timestamps = pd.date_range(START, periods=values.shape[1], freq="h")
    return TimeSeriesPanel(keys, timestamps, values, "H")


def peak_rss_mb():
    """This process's peak resident memory in MB. `VmHWM`, not `getrusage`: a child started by
    `subprocess` inherits its parent's `ru_maxrss`, so a peer run would report ours."""
    with open("/proc/self/status") as status:
        kilobytes = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    return kilobytes / 1024
