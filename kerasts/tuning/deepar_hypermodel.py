import keras
import keras_tuner
import numpy as np

from kerasts.metrics.forecast import mean_weighted_quantile_loss
from kerasts.models.deepar.forecaster import DeepARForecaster

QUANTILES = (0.1, 0.5, 0.9)


class ForecastValidation(keras.callbacks.Callback):
    """Adds `val_mean_wQL` (P10/P50/P90, Amazon Forecast's "Average wQL") to each epoch's logs by
    sampling forecasts of the validation windows, so a tuner can select on forecast accuracy."""

    def __init__(self, windows, end, num_samples=50, seed=0):
        super().__init__()
        self.inputs = windows.last_windows(end=end - windows.prediction_length, with_future_target=False)
        self.actuals = windows.panel.target[:, end - windows.prediction_length:end]
        self.num_samples, self.seed = num_samples, seed

    def on_epoch_end(self, epoch, logs=None):
        forecast = self.model.forecast(self.inputs, num_samples=self.num_samples, seed=self.seed, quantiles=QUANTILES)
        logs["val_mean_wQL"] = mean_weighted_quantile_loss(self.actuals, np.moveaxis(forecast["quantiles"], 1, 0),
                                                           QUANTILES)


class DeepARHyperModel(keras_tuner.HyperModel):
    """Searches DeepAR on one `TimeSeriesPanel` (its related data included) with
    `DeepARForecaster`'s training recipe: the last `prediction_length` steps validate.

    Default search space (`hp` names are stable; fix or narrow any with `keras_tuner.HyperParameters`):
    - `context_multiple`: context length in prediction lengths, 1, 2, 4 or 7 (changes the windows too)
    - `cell`: `lstm` or `gru`
    - `num_layers`: 1..3; `units`: 16..128, step 16; `dropout`: 0.0..0.3, step 0.1
    - `learning_rate`: 1e-4..1e-2, log scale (Adam, the recipe's clipping)
    - `batch_size`: 16, 32, 64, 128 (`fit` time)

    `fit(hp, model, panel)` trains on windows ending before the last `prediction_length` steps
    (`steps_per_epoch` batches per epoch, the recipe's window sampling) and reports `val_loss` (NLL
    of the last window) and `val_mean_wQL`; pick either as the objective, e.g.
    `keras_tuner.Objective("val_mean_wQL", "min")`.

    Args:
        panel: the data searched on (pass the same panel to the search as its training data).
        prediction_length: forecast horizon.
        likelihood: likelihood name, or `"auto"` (the default: `DeepARForecaster`'s pick by the targets).
        steps_per_epoch: training batches per epoch.
        num_samples: sample paths for `val_mean_wQL`.
    """

    def __init__(self, panel, prediction_length, likelihood="auto", steps_per_epoch=50, num_samples=50,
                 **kwargs):
        super().__init__(**kwargs)
        self.panel = panel
        self.prediction_length = prediction_length
        self.likelihood = likelihood
        self.steps_per_epoch = steps_per_epoch
        self.num_samples = num_samples

    def recipe(self, hp):
        """The `DeepARForecaster` the hyperparameters describe."""
        return DeepARForecaster(
            self.prediction_length, hp.Choice("context_multiple", [1, 2, 4, 7]) * self.prediction_length,
            likelihood=self.likelihood, cell=hp.Choice("cell", ["lstm", "gru"]), num_layers=hp.Int("num_layers", 1, 3),
            units=hp.Int("units", 16, 128, step=16), dropout=hp.Float("dropout", 0.0, 0.3, step=0.1),
            batches_per_epoch=self.steps_per_epoch, batch_size=hp.Choice("batch_size", [16, 32, 64, 128]),
            learning_rate=hp.Float("learning_rate", 1e-4, 1e-2, sampling="log"), num_samples=self.num_samples,
            seed=None)

    def build(self, hp):
        return self.recipe(hp).build_model(self.panel, end=len(self.panel.timestamps) - self.prediction_length)

    def fit(self, hp, model, panel, validation_data=None, callbacks=None, **kwargs):
        if validation_data is not None:
            raise ValueError("DeepARHyperModel validates on the panel's last prediction_length steps; "
                             "pass validation=None.")
        if panel is not self.panel:
            raise ValueError("DeepARHyperModel trains on the panel it was built for: pass that panel to the search.")
        recipe = self.recipe(hp)
        end = len(panel.timestamps)
        windows = recipe.windows(panel, model.lags)
        return recipe.train(model, windows, end - self.prediction_length, validation_end=end,
                            callbacks=[ForecastValidation(windows, end, self.num_samples)] + list(callbacks or []),
                            **kwargs)
