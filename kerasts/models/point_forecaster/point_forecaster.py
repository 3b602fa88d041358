import keras

from kerasts.layers.recurrent_stack import recurrent_cell
from kerasts.optimizers import Adam


def point_forecaster(window, units, cell="lstm", output_activation="relu"):
    """A compiled one-step-ahead forecaster for one scaled series: `window` past values -> the next.

    A recurrent layer of `units` over any registered cell (`"lstm"`, `"nested_lstm"`, ...; see
    `kerasts.layers.RecurrentStack`), then one output unit with `output_activation`; mean squared
    error; Adam with learning rate 1e-3, betas 0.9 and 0.999, epsilon 1e-8; gradients clipped to
    [-1, 1] element-wise. The ReLU output (as specified for this forecaster) cannot go below 0, i.e.
    below the middle of the [-1, 1] range the series is scaled to: it suits series whose forecasts
    stay in the upper half.
    """
    recurrent = keras.layers.RNN(recurrent_cell(cell, units, "cell"), name="recurrent")
    inputs = keras.Input((window, 1))
    model = keras.Model(inputs, keras.layers.Dense(1, activation=output_activation)(recurrent(inputs)))
    model.compile(Adam(learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-8, clipvalue=1.0),
                  loss="mean_squared_error")
    return model
