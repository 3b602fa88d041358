"""`make demo`: trains on the bundled electricity data, prints metrics, writes plots and a SavedModel.

Until DeepAR lands this trains the smallest honest probabilistic forecaster: the
DeepAR-style mean scaler, a two-layer MLP over the last week, and a Student-t
`DistributionOutput` for the next 24 hours, backtested on the last 7 days against the
seasonal-naive baseline.
"""

import os

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


def run_demo(output_dir="demo_output", epochs=30, num_samples=100, seed=0, log=print):
    """Runs the demo and returns the metrics table (a DataFrame indexed by forecaster)."""
    keras.utils.set_random_seed(seed)
    table = load_electricity_sample()
    series = table.pivot(index="item_id", columns="timestamp", values="target_value")
    values = series.to_numpy(dtype="float32")
    first_test_step = values.shape[1] - TEST_DAYS * PREDICTION_LENGTH
    log(f"Bundled UCI electricity sample: {values.shape[0]} clients x {values.shape[1]} hours; "
        f"backtest on the last {TEST_DAYS} days, {PREDICTION_LENGTH}-hour horizons.")

    contexts, horizons = _training_windows(values[:, :first_test_step], CONTEXT_LENGTH, PREDICTION_LENGTH)
    model = build_likelihood_head_network(CONTEXT_LENGTH, PREDICTION_LENGTH, LIKELIHOOD)
    model.compile(keras.optimizers.Adam(1e-3), loss=NegativeLogLikelihood(LIKELIHOOD))
    history = model.fit(contexts, horizons, batch_size=64, epochs=epochs, verbose=0, shuffle=True)
    log(f"Trained {model.count_params():,} parameters on {len(contexts):,} windows for {epochs} epochs; "
        f"final NLL {history.history['loss'][-1]:.3f}.")

    # Rolling test windows, one per test day, each forecast from the history before it.
    origins = range(first_test_step, values.shape[1], PREDICTION_LENGTH)
    test_contexts = np.concatenate([values[:, origin - CONTEXT_LENGTH:origin] for origin in origins])
    actuals = np.concatenate([values[:, origin:origin + PREDICTION_LENGTH] for origin in origins])
    insample = np.concatenate([values[:, origin - first_test_step:origin] for origin in origins])
    parameters = model.predict(test_contexts, verbose=0)
    samples = np.asarray(likelihoods.get(LIKELIHOOD).sample(parameters, num_samples, seed=seed))
    naive = seasonal_naive_forecast(test_contexts, PREDICTION_LENGTH, season_length=24)

    scores = pd.DataFrame({
        "likelihood-head MLP (student_t)": evaluate_sample_forecast(actuals, samples, insample, "H"),
        "seasonal naive (lag 24)": evaluate_sample_forecast(actuals, naive[None], insample, "H"),
    }).T[SHOWN_METRICS]
    log("\n" + scores.to_string(float_format=lambda value: f"{value:.3f}"))

    os.makedirs(output_dir, exist_ok=True)
    plot_path = os.path.join(output_dir, "fan_chart.png")
    _write_fan_charts(plot_path, series.index, test_contexts, actuals, samples, count=len(series.index))
    saved_model_path = os.path.join(output_dir, "saved_model")
    model.export(saved_model_path, format="tf_saved_model", verbose=False)
    scores.to_csv(os.path.join(output_dir, "metrics.csv"))
    log(f"Wrote {plot_path}, {saved_model_path}/ and metrics.csv.")
    return scores


def _write_fan_charts(path, item_ids, contexts, actuals, samples, count, shown=4):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from kerasts.plotting import plot_fan_chart

    # Rows are grouped by window, each window holding every series: show the last window.
    last_window = slice(len(contexts) - count, len(contexts))
    figure, axes = plt.subplots(shown, 1, figsize=(9, 2.6 * shown), constrained_layout=True)
    for ax, row, item_id in zip(axes, range(last_window.start, last_window.stop), item_ids):
        plot_fan_chart(contexts[row], actuals[row], samples[:, row], title=str(item_id), ax=ax, history_steps=72)
    figure.savefig(path, dpi=100)
    plt.close(figure)
