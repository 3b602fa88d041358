import numpy as np
import pytest

import kerasts
from kerasts.layers import MeanScaler
from kerasts.testing import TestCase


class MeanScalerTest(TestCase):
    def test_harness(self):
        values = np.abs(np.random.default_rng(0).normal(size=(8, 12))).astype("float32") * 50
        # The scaler has no weights: training a model of it alone has nothing to fit.
        self.run_layer_test(MeanScaler, {"minimum_scale": 1e-3, "axis": 1}, values,
                            expected_output_shape=((8, 12), (8, 1)),
                            run_training_check=False, run_distribution_check=False)


def test_scale_is_mean_absolute_observed_value_with_batch_fallback_and_floor():
    values = np.array([[2.0, -4.0, np.nan], [np.nan, np.nan, np.nan], [0.0, 0.0, 0.0]], "float32")
    observed = ~np.isnan(values)
    scaled, scale = MeanScaler(minimum_scale=0.5)(values, observed)
    # Series 0: (2 + 4) / 2 = 3. Series 1 has nothing observed and series 2 only zeros:
    # both take the batch's mean absolute value, 6 / 5 = 1.2.
    np.testing.assert_allclose(np.asarray(scale)[:, 0], [3.0, 1.2, 1.2], rtol=1e-6)
    np.testing.assert_allclose(np.asarray(scaled)[0], [2 / 3, -4 / 3, 0.0], rtol=1e-6)
    assert np.all(np.isfinite(np.asarray(scaled)))
    _, floored = MeanScaler(minimum_scale=10.0)(values, observed)
    np.testing.assert_allclose(np.asarray(floored)[:, 0], [10.0, 10.0, 10.0])


def test_all_zero_batch_takes_the_floor():
    _, scale = MeanScaler(minimum_scale=1e-3)(np.zeros((2, 4), "float32"))
    np.testing.assert_allclose(np.asarray(scale), 1e-3)


def test_minimum_scale_must_be_positive():
    with pytest.raises(ValueError, match="`minimum_scale` must be positive"):
        MeanScaler(minimum_scale=0.0)


def test_scaler_feeds_distribution_output():
    values = np.array([[10.0, 30.0], [100.0, 300.0]], "float32")
    scaled, scale = MeanScaler()(values)
    parameters = kerasts.layers.DistributionOutput("gaussian")(scaled[..., None], target_scale=scale)
    assert tuple(parameters.shape) == (2, 2, 2)
