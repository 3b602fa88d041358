import keras
import numpy as np
import pytest

import kerasts
from kerasts.baselines import MLPForecaster


def test_a_seeded_fit_repeats_whatever_ran_before_it():
    panel = kerasts.data.align_target(kerasts.data.synthetic_forecast_table(3, 24 * 6, seed=0), "H")

    def paths(global_seed):
        keras.utils.set_random_seed(global_seed)  # what an earlier model in the process left behind
        forecaster = MLPForecaster(24, 12, hidden_units=8, epochs=2, seed=3).fit(panel)
        return forecaster.predict_paths(panel, num_samples=5, seed=1)

    np.testing.assert_array_equal(paths(0), paths(99))
    assert MLPForecaster(24, 12, seed=3).get_config()["seed"] == 3
    with pytest.raises(ValueError, match="MLPForecaster is not fitted"):
        MLPForecaster(24, 12).predict_paths(panel)
