"""DeepAR against its baselines on one panel: the comparison of the demo and the examples."""

from kerasts.baselines import NPTS, MLPForecaster, SeasonalNaive
from kerasts.evaluation.backtest import backtest
from kerasts.metrics.forecast import seasonality_for_frequency
from kerasts.models.deepar.forecaster import DeepARForecaster


def baseline_forecasters(panel, prediction_length, context_length, likelihood="student_t", epochs=20,
                         batches_per_epoch=50, mlp_epochs=30, seed=0, cell="lstm"):
    """DeepAR, the likelihood-head MLP, NPTS and seasonal naive (season from the frequency, as MASE
    uses it) for the panel, unfitted, by the names the tables show."""
    season = seasonality_for_frequency(panel.frequency)
    return {
        "DeepAR": DeepARForecaster(prediction_length, context_length, likelihood=likelihood, cell=cell,
                                   epochs=epochs, batches_per_epoch=batches_per_epoch, seed=seed),
        "likelihood-head MLP": MLPForecaster(context_length, prediction_length, likelihood, epochs=mlp_epochs),
        f"NPTS (season {season})": NPTS(season, prediction_length=prediction_length),
        f"seasonal naive (lag {season})": SeasonalNaive(season, prediction_length=prediction_length),
    }


def compare_forecasters(panel, prediction_length=24, context_length=168, test_windows=7, num_samples=100, seed=0,
                        **settings):
    """Fits `baseline_forecasters(panel, ...)` on all but the last `test_windows` horizons and
    backtests them there.

    Returns:
        `(scores, forecasters)`: the backtest DataFrame (one row per forecaster and window, plus
        `"mean"` rows) and the fitted forecasters by name.
    """
    forecasters = baseline_forecasters(panel, prediction_length, context_length, seed=seed, **settings)
    scores = backtest(forecasters, panel, test_windows, num_samples=num_samples, seed=seed, fit=True)
    return scores, forecasters
