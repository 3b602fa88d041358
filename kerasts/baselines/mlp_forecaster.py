import time

import keras
import numpy as np

from kerasts.layers.distribution_output import DistributionOutput
from kerasts.layers.mean_scaler import MeanScaler
from kerasts.losses.nll import NegativeLogLikelihood, pack_observed


def build_likelihood_head_network(context_length, prediction_length, likelihood, hidden_units=64):
    """Scaled context -> two-layer MLP -> per-step distribution parameters in the data's units."""
    context = keras.Input((context_length,), name="context")
    observed = keras.Input((context_length,), name="observed")
    scaled, scale = MeanScaler(name="scaler")(context, observed)
    hidden = keras.layers.Dense(hidden_units, activation="relu")(scaled)
    hidden = keras.layers.Dense(prediction_length * 8, activation="relu")(hidden)
    hidden = keras.layers.Reshape((prediction_length, 8))(hidden)
    parameters = DistributionOutput(likelihood, name="distribution")(hidden, target_scale=scale)
    return keras.Model([context, observed], parameters, name="likelihood_head_network")


class MLPForecaster:
    """A neural baseline: one `DistributionOutput` over an MLP of the mean-scaled context.

    Not autoregressive: the horizon's parameters come out at once, so its sample paths
    are independent across steps. Trained on every (context, horizon) window of the
    training range; unobserved targets are masked in the loss.

    Args:
        context_length, prediction_length: window lengths.
        likelihood: output family.
        hidden_units: width of the first hidden layer.
    """

    def __init__(self, context_length, prediction_length, likelihood="student_t", hidden_units=64):
        self.context_length = context_length
        self.prediction_length = prediction_length
        self.likelihood = likelihood
        self.model = build_likelihood_head_network(context_length, prediction_length, likelihood, hidden_units)
        self.windows_per_second = None

    def fit(self, panel, end=None, epochs=30, batch_size=64, learning_rate=1e-3):
        """Trains on every window ending by grid index `end` (default: the whole panel)."""
        end = panel.target.shape[1] if end is None else end
        window = self.context_length + self.prediction_length
        if end < window:
            raise ValueError(f"The training range has {end} steps, fewer than context + prediction = {window}.")
        windows = np.lib.stride_tricks.sliding_window_view(panel.target[:, :end], window, axis=1).reshape(-1, window)
        windows = windows[~np.isnan(windows[:, :self.context_length]).all(axis=1)]
        observed = ~np.isnan(windows)
        values = np.nan_to_num(windows).astype("float32")
        inputs = [values[:, :self.context_length], observed[:, :self.context_length].astype("float32")]
        labels = pack_observed(values[:, self.context_length:], observed[:, self.context_length:])
        self.model.compile(keras.optimizers.Adam(learning_rate), loss=NegativeLogLikelihood(self.likelihood))
        timer = _Stopwatch()
        history = self.model.fit(inputs, labels, batch_size=batch_size, epochs=epochs, verbose=0, callbacks=[timer])
        self.windows_per_second = epochs * len(values) / timer.seconds
        return history

    def predict_paths(self, windows, origin, num_samples, seed):
        # The shared window cutter pads origins earlier than the context with unobserved steps.
        past = windows.last_windows(end=origin, with_future_target=False)
        inputs = [past["target"][:, -self.context_length:], past["observed"][:, -self.context_length:]]
        parameters = self.model.predict(inputs, batch_size=1024, verbose=0)
        samples = self.model.get_layer("distribution").likelihood.sample(parameters, num_samples, seed=seed)
        return np.moveaxis(np.asarray(samples), 0, 1)


class _Stopwatch(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self._started = time.perf_counter()

    def on_train_end(self, logs=None):
        self.seconds = time.perf_counter() - self._started
