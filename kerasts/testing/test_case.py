"""The one harness every kerasts layer and model test runs through.

Each check is a method that raises `AssertionError` with what differed, so that a test
of a broken layer can show that the check really fails (see tests/testing/).
"""

import json
import os
import subprocess
import sys
import tempfile
import textwrap
import unittest

import keras
import numpy as np
import tensorflow as tf

from kerasts._distributed_build import DistributedBuildMixin
from kerasts._training_graph_release import TrainingGraphReleaseMixin, replica_sum_gradient_names
from kerasts.export import ServingEndpointsMixin, export_litert, export_saved_model, load_litert, serving_endpoints
from kerasts.optimizers import Adam
from kerasts.testing.devices import logical_cpu_names

# float32 outputs recomputed after a reload may differ in the last bits.
OUTPUT_TOLERANCE = 1e-5


def _as_numpy(structure):
    return tf.nest.map_structure(lambda tensor: np.asarray(tensor), structure)


def _assert_all_close(expected, actual, what):
    tf.nest.assert_same_structure(expected, actual, check_types=False)
    for expected_array, actual_array in zip(tf.nest.flatten(_as_numpy(expected)), tf.nest.flatten(_as_numpy(actual))):
        if expected_array.shape != actual_array.shape:
            raise AssertionError(f"{what}: shape {actual_array.shape} differs from {expected_array.shape}.")
        if expected_array.dtype.kind in "OSU":  # ids: equal, not close
            if not np.array_equal(expected_array.astype(bytes), actual_array.astype(bytes)):
                raise AssertionError(f"{what}: string outputs differ.")
            continue
        if not np.allclose(expected_array, actual_array, rtol=OUTPUT_TOLERANCE, atol=OUTPUT_TOLERANCE):
            worst = np.max(np.abs(expected_array - actual_array))
            raise AssertionError(f"{what}: outputs differ (largest absolute difference {worst:.3g}).")


def _shapes(structure):
    return tf.nest.map_structure(lambda tensor: tuple(tensor.shape), structure)


class TestCase(unittest.TestCase):
    """Base class with `run_layer_test` and `run_model_test`.

    Both run, in order: config round trip, output shapes, one training step lowering
    the loss, `.keras` save/reload with equal outputs, SavedModel export (`model.export`)
    reloaded with `tf.saved_model.load` where every endpoint the model declares
    (`serving_endpoints`) answers as the model does (also in a fresh Python process that does
    not import kerasts, for models, and in LiteRT's interpreter for those a model converts to
    it), and a fit under `tf.distribute.MirroredStrategy`
    over two logical CPUs. Each `run_*_check` flag turns one off for a documented reason.
    """

    def run_layer_test(
        self,
        layer_cls,
        init_kwargs,
        input_data,
        expected_output_shape,
        call_kwargs=None,
        target=None,
        loss="mean_squared_error",
        run_training_check=True,
        run_saving_check=True,
        run_export_check=True,
        run_distribution_check=True,
    ):
        """Checks a layer by wrapping it in a functional model.

        Args:
            layer_cls: the layer class.
            init_kwargs: constructor arguments; each must come back from `get_config`.
            input_data: a batch of inputs (array, or a dict/list of arrays for
                multi-input layers), batch axis first.
            expected_output_shape: shape (or structure of shapes) of the output.
            call_kwargs: extra keyword tensors for `call` (fed as model inputs).
            target: training target; a fixed random one of the output's shape if None.
            loss: loss for the training and distribution checks.
        """
        call_kwargs = call_kwargs or {}
        keras.utils.set_random_seed(0)  # the same weights every run: a check passes or fails for good, never by chance
        self.check_config_round_trip(layer_cls, init_kwargs)

        def build_model():
            layer = layer_cls(**init_kwargs)
            if isinstance(input_data, dict):
                positional = {name: _symbolic_input(value, name=name) for name, value in input_data.items()}
            else:
                positional = tf.nest.map_structure(_symbolic_input, input_data)
            keyword = {name: _symbolic_input(value, name=name) for name, value in call_kwargs.items()}
            return LayerTestModel([positional, keyword] if keyword else positional, layer(positional, **keyword))

        model_input = [input_data, call_kwargs] if call_kwargs else input_data
        model = build_model()
        self.check_output_shapes(model, model_input, expected_output_shape)
        if target is None:
            target = _random_like(model(model_input))
        self._run_model_checks(
            build_model, model, model_input, target, loss,
            run_training_check, run_saving_check, run_export_check, run_distribution_check,
            check_export_without_kerasts=False,
        )

    def run_model_test(
        self,
        model_cls,
        init_kwargs,
        input_data,
        expected_output_shape,
        target,
        loss,
        run_training_check=True,
        run_saving_check=True,
        run_export_check=True,
        run_distribution_check=True,
        endpoint_inputs=None,
        export_options=None,
        prepare_model=None,
    ):
        """Checks a `keras.Model` subclass built from `init_kwargs`.

        The SavedModel check calls every endpoint the model declares, also in a Python process
        that never imports kerasts, as users serve it. A model that computes its own loss (in
        `compute_loss`, as retrieval models do) takes `target=None, loss=None`. String
        inputs must be given as `tf.constant`s: Keras does not take numpy string arrays.

        Args (besides those of `run_layer_test`):
            endpoint_inputs: dict of endpoint name -> tuple of its positional inputs, for every
                endpoint besides `serve` (which gets `input_data`); a declared endpoint without
                inputs fails the check.
            export_options: keyword arguments of `model.export` (e.g. `{"k": 5}`).
            prepare_model: called on the built model before the export check, for endpoints
                that need more than the weights (e.g. a retrieval index).
        """
        keras.utils.set_random_seed(0)  # the same weights every run: a check passes or fails for good, never by chance
        self.check_config_round_trip(model_cls, init_kwargs)

        config = model_cls(**init_kwargs).get_config()

        def build_model():
            # From the config, so layers passed in `init_kwargs` (towers) are fresh in each build.
            return model_cls.from_config(config)

        model = build_model()
        self.check_output_shapes(model, input_data, expected_output_shape)
        self._run_model_checks(
            build_model, model, input_data, target, loss,
            run_training_check, run_saving_check, run_export_check, run_distribution_check,
            check_export_without_kerasts=True, endpoint_inputs=endpoint_inputs, export_options=export_options,
            prepare_model=prepare_model,
        )

    def _run_model_checks(self, build_model, model, model_input, target, loss, run_training_check,
                          run_saving_check, run_export_check, run_distribution_check, check_export_without_kerasts,
                          endpoint_inputs=None, export_options=None, prepare_model=None):
        if run_training_check:
            self.check_training_step_lowers_loss(model, model_input, target, loss)
        if run_saving_check:
            self.check_keras_file_round_trip(model, model_input)
        if run_export_check:
            if prepare_model is not None:
                prepare_model(model)
            self.check_saved_model_endpoints(model, {"serve": (model_input,), **(endpoint_inputs or {})},
                                             export_options, without_kerasts=check_export_without_kerasts)
        if run_distribution_check:
            self.check_mirrored_strategy_fit(build_model, model_input, target, loss)

    # The checks, usable one by one.

    def check_config_round_trip(self, cls, init_kwargs):
        instance = cls(**init_kwargs)
        config = instance.get_config()
        for name, value in init_kwargs.items():
            if name not in config:
                raise AssertionError(f"{cls.__name__}.get_config() lacks constructor argument {name!r}.")
            if _plain(value) and config[name] != value:
                raise AssertionError(f"{cls.__name__}.get_config()[{name!r}] is {config[name]!r}, not {value!r}.")
        rebuilt = cls.from_config(config)
        if rebuilt.get_config() != config:
            raise AssertionError(f"{cls.__name__}.from_config(config).get_config() differs from config.")
        serialized = keras.saving.serialize_keras_object(instance)
        deserialized = keras.saving.deserialize_keras_object(serialized)
        if type(deserialized) is not cls or deserialized.get_config() != config:
            raise AssertionError(
                f"{cls.__name__} does not deserialize to itself: is it registered with "
                "@keras.saving.register_keras_serializable(package='kerasts')?"
            )

    def check_output_shapes(self, model, model_input, expected_output_shape):
        actual = _normalise_shape(_shapes(model(model_input)))
        if actual != _normalise_shape(expected_output_shape):
            raise AssertionError(f"Output shape {actual} differs from the expected {expected_output_shape}.")

    def check_training_step_lowers_loss(self, model, model_input, target, loss):
        model.compile(optimizer=Adam(learning_rate=0.01), loss=loss)
        before = float(model.evaluate(model_input, target, verbose=0, return_dict=True)["loss"])
        registered = replica_sum_gradient_names()
        _fit_or_fail(model, model_input, target, epochs=1, what="One training step")
        if replica_sum_gradient_names() - registered:
            raise AssertionError("The fit left its training graph in TensorFlow's gradient registry (kept for the life "
                                 "of the process): put kerasts._training_graph_release.TrainingGraphReleaseMixin "
                                 "before keras.Model in its bases.")
        after = float(model.evaluate(model_input, target, verbose=0, return_dict=True)["loss"])
        if not np.isfinite(after) or not after < before:
            raise AssertionError(f"One training step did not lower the loss: {before:.6g} -> {after:.6g}.")

    def check_keras_file_round_trip(self, model, model_input):
        expected = model(model_input)
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "model.keras")
            model.save(path)
            reloaded = keras.saving.load_model(path)
        _assert_all_close(expected, reloaded(model_input), "After .keras save and reload")

    def check_saved_model_endpoints(self, model, endpoint_inputs, export_options=None, without_kerasts=False):
        """Exports `model` and calls every endpoint it declares on the reloaded SavedModel (and, with
        `without_kerasts`, in a Python process that never imports kerasts), comparing each with the
        same function traced in this process; the endpoints a model converts to LiteRT by default
        (`litert_endpoints()`) are also run by LiteRT's interpreter.

        Args:
            endpoint_inputs: dict of endpoint name -> tuple of positional inputs, one per declared endpoint.
            export_options: keyword arguments of `model.export` and `model.serving_endpoints`.
        """
        export_options = export_options or {}
        endpoints = serving_endpoints(model, **export_options)
        untested = sorted(set(endpoints) - set(endpoint_inputs))
        if untested:
            raise AssertionError(f"{type(model).__name__} declares endpoint(s) {untested} that the test gives no "
                                 "inputs for (pass them in `endpoint_inputs`).")
        unknown = sorted(set(endpoint_inputs) - set(endpoints))
        if unknown:
            raise AssertionError(f"{type(model).__name__} declares no endpoint(s) {unknown}; it serves "
                                 f"{sorted(endpoints)}.")
        # Eager outputs: a traced function that differs from eager (a Python side effect frozen into
        # the graph, say) must show here.
        expected = {name: endpoint.function(*endpoint_inputs[name]) for name, endpoint in endpoints.items()}
        with tempfile.TemporaryDirectory() as directory:
            export_saved_model(model, directory, **export_options)
            reloaded = tf.saved_model.load(directory)
            for name in endpoints:
                if not hasattr(reloaded, name):
                    raise AssertionError(f"The SavedModel has no endpoint {name!r}.")
                _assert_all_close(expected[name], getattr(reloaded, name)(*endpoint_inputs[name]),
                                  f"Endpoint {name!r} after SavedModel export and reload")
            if without_kerasts:
                served = _serve_without_kerasts(directory, endpoint_inputs)
                for name in endpoints:
                    _assert_all_close(tf.nest.flatten(expected[name]), served[name],
                                      f"Endpoint {name!r} served in a process without kerasts")
            litert_endpoints = model.litert_endpoints() if hasattr(model, "litert_endpoints") else []
            if litert_endpoints:
                interpreter = load_litert(export_litert(model, os.path.join(directory, "model.tflite"),
                                                        **export_options))
                for name in litert_endpoints:
                    specs = tf.nest.flatten(endpoints[name].input_signature)
                    values = tf.nest.flatten(endpoint_inputs[name])
                    served = interpreter.get_signature_runner(name)(
                        **{spec.name: _as_numpy(value) for spec, value in zip(specs, values)})
                    _assert_all_close(expected[name], {key: served[key] for key in expected[name]},
                                      f"Endpoint {name!r} converted to LiteRT")

    def check_mirrored_strategy_fit(self, build_model, model_input, target, loss):
        devices = logical_cpu_names()
        if len(devices) < 2:
            raise AssertionError(
                "MirroredStrategy needs two logical CPUs: call kerasts.testing.configure_logical_cpus(2) "
                "before TensorFlow starts (the test suite's conftest.py does)."
            )
        # Plain reduction instead of collective ops: a collective aborted by one failing
        # fit would leave every later collective in the process aborted too.
        strategy = tf.distribute.MirroredStrategy(devices[:2], cross_device_ops=tf.distribute.ReductionToOneDevice())
        with strategy.scope():
            model = build_model()
            model.compile(optimizer=Adam(learning_rate=0.01), loss=loss)
            model(model_input)  # builds subclassed models, so their weights exist to compare
        if not model.trainable_weights:
            raise AssertionError("The model has no trainable weights to fit under MirroredStrategy.")
        before = [keras.ops.convert_to_numpy(weight) for weight in model.trainable_weights]
        losses = _fit_or_fail(model, model_input, target, epochs=2, what="Fit under MirroredStrategy").history["loss"]
        if not np.all(np.isfinite(losses)):
            raise AssertionError(f"Fit under MirroredStrategy gave non-finite losses {losses}.")
        if all(np.array_equal(old, keras.ops.convert_to_numpy(new)) for old, new in zip(before, model.trainable_weights)):
            raise AssertionError("Fit under MirroredStrategy left every trainable weight unchanged.")


@keras.saving.register_keras_serializable(package="kerasts")
class LayerTestModel(DistributedBuildMixin, ServingEndpointsMixin, TrainingGraphReleaseMixin, keras.Model):
    """The functional wrapper of `run_layer_test`; layers may take string features."""


def _plain(value):
    """Whether a constructor argument is plain data, kept as given in the config (layers are serialized)."""
    if isinstance(value, (tuple, list)):
        return all(_plain(item) for item in value)
    return isinstance(value, (int, float, str, bool, type(None)))


def _fit_or_fail(model, model_input, target, epochs, what):
    """Fits on the whole batch per step; any error is the check's failure, named as such."""
    try:
        return model.fit(model_input, target, batch_size=_batch_size(model_input), epochs=epochs, verbose=0,
                         shuffle=False)
    except Exception as error:  # noqa: BLE001 - whatever breaks the fit is the finding
        raise AssertionError(f"{what} failed: {type(error).__name__}: {error}") from error


def _symbolic_input(value, name=None):
    value = np.asarray(value)
    dtype = "string" if value.dtype.kind in "OSU" else str(value.dtype)
    return keras.Input(shape=value.shape[1:], dtype=dtype, name=name)


def _random_like(outputs):
    generator = np.random.default_rng(0)
    return tf.nest.map_structure(lambda tensor: generator.normal(size=tensor.shape).astype("float32"), _as_numpy(outputs))


def _batch_size(model_input):
    return len(tf.nest.flatten(model_input)[0])


def _normalise_shape(shape):
    if isinstance(shape, dict):
        return {key: _normalise_shape(value) for key, value in shape.items()}
    if isinstance(shape, (list, tuple)) and shape and isinstance(shape[0], (list, tuple, dict)):
        return tuple(_normalise_shape(item) for item in shape)  # lists and tuples of outputs alike
    return tuple(shape)


_SERVE_SCRIPT = textwrap.dedent(
    """
    import json, sys, traceback
    import numpy as np, tensorflow as tf
    # One request per line: {"directory", "inputs", "structures", "outputs"}; one answer line each.
    for line in sys.stdin:
        request = json.loads(line)
        try:
            exported = tf.saved_model.load(request["directory"])  # kept referenced: it owns the variables
            outputs = {}
            with np.load(request["inputs"], allow_pickle=True) as arrays:  # string inputs travel as object arrays
                for name, structure in request["structures"].items():
                    flat = [arrays[f"{name}__{index}"] for index in range(len(tf.nest.flatten(structure)))]
                    served = getattr(exported, name)(*tf.nest.pack_sequence_as(structure, flat))
                    for index, tensor in enumerate(tf.nest.flatten(served)):
                        outputs[f"{name}__{index}"] = np.asarray(tensor)
            np.savez(request["outputs"], **outputs)
            answer = "loading the SavedModel imported kerasts" if "kerasts" in sys.modules else "ok"
        except Exception:  # noqa: BLE001 - the failure is the answer
            answer = traceback.format_exc()
        print(json.dumps(answer), flush=True)
    """
)


class _ServingProcess:
    """A Python process that never imports kerasts and serves SavedModels on request. Started once per test
    process and reused: starting TensorFlow in a new interpreter for each model took about 5 s of each
    harness test."""

    def __init__(self):
        self._process = None
        self._log = None

    def serve(self, directory, inputs_path, structures, outputs_path):
        """Calls the endpoints; returns None, or the failure as text."""
        if self._process is None or self._process.poll() is not None:
            self._log = tempfile.TemporaryFile(mode="w+")
            self._process = subprocess.Popen(
                [sys.executable, "-c", _SERVE_SCRIPT], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=self._log, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}, cwd=tempfile.gettempdir())
        request = {"directory": directory, "inputs": inputs_path, "structures": structures, "outputs": outputs_path}
        try:
            self._process.stdin.write(json.dumps(request) + "\n")
            self._process.stdin.flush()
            line = self._process.stdout.readline()
        except BrokenPipeError:
            line = ""
        if not line:  # the process died: say how, and start a new one next time
            self._process.wait()
            self._log.seek(0)
            return f"the serving process exited with {self._process.returncode}:\n{self._log.read()[-2000:]}"
        answer = json.loads(line)
        if answer == "ok":
            return None
        self._process.kill()  # what failed (or imported kerasts) does not reach the next model's check
        self._process.wait()
        return answer


_SERVING_PROCESS = _ServingProcess()


def _serve_without_kerasts(directory, endpoint_inputs):
    """Calls each endpoint of the export in another Python process, one that never imports kerasts;
    returns each endpoint's outputs flattened."""
    inputs_path = os.path.join(directory, "inputs.npz")
    outputs_path = os.path.join(directory, "outputs.npz")
    arrays = {f"{name}__{index}": np.asarray(value)
              for name, inputs in endpoint_inputs.items() for index, value in enumerate(tf.nest.flatten(list(inputs)))}
    np.savez(inputs_path, **arrays)
    structures = {name: tf.nest.map_structure(lambda _: 0, list(inputs)) for name, inputs in endpoint_inputs.items()}
    failure = _SERVING_PROCESS.serve(directory, inputs_path, structures, outputs_path)
    if failure is not None:
        raise AssertionError(f"Serving the SavedModel without kerasts failed:\n{failure[-2000:]}")
    with np.load(outputs_path, allow_pickle=True) as outputs:  # string outputs are object arrays
        return {name: [outputs[f"{name}__{index}"] for index in range(sum(key.startswith(f"{name}__")
                                                                           for key in outputs.files))]
                for name in endpoint_inputs}
