"""The harness's checks must be able to fail: each broken layer here trips exactly one."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from kerasts._training_graph_release import TrainingGraphReleaseMixin
from kerasts.export import Endpoint, ServingEndpointsMixin
from kerasts.testing import TestCase

INPUTS = np.random.default_rng(0).normal(size=(8, 4)).astype("float32")


@keras.saving.register_keras_serializable(package="kerasts_harness_tests")
class GoodDense(keras.layers.Layer):
    def __init__(self, units=3, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer="glorot_uniform")

    def call(self, inputs):
        return keras.ops.matmul(inputs, self.kernel)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@keras.saving.register_keras_serializable(package="kerasts_harness_tests")
class ForgetsUnitsInConfig(GoodDense):
    def get_config(self):
        config = super().get_config()
        del config["units"]
        return config


@keras.saving.register_keras_serializable(package="kerasts_harness_tests")
class DoesNotTrain(GoodDense):
    def call(self, inputs):
        # The kernel gets a zero gradient, so the optimizer cannot move the loss.
        return keras.ops.matmul(inputs, self.kernel * 0.0) + 1.0


@keras.saving.register_keras_serializable(package="kerasts_harness_tests")
class UnsavedRandomOffset(GoodDense):
    def __init__(self, units=3, **kwargs):
        super().__init__(units, **kwargs)
        # Neither a weight nor config: drawn anew on reload.
        self.offset = np.random.default_rng().normal(size=(units,)).astype("float32")

    def call(self, inputs):
        return super().call(inputs) + self.offset


@keras.saving.register_keras_serializable(package="kerasts_harness_tests")
class PythonSideEffect(GoodDense):
    def __init__(self, units=3, **kwargs):
        super().__init__(units, **kwargs)
        self.calls = 0

    def call(self, inputs):
        # A Python counter is frozen into a traced graph, so the export disagrees.
        self.calls += 1
        return super().call(inputs) + float(self.calls)


@keras.saving.register_keras_serializable(package="kerasts_harness_tests")
class HardCodedBatchSize(GoodDense):
    def call(self, inputs):
        # Works at the global batch of 8, breaks on each replica's 4.
        return keras.ops.reshape(super().call(inputs), (8, self.units))


def _harness():
    return TestCase()


def test_good_layer_passes_every_check():
    _harness().run_layer_test(GoodDense, {"units": 3}, INPUTS, expected_output_shape=(8, 3))


def test_config_check_fails_when_an_argument_is_dropped():
    with pytest.raises(AssertionError, match="lacks constructor argument 'units'"):
        _harness().check_config_round_trip(ForgetsUnitsInConfig, {"units": 3})


def test_config_check_fails_when_the_class_is_not_registered():
    class Unregistered(GoodDense):
        pass

    with pytest.raises(Exception):
        _harness().check_config_round_trip(Unregistered, {"units": 3})


def test_shape_check_fails_on_a_wrong_shape():
    with pytest.raises(AssertionError, match=r"Output shape \(8, 3\) differs"):
        _harness().run_layer_test(GoodDense, {"units": 3}, INPUTS, expected_output_shape=(8, 4))


def test_training_check_fails_when_the_layer_has_no_gradient_path():
    class Detached(GoodDense):
        def call(self, inputs):
            return keras.ops.matmul(inputs, keras.ops.stop_gradient(self.kernel))

    with pytest.raises(AssertionError, match="One training step failed: ValueError: No gradients"):
        _harness().check_training_step_lowers_loss(
            keras.Sequential([keras.Input((4,)), Detached(3)]), INPUTS, np.zeros((8, 3), "float32"), "mse"
        )


def test_training_check_fails_when_the_fit_leaves_its_graph_in_the_gradient_registry():
    # A plain Keras model's fit registers a custom gradient (the optimizer's all_reduce) that TensorFlow never drops.
    with pytest.raises(AssertionError, match="TrainingGraphReleaseMixin before"):
        _harness().check_training_step_lowers_loss(
            keras.Sequential([keras.Input((4,)), GoodDense(3)]), INPUTS, np.zeros((8, 3), "float32"), "mse")


def test_training_check_fails_when_the_loss_cannot_fall():
    with pytest.raises(AssertionError, match="did not lower the loss"):
        _harness().run_layer_test(
            DoesNotTrain, {"units": 3}, INPUTS, (8, 3),
            run_saving_check=False, run_export_check=False, run_distribution_check=False,
        )


def test_keras_file_check_fails_when_state_is_not_saved():
    with pytest.raises(AssertionError, match="After .keras save and reload"):
        _harness().run_layer_test(
            UnsavedRandomOffset, {"units": 3}, INPUTS, (8, 3),
            run_training_check=False, run_export_check=False, run_distribution_check=False,
        )


def test_export_check_fails_when_the_graph_differs_from_eager():
    with pytest.raises(AssertionError, match="Endpoint .serve. after SavedModel export and reload"):
        _harness().run_layer_test(
            PythonSideEffect, {"units": 3}, INPUTS, (8, 3),
            run_training_check=False, run_saving_check=False, run_distribution_check=False,
        )


def test_distribution_check_fails_when_a_layer_assumes_the_global_batch():
    with pytest.raises(AssertionError, match="Fit under MirroredStrategy failed"):
        _harness().run_layer_test(
            HardCodedBatchSize, {"units": 3}, INPUTS, (8, 3),
            run_training_check=False, run_saving_check=False, run_export_check=False,
        )


@keras.saving.register_keras_serializable(package="kerasts_harness_tests")
class TinyRegressor(TrainingGraphReleaseMixin, keras.Model):
    def __init__(self, units=2, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.hidden = keras.layers.Dense(units)

    def call(self, inputs):
        return self.hidden(inputs)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def test_model_test_runs_every_check_including_serving_without_kerasts():
    target = np.random.default_rng(1).normal(size=(8, 2)).astype("float32")
    _harness().run_model_test(TinyRegressor, {"units": 2}, INPUTS, (8, 2), target=target, loss="mse")


@keras.saving.register_keras_serializable(package="kerasts_harness_tests")
class TwoEndpointRegressor(ServingEndpointsMixin, TinyRegressor):
    """Serves `serve` and `doubled`, which takes a second input."""

    def serving_signature(self):
        return tf.TensorSpec((None, 4), tf.float32, name="inputs")

    def serving_endpoints(self, **options):
        endpoints = super().serving_endpoints(**options)
        endpoints["doubled"] = Endpoint(lambda inputs, factor: self(inputs) * factor,
                                        [self.serving_signature(), tf.TensorSpec((), tf.float32, name="factor")])
        return endpoints


def test_every_declared_endpoint_is_served_and_compared_in_a_fresh_process():
    target = np.random.default_rng(1).normal(size=(8, 2)).astype("float32")
    with pytest.raises(AssertionError, match=r"declares endpoint\(s\) \['doubled'\] that the test gives no inputs"):
        _harness().run_model_test(TwoEndpointRegressor, {"units": 2}, INPUTS, (8, 2), target=target, loss="mse",
                                  run_training_check=False, run_saving_check=False, run_distribution_check=False)
    _harness().run_model_test(TwoEndpointRegressor, {"units": 2}, INPUTS, (8, 2), target=target, loss="mse",
                              run_training_check=False, run_saving_check=False, run_distribution_check=False,
                              endpoint_inputs={"doubled": (INPUTS, np.float32(2.0))})


def test_serving_without_kerasts_names_a_failure_and_outlives_its_process(tmp_path):
    from kerasts.export import export_saved_model
    from kerasts.testing import test_case

    model = TinyRegressor(2)
    model(INPUTS)
    export_saved_model(model, str(tmp_path))
    wrong_width = np.zeros((8, 3), "float32")
    with pytest.raises(AssertionError, match="without kerasts failed:(.|\n)*Can not cast TensorSpec"):
        test_case._serve_without_kerasts(str(tmp_path), {"serve": (wrong_width,)})
    for _ in range(2):  # a server that died is started again for the next model
        served = test_case._serve_without_kerasts(str(tmp_path), {"serve": (INPUTS,)})
        np.testing.assert_allclose(served["serve"][0], model(INPUTS), rtol=1e-5)
        test_case._SERVING_PROCESS._process.kill()
        test_case._SERVING_PROCESS._process.wait()


def test_endpoint_check_fails_when_an_endpoint_differs_after_export():
    class Drifting(TwoEndpointRegressor):
        def serving_endpoints(self, **options):
            endpoints = super().serving_endpoints(**options)

            def doubled(inputs, factor):  # a Python counter, frozen into the graph at its trace-time value
                self.calls = getattr(self, "calls", 0) + 1
                return self(inputs) * factor + float(self.calls)

            endpoints["doubled"] = endpoints["doubled"]._replace(function=doubled)
            return endpoints

    model = Drifting(2)
    model(INPUTS)
    with pytest.raises(AssertionError, match="Endpoint 'doubled' after SavedModel export and reload"):
        _harness().check_saved_model_endpoints(model, {"serve": (INPUTS,), "doubled": (INPUTS, np.float32(2.0))})
