"""`make demo`: trains on the bundled electricity data, prints metrics, writes plots and a SavedModel.

Until DeepAR lands this trains the smallest honest probabilistic forecaster: the
DeepAR-style mean scaler, a two-layer MLP over the last week, and a Student-t
`DistributionOutput` for the next 24 hours, backtested on the last 7 days against the
seasonal-naive baseline.
"""

import os
import time

import keras
import numpy as np
import pandas as pd

from kerasts import likelihoods
from kerasts.baselines import seasonal_naive_forecast
from kerasts.data import load_electricity_sample
from kerasts.evaluation import evaluate_sample_forecast
from kerasts.layers import DistributionOutput, MeanScaler
from kerasts.losses import NegativeLogLikelihood

CONTEXT_LENGTH = 168
PREDICTION_LENGTH = 24
TEST_DAYS = 7
LIKELIHOOD = "student_t"
SHOWN_METRICS = ["mean_wQL", "ND", "WAPE", "RMSE", "MAPE", "MASE", "CRPS", "coverage_80"]


def build_likelihood_head_network(context_length, prediction_length, likelihood, hidden_units=64):
    """Scaled context -> MLP -> per-step distribution parameters in the data's units."""
    context = keras.Input((context_length,), name="context")
    scaled, scale = MeanScaler(name="scaler")(context)
    hidden = keras.layers.Dense(hidden_units, activation="relu")(scaled)
    hidden = keras.layers.Dense(prediction_length * 8, activation="relu")(hidden)
    hidden = keras.layers.Reshape((prediction_length, 8))(hidden)
    parameters = DistributionOutput(likelihood, name="distribution")(hidden, target_scale=scale)
    return keras.Model(context, parameters, name="likelihood_head_network")


def _training_windows(values, context_length, prediction_length):
    """Every (context, horizon) pair that fits inside each series, as two arrays."""
    window = context_length + prediction_length
    starts = range(values.shape[1] - window + 1)
    windows = np.concatenate([values[:, start:start + window] for start in starts])
    return windows[:, :context_length], windows[:, context_length:]


def series_matrix(table, item_column="item_id", timestamp_column="timestamp", target_column="target_value"):
    """Forecast-layout table -> (item ids, float32 array of shape (series, time))."""
    wide = table.pivot(index=item_column, columns=timestamp_column, values=target_column)
    return wide.index, wide.to_numpy(dtype="float32")


def backtest_head_network(values, likelihood=LIKELIHOOD, context_length=CONTEXT_LENGTH,
                          prediction_length=PREDICTION_LENGTH, test_windows=TEST_DAYS, frequency="H",
                          season_length=24, epochs=30, batch_size=64, num_samples=100, seed=0, log=print):
    """Trains the head network on all but the last `test_windows` horizons and backtests it.

    Returns:
        `(scores, forecast)`: a DataFrame of metrics for the network and seasonal naive,
        and a dict with the trained `model`, the test `contexts`, `actuals` and
        `samples` (rows grouped by window, each window holding every series) and the
        training throughput `windows_per_second`.
    """
    keras.utils.set_random_seed(seed)
    first_test_step = values.shape[1] - test_windows * prediction_length
    contexts, horizons = _training_windows(values[:, :first_test_step], context_length, prediction_length)
    model = build_likelihood_head_network(context_length, prediction_length, likelihood)
    model.compile(keras.optimizers.Adam(1e-3), loss=NegativeLogLikelihood(likelihood))
    started = time.perf_counter()
    history = model.fit(contexts, horizons, batch_size=batch_size, epochs=epochs, verbose=0, shuffle=True)
    windows_per_second = epochs * len(contexts) / (time.perf_counter() - started)
    log(f"Trained {model.count_params():,} parameters on {len(contexts):,} windows for {epochs} epochs "
        f"({windows_per_second:,.0f} windows/s); final NLL {history.history['loss'][-1]:.3f}.")

    # Rolling test windows, each forecast from the history before it.
    origins = range(first_test_step, values.shape[1], prediction_length)
    test_contexts = np.concatenate([values[:, origin - context_length:origin] for origin in origins])
    actuals = np.concatenate([values[:, origin:origin + prediction_length] for origin in origins])
    insample = np.concatenate([values[:, origin - first_test_step:origin] for origin in origins])
    parameters = model.predict(test_contexts, batch_size=1024, verbose=0)
    samples = np.asarray(likelihoods.get(likelihood).sample(parameters, num_samples, seed=seed))
    naive = seasonal_naive_forecast(test_contexts, prediction_length, season_length=season_length)
    scores = pd.DataFrame({
        f"likelihood-head MLP ({likelihood})": evaluate_sample_forecast(actuals, samples, insample, frequency),
        f"seasonal naive (lag {season_length})": evaluate_sample_forecast(actuals, naive[None], insample, frequency),
    }).T
    forecast = {"model": model, "contexts": test_contexts, "actuals": actuals, "samples": samples,
                "windows_per_second": windows_per_second}
    return scores, forecast


def run_demo(output_dir="demo_output", epochs=30, num_samples=100, seed=0, log=print):
    """Runs the demo and returns the metrics table (a DataFrame indexed by forecaster)."""
    item_ids, values = series_matrix(load_electricity_sample())
    log(f"Bundled UCI electricity sample: {values.shape[0]} clients x {values.shape[1]} hours; "
        f"backtest on the last {TEST_DAYS} days, {PREDICTION_LENGTH}-hour horizons.")
    scores, forecast = backtest_head_network(values, epochs=epochs, num_samples=num_samples, seed=seed, log=log)
    scores = scores[SHOWN_METRICS]
    log("\n" + scores.to_string(float_format=lambda value: f"{value:.3f}"))

    os.makedirs(output_dir, exist_ok=True)
    plot_path = os.path.join(output_dir, "fan_chart.png")
    _write_fan_charts(plot_path, item_ids, forecast["contexts"], forecast["actuals"], forecast["samples"])
    saved_model_path = os.path.join(output_dir, "saved_model")
    forecast["model"].export(saved_model_path, format="tf_saved_model", verbose=False)
    scores.to_csv(os.path.join(output_dir, "metrics.csv"))
    log(f"Wrote {plot_path}, {saved_model_path}/ and metrics.csv.")
    return scores


def _write_fan_charts(path, item_ids, contexts, actuals, samples, shown=4):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from kerasts.plotting import plot_fan_chart

    # Rows are grouped by window, each window holding every series: show the last window.
    last_window = slice(len(contexts) - len(item_ids), len(contexts))
    figure, axes = plt.subplots(shown, 1, figsize=(9, 2.6 * shown), constrained_layout=True)
    for ax, row, item_id in zip(axes, range(last_window.start, last_window.stop), item_ids):
        plot_fan_chart(contexts[row], actuals[row], samples[:, row], title=str(item_id), ax=ax, history_steps=72)
    figure.savefig(path, dpi=100)
    plt.close(figure)
