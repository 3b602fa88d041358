import numpy as np
import pytest

from kerasts import metrics
from kerasts.evaluation import evaluate_sample_forecast


def test_point_forecast_scores_consistently():
    generator = np.random.default_rng(0)
    actuals = generator.uniform(5, 10, size=(3, 4))
    point = actuals + generator.normal(size=(3, 4))
    insample = generator.uniform(5, 10, size=(3, 48))
    scores = evaluate_sample_forecast(actuals, point[None], insample, "H")
    # One path: every quantile is the point, so mean wQL = ND = WAPE and CRPS = MAE.
    assert scores["mean_wQL"] == pytest.approx(scores["ND"])
    assert scores["WAPE"] == pytest.approx(metrics.wape(actuals, point))
    assert scores["CRPS"] == pytest.approx(np.mean(np.abs(actuals - point)))
    assert scores["MASE"] == pytest.approx(metrics.mase(actuals, point, insample, season_length=24))


def test_sharper_correct_forecast_scores_better():
    generator = np.random.default_rng(1)
    actuals = generator.normal(100, 5, size=(4, 6))
    insample = generator.normal(100, 5, size=(4, 48))
    calibrated = generator.normal(100, 5, size=(2000, 4, 6))
    biased = generator.normal(130, 5, size=(2000, 4, 6))
    good = evaluate_sample_forecast(actuals, calibrated, insample, "H")
    bad = evaluate_sample_forecast(actuals, biased, insample, "H")
    for name in ("mean_wQL", "ND", "CRPS", "RMSE", "MASE"):
        assert good[name] < bad[name], name
    assert abs(good["coverage_80"] - 0.8) < 0.2 and bad["coverage_80"] < 0.2
