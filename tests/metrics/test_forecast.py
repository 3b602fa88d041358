import math

import numpy as np
import pytest

from kerasts import metrics

Y = np.array([[1.0, 2.0, 3.0], [4.0, 0.0, 6.0]])  # sum |y| = 16
POINT = np.array([[2.0, 2.0, 1.0], [4.0, 1.0, 3.0]])  # |errors| = 1,0,2,0,1,3 -> 7


def test_wape_and_nd_hand_computed():
    assert metrics.wape(Y, POINT) == pytest.approx(7 / 16)
    assert metrics.nd(Y, POINT) == pytest.approx(7 / 16)


def test_rmse_nrmse_hand_computed():
    rmse = math.sqrt((1 + 0 + 4 + 0 + 1 + 9) / 6)
    assert metrics.rmse(Y, POINT) == pytest.approx(rmse)
    assert metrics.nrmse(Y, POINT) == pytest.approx(rmse / (16 / 6))


def test_mape_skips_zero_targets():
    # Non-zero targets: 1,2,3,4,6 with errors 1,0,2,0,3.
    assert metrics.mape(Y, POINT) == pytest.approx((1 / 1 + 0 + 2 / 3 + 0 + 3 / 6) / 5)
    assert math.isnan(metrics.mape(np.zeros(3), np.ones(3)))


def test_weighted_quantile_loss_hand_computed():
    y = np.array([10.0, 20.0])
    forecasts = np.array([[8.0, 25.0], [12.0, 18.0]])  # levels 0.1 and 0.9
    # tau 0.1: (10-8)*0.1 + (25-20)*0.9 = 0.2 + 4.5 = 4.7 -> 2*4.7/30
    # tau 0.9: (12-10)*0.1 + (20-18)*0.9 = 0.2 + 1.8 = 2.0 -> 2*2.0/30
    result = metrics.weighted_quantile_loss(y, forecasts, [0.1, 0.9])
    assert result == pytest.approx({0.1: 9.4 / 30, 0.9: 4.0 / 30})
    assert metrics.mean_weighted_quantile_loss(y, forecasts, [0.1, 0.9]) == pytest.approx(6.7 / 30)


def test_median_wql_equals_nd_of_the_median():
    median = POINT
    assert metrics.weighted_quantile_loss(Y, median[None], [0.5])[0.5] == pytest.approx(metrics.nd(Y, median))


def test_mase_hand_computed_with_frequency_season():
    history = np.array([1.0, 2.0, 4.0, 7.0])  # lag-1 errors 1,2,3 -> scale 2
    assert metrics.mase(np.array([8.0, 9.0]), np.array([7.0, 12.0]), history, season_length=1) == pytest.approx(
        (1 + 3) / 2 / 2
    )
    daily_history = np.arange(14.0)  # weekly (D -> 7) differences are all 7
    assert metrics.mase(np.array([20.0]), np.array([13.0]), daily_history, frequency="D") == pytest.approx(1.0)


def test_mase_over_series_skips_constant_histories():
    history = np.array([[1.0, 3.0, 5.0], [2.0, 2.0, 2.0]])
    y, forecast = np.array([[7.0], [2.0]]), np.array([[6.0], [3.0]])
    assert metrics.mase(y, forecast, history, season_length=1) == pytest.approx(0.5)
    assert math.isnan(metrics.mase(y[1], forecast[1], history[1], season_length=1))


def test_seasonality_by_frequency():
    assert metrics.seasonality_for_frequency("H") == 24
    assert metrics.seasonality_for_frequency("2H") == 24
    assert metrics.seasonality_for_frequency("W-SUN") == 52
    with pytest.raises(ValueError, match="Unknown frequency 'fortnight'"):
        metrics.seasonality_for_frequency("fortnight")


def test_crps_of_point_mass_is_absolute_error_and_matches_gaussian_closed_form():
    assert metrics.crps(np.array([3.0]), np.full((5, 1), 1.0)) == pytest.approx(2.0)
    # Gaussian CRPS at y = mu: sigma * (sqrt(2) - 1) / sqrt(pi) * ... = sigma*(2*phi(0) - 1/sqrt(pi))
    samples = np.random.default_rng(0).normal(size=(200_000, 1))
    expected = 2 / math.sqrt(2 * math.pi) - 1 / math.sqrt(math.pi)
    assert metrics.crps(np.array([0.0]), samples) == pytest.approx(expected, rel=0.01)


def test_crps_two_samples_hand_computed():
    # samples {0, 2}, y = 1: E|X-y| = 1, E|X-X'| = 1 -> 1 - 0.5
    assert metrics.crps(np.array([1.0]), np.array([[0.0], [2.0]])) == pytest.approx(0.5)


def test_rho_risk_hand_computed():
    y = np.array([[1.0, 2.0], [3.0, 4.0]])  # totals 3, 7
    samples = np.array([[[1.0, 1.0], [4.0, 4.0]]] * 3)  # every path totals 2 and 8
    # rho 0.5: (2-3) -> |(-1)*(0 - 0.5)| = 0.5; (8-7) -> |1*(1 - 0.5)| = 0.5; 2*1/10
    assert metrics.rho_risk(y, samples, 0.5) == pytest.approx(0.2)
    # rho 0.9: |(-1)*(0-0.9)| = 0.9, |1*(1-0.9)| = 0.1 -> 2*1.0/10
    assert metrics.rho_risk(y, samples, 0.9) == pytest.approx(0.2)


def test_coverage_hand_computed():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    assert metrics.coverage(y, np.array([1.0, 1.0, 5.0, 3.0])) == pytest.approx(0.5)
    assert metrics.interval_coverage(y, np.array([0.0, 2.5, 3.0, 0.0]), np.array([1.0, 3.0, 3.0, 3.0])) == 0.5
    with pytest.raises(ValueError, match="`lower` exceeds `upper`"):
        metrics.interval_coverage(y, y + 1, y)


def test_nan_targets_are_masked_everywhere():
    y = np.array([[1.0, np.nan, 3.0]])
    forecast = np.array([[2.0, 100.0, 3.0]])
    assert metrics.wape(y, forecast) == pytest.approx(1 / 4)
    assert metrics.rmse(y, forecast) == pytest.approx(math.sqrt(0.5))
    assert metrics.mean_weighted_quantile_loss(y, forecast[None], [0.5]) == pytest.approx(metrics.nd(y, forecast))
    assert metrics.crps(y, np.stack([forecast] * 3)) == pytest.approx(0.5)
    assert metrics.coverage(y, forecast) == 1.0


def test_zero_denominators_give_nan_not_inf():
    zeros = np.zeros(3)
    assert math.isnan(metrics.wape(zeros, np.ones(3)))
    assert math.isnan(metrics.mean_weighted_quantile_loss(zeros, np.ones((1, 3)), [0.5]))
    assert math.isnan(metrics.rho_risk(zeros[None], np.ones((4, 1, 3)), 0.5))
    assert math.isnan(metrics.rmse(np.full(2, np.nan), np.ones(2)))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: metrics.wape(np.ones(3), np.ones(4)), r"`y_pred` has shape \(4,\), expected \(3,\)"),
        (lambda: metrics.crps(np.ones(3), np.ones(3)), r"`samples` has shape \(3,\), expected \(n,\) \+ \(3,\)"),
        (lambda: metrics.weighted_quantile_loss(np.ones(3), np.ones((2, 3)), [0.5]), "2 forecasts on axis 0 but 1"),
        (lambda: metrics.weighted_quantile_loss(np.ones(3), np.ones((1, 3)), [1.5]), "strictly between 0 and 1"),
        (lambda: metrics.wape(np.ones(2), np.array([1.0, np.nan])), "`y_pred` holds NaN where `y_true` is observed"),
        (lambda: metrics.mase(np.ones(2), np.ones(2), np.ones(5)), "exactly one of `season_length` and `frequency`"),
        (lambda: metrics.mase(np.ones((2, 2)), np.ones((2, 2)), np.ones(5), season_length=1), "same number of series"),
    ],
)
def test_bad_input_is_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_smape_follows_m4_per_series_then_mean():
    y = np.array([[100.0, 200.0], [0.0, 4.0]])
    forecast = np.array([[110.0, 180.0], [0.0, 2.0]])
    first = 200 / 2 * (10 / 210 + 20 / 380)
    second = 200 / 1 * (2 / 6)  # the 0 / 0 step is left out
    assert metrics.smape(y, forecast) == pytest.approx((first + second) / 2)
    assert np.isnan(metrics.smape(np.zeros((1, 2)), np.zeros((1, 2))))


def test_per_series_smape_and_mase_are_what_the_means_average():
    y = np.array([[100.0, 200.0], [0.0, 4.0], [np.nan, np.nan]])
    forecast = np.array([[110.0, 180.0], [0.0, 2.0], [1.0, 1.0]])
    per_series = metrics.smape_per_series(y, forecast)
    assert per_series[:2] == pytest.approx([200 / 2 * (10 / 210 + 20 / 380), 200 * 2 / 6])
    assert np.isnan(per_series[2])
    assert metrics.smape(y, forecast) == pytest.approx(per_series[:2].mean())
    # A history padded with NaN before the series starts is scaled from its first observation, so a
    # history shorter than a season falls back to lag 1 instead of having no scale.
    history = np.array([[np.nan, np.nan, 1.0, 3.0, 5.0], [1.0, 2.0, 4.0, 8.0, 16.0], [1.0, 2.0, 3.0, 4.0, 5.0]])
    scores = metrics.mase_per_series(y, forecast, history, season_length=4)
    assert scores[0] == pytest.approx(np.mean([10.0, 20.0]) / 2.0)  # lag 1: differences 2, 2
    assert scores[1] == pytest.approx(np.mean([0.0, 2.0]) / 15.0)  # lag 4: 16 - 1
    assert np.isnan(scores[2])  # nothing observed to score
    assert metrics.mase(y, forecast, history, season_length=4) == pytest.approx(np.nanmean(scores))


def test_owa_is_the_mean_of_the_ratios_to_naive2():
    assert metrics.owa(12.0, 0.9, 15.0, 1.2) == pytest.approx(0.5 * (12 / 15 + 0.9 / 1.2))
    assert metrics.owa(15.0, 1.2, 15.0, 1.2) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="Naive2's sMAPE and MASE must be positive"):
        metrics.owa(12.0, 0.9, 0.0, 1.2)
