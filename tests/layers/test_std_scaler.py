import numpy as np
import pytest

import kerasts
from kerasts.layers import StdScaler
from kerasts.testing import TestCase


class StdScalerTest(TestCase):
    def test_harness(self):
        values = np.random.default_rng(0).normal(loc=100, size=(8, 12)).astype("float32")
        # The scaler has no weights: training a model of it alone has nothing to fit.
        config = {"minimum_scale": 1e-3, "relative_floor": 1e-4, "zero_fraction": 1e-3, "axis": 1}
        self.run_layer_test(StdScaler, config, values,
                            expected_output_shape=((8, 12), (8, 1), (8, 1)),
                            run_training_check=False, run_distribution_check=False)


def test_location_is_the_mean_and_scale_the_deviation_of_observed_values():
    values = np.array([[8000.0, 8040.0, np.nan, 7960.0], [1.0, 3.0, 5.0, 7.0]], "float32")
    scaled, loc, scale = StdScaler()(values, ~np.isnan(values))
    np.testing.assert_allclose(np.asarray(loc)[:, 0], [8000.0, 4.0], rtol=1e-6)
    np.testing.assert_allclose(np.asarray(scale)[:, 0], [np.sqrt(3200 / 3), np.sqrt(5.0)], rtol=1e-5)
    # A series moving half a percent around 8,000 reaches the network as moves of about one.
    np.testing.assert_allclose(np.asarray(scaled)[0], [0.0, 40 / np.sqrt(3200 / 3), 0.0, -40 / np.sqrt(3200 / 3)],
                               rtol=1e-4, atol=1e-5)


def test_constant_single_and_resting_series_fall_back():
    values = np.array([[5.0, 5.0, 5.0], [np.nan, 2.0, np.nan], [np.nan, np.nan, np.nan], [0.0, 0.0, 0.0]], "float32")
    scaled, loc, scale = StdScaler(minimum_scale=1e-3, zero_fraction=0.01)(values, ~np.isnan(values))
    # Constant or single values: their mean absolute value; nothing observed, or only zeros: a
    # series at rest, scaled by a hundredth of the batch's mean absolute value, (15 + 2) / 7.
    np.testing.assert_allclose(np.asarray(scale)[:, 0], [5.0, 2.0, 0.17 / 7, 0.17 / 7], rtol=1e-5)
    np.testing.assert_allclose(np.asarray(loc)[:, 0], [5.0, 2.0, 0.0, 0.0])
    assert np.all(np.asarray(scaled) == 0.0)
    _, _, floored = StdScaler(minimum_scale=1e-3)(np.zeros((2, 3), "float32"))
    np.testing.assert_allclose(np.asarray(floored), 1e-3)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="`minimum_scale` must be positive"):
        StdScaler(minimum_scale=0.0)
    with pytest.raises(ValueError, match=r"`relative_floor` must be in \[0, 1\)"):
        StdScaler(relative_floor=1.0)
    with pytest.raises(ValueError, match=r"`zero_fraction` must be in \(0, 1\]"):
        StdScaler(zero_fraction=0.0)


def test_location_and_scale_map_parameters_back_to_the_data():
    values = np.array([[100.0, 110.0, 90.0]], "float32")
    scaled, loc, scale = StdScaler()(values)
    output = kerasts.layers.DistributionOutput("student_t")
    parameters = np.asarray(output(np.asarray(scaled)[..., None], target_scale=scale, target_loc=loc))
    unscaled = np.asarray(output(np.asarray(scaled)[..., None]))
    np.testing.assert_allclose(parameters[..., 0], 100.0 + np.asarray(scale) * unscaled[..., 0], rtol=1e-5)
    np.testing.assert_allclose(parameters[..., 1], np.asarray(scale) * unscaled[..., 1], rtol=1e-5)
    np.testing.assert_allclose(parameters[..., 2], unscaled[..., 2])
    with pytest.raises(ValueError, match="negative_binomial likelihood has no location parameter"):
        kerasts.layers.DistributionOutput("negative_binomial")(np.asarray(scaled)[..., None], target_scale=scale,
                                                              target_loc=loc)
