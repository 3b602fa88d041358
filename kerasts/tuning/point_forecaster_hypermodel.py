import keras
import keras_tuner
import numpy as np

from kerasts._training_graph_release import training_graph_released
from kerasts.data.series_windows import MinMaxScaler, sliding_windows
from kerasts.models.point_forecaster.point_forecaster import point_forecaster


class PointForecasterHyperModel(keras_tuner.HyperModel):
    """Searches the one-step LSTM (or NestedLSTM) point forecaster of one series over its width and
    its window length.

    Default search space (`hp` names are stable):
    - `n_a`: recurrent units, 16..128 (uniform over the integers)
    - `n_x`: window length in steps, 5..25 (a `fit`-time choice too: it changes the data)

    `fit(hp, model, train, validation_data=validation)` takes the raw training and validation parts
    of the series (1-D, validation following train in time): both are min-max scaled to [-1, 1]
    with the training part's statistics, cut into sliding windows of `n_x` (validation windows start
    in the training part's last `n_x` steps), and fitted with early stopping once the training loss
    stops improving. `val_loss` is the validation MSE in scaled units.

    Args:
        cell: `"lstm"` or `"nested_lstm"`.
        patience: epochs without improvement of the loss before early stopping.

    Example:
        >>> result = kerasts.tuning.random_search(PointForecasterHyperModel(), train, validation, max_trials=20)
        >>> result.best_hyperparameters.values   # {"n_a": ..., "n_x": ...}
    """

    def __init__(self, cell="lstm", patience=5, **kwargs):
        super().__init__(**kwargs)
        self.cell = cell
        self.patience = patience

    def build(self, hp):
        return point_forecaster(hp.Int("n_x", 5, 25), hp.Int("n_a", 16, 128), cell=self.cell)

    def windows(self, hp, train, validation=None):
        """`(scaler, (x, y), (x_val, y_val) or None)` for window length `hp["n_x"]`."""
        window = hp.Int("n_x", 5, 25)
        train = np.asarray(train, dtype="float64")
        scaler = MinMaxScaler().fit(train)
        training = sliding_windows(scaler.transform(train), window)
        if validation is None:
            return scaler, training, None
        joined = scaler.transform(np.concatenate([train[-window:], np.asarray(validation, dtype="float64")]))
        return scaler, training, sliding_windows(joined, window)

    def fit(self, hp, model, train, validation_data=None, callbacks=None, **kwargs):
        _, training, validating = self.windows(hp, train, validation_data)
        stopping = keras.callbacks.EarlyStopping(monitor="loss", patience=self.patience, restore_best_weights=True)
        kwargs.setdefault("verbose", 0)
        with training_graph_released():  # a functional network, without the kerasts networks' mixin
            return model.fit(*training, validation_data=validating, callbacks=[stopping] + list(callbacks or []),
                             shuffle=False, **kwargs)
