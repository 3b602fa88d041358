import time

import keras
import numpy as np

from kerasts import likelihoods
from kerasts._checks import check_positive_int
from kerasts._training_graph_release import training_graph_released
from kerasts.data.windows import ForecastWindows
from kerasts.layers.distribution_output import DistributionOutput
from kerasts.layers.mean_scaler import MeanScaler
from kerasts.losses.nll import NegativeLogLikelihood
from kerasts.optimizers import Adam
from kerasts.protocols.forecaster import Forecaster


def build_likelihood_head_network(context_length, prediction_length, likelihood, hidden_units=64):
    """Scaled context -> two-layer MLP -> per-step distribution parameters in the data's units. A family
    that cannot be rescaled (beta) takes the context as it is and gives its parameters unscaled."""
    context = keras.Input((context_length,), name="context")
    observed = keras.Input((context_length,), name="observed")
    if likelihoods.get(likelihood).rescalable:
        scaled, scale = MeanScaler(name="scaler")(context, observed)
    else:
        scaled, scale = keras.layers.Multiply(name="observed_context")([context, observed]), None
    hidden = keras.layers.Dense(hidden_units, activation="relu")(scaled)
    hidden = keras.layers.Dense(prediction_length * 8, activation="relu")(hidden)
    hidden = keras.layers.Reshape((prediction_length, 8))(hidden)
    parameters = DistributionOutput(likelihood, name="distribution")(hidden, target_scale=scale)
    return keras.Model([context, observed], parameters, name="likelihood_head_network")


class MLPForecaster(Forecaster):
    """A neural baseline: one `DistributionOutput` over an MLP of the mean-scaled context.

    Not autoregressive: the horizon's parameters come out at once, so its sample paths
    are independent across steps. `fit` trains with Adam on shuffled passes over every (context, horizon)
    window of the training range whose context lies on the grid, cut in the graph from the panel
    (`ForecastWindows.training_dataset(sampling="shuffled")`: a large panel's windows are never held);
    targets not recorded (missing or filled in) are masked in the loss.

    Args:
        context_length, prediction_length: window lengths.
        likelihood: output family, or `"auto"`: picked at `fit` from the observed training targets as
            `DeepARForecaster` picks it (`kerasts.likelihoods.by_support`), named in `likelihood_name`.
        hidden_units: width of the first hidden layer.
        epochs, batch_size, learning_rate: the training recipe; an epoch is a pass over every window, at
            most `max_batches_per_epoch` batches (beyond, the passes run on across epochs).
        max_batches_per_epoch: bounds the training of large panels (3,000: no epoch of the benchmarks' seven
            datasets reaches it; a 5,000-series daily panel would need 48,000, benchmarks/RESULTS.md).
        seed: `fit` calls `keras.utils.set_random_seed(seed)` and builds a new network, so a fit repeats
            whatever ran before it; `None` leaves Keras's seed as it is.
    """

    def __init__(self, context_length, prediction_length, likelihood="student_t", hidden_units=64, epochs=30,
                 batch_size=64, learning_rate=1e-3, seed=0, max_batches_per_epoch=3000):
        super().__init__(prediction_length)
        self.context_length = check_positive_int("context_length", context_length)
        self.likelihood = likelihood
        self.hidden_units = hidden_units
        self.epochs = check_positive_int("epochs", epochs)
        self.batch_size = check_positive_int("batch_size", batch_size)
        self.max_batches_per_epoch = check_positive_int("max_batches_per_epoch", max_batches_per_epoch)
        self.learning_rate = learning_rate
        self.seed = seed
        self.model = None
        self.windows_per_second = None

    @property
    def likelihood_name(self):
        """The family's name: the fitted network's (what `"auto"` picked), or the one given."""
        if self.model is not None:
            return self.model.get_layer("distribution").likelihood.name
        if self.likelihood == "auto":
            raise ValueError("likelihood='auto' picks its family when fitting: call fit(panel) first.")
        return likelihoods.get(self.likelihood).name

    def get_config(self):
        return {"context_length": self.context_length, "prediction_length": self.prediction_length,
                "likelihood": "auto" if self.likelihood == "auto" else likelihoods.serialize(self.likelihood),
                "hidden_units": self.hidden_units,
                "epochs": self.epochs, "batch_size": self.batch_size, "learning_rate": self.learning_rate,
                "seed": self.seed, "max_batches_per_epoch": self.max_batches_per_epoch}

    def fit(self, panel, end=None):
        """Trains on every window ending by grid index `end` (default: the whole panel)."""
        end = self.training_end(panel, end)
        window = self.context_length + self.prediction_length
        if end < window:
            raise ValueError(f"The training range has {end} steps, fewer than context + prediction = {window}.")
        if self.seed is not None:
            keras.utils.set_random_seed(self.seed)
        family = (likelihoods.by_support(panel.recorded_target[:, :end]) if self.likelihood == "auto"
                  else self.likelihood)
        # The network reads padded steps as values (the observed mask only sets its scale): contexts on the grid.
        windows = ForecastWindows(panel, self.context_length, self.prediction_length, [1], likelihood=family,
                                  context_inside_grid=True)
        context = slice(windows.history_length, windows.history_length + self.context_length)

        def network_inputs(inputs, labels):  # the windows cut to the MLP's context and horizon
            return (inputs["target"][:, context], inputs["observed"][:, context]), labels[:, self.context_length:]

        dataset = windows.training_dataset(self.batch_size, "shuffled", seed=self.seed or 0, end=end)
        steps = min(-(-int(windows.window_counts(end).sum()) // self.batch_size), self.max_batches_per_epoch)
        self.model = build_likelihood_head_network(self.context_length, self.prediction_length, family,
                                                   self.hidden_units)
        self.model.compile(Adam(self.learning_rate), loss=NegativeLogLikelihood(family))
        timer = _Stopwatch()
        with training_graph_released():  # a functional network, without the kerasts networks' mixin
            self.model.fit(dataset.map(network_inputs), steps_per_epoch=steps, epochs=self.epochs, verbose=0,
                           callbacks=[timer], shuffle=False)  # the passes are shuffled already
        self.windows_per_second = self.epochs * steps * self.batch_size / timer.seconds
        return self

    def predict_paths(self, panel, origin=None, num_samples=100, seed=0):
        if self.model is None:
            raise ValueError("MLPForecaster is not fitted: call fit(panel) first.")
        # The shared window cutter pads origins earlier than the context with unobserved steps.
        origin = self.forecast_origin(panel, origin)
        past = ForecastWindows(panel, self.context_length, self.prediction_length, [1]).last_windows(
            end=origin, with_future_target=False)
        inputs = [past["target"][:, -self.context_length:], past["observed"][:, -self.context_length:]]
        parameters = self.model.predict(inputs, batch_size=1024, verbose=0)  # (series, horizon, parameters)
        by_path = np.broadcast_to(parameters[:, :, None], parameters.shape[:2] + (num_samples, parameters.shape[-1]))
        samples = self.model.get_layer("distribution").likelihood.draw_paths(by_path, seed)
        return np.moveaxis(np.asarray(samples), 2, 1)


class _Stopwatch(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self._started = time.perf_counter()

    def on_train_end(self, logs=None):
        self.seconds = time.perf_counter() - self._started
