"""LiteRT (TensorFlow Lite) export of a model's serving endpoints, converted from its SavedModel.

The endpoints are those `export_saved_model` writes, so both files answer alike; the conversion keeps
to LiteRT's built-in operators, which its stand-alone interpreter (`ai-edge-litert`, the `litert`
extra) runs without TensorFlow. What it buys: a lone query answered without TensorFlow's per-call
overhead (benchmarks/RESULTS.md, "A lone two-tower query through LiteRT").
"""

import os
import tempfile

import tensorflow as tf

from kerasts._files import check_output_path, replaced_atomically
from kerasts.export.saved_model import export_saved_model, serving_endpoints


def export_litert(model, path, endpoints=None, **options):
    """Writes `model`'s serving endpoints (`serving_endpoints(model, **options)`) as one `.tflite` file
    at `path`, atomically, each endpoint a LiteRT signature of the same name.

    Args:
        endpoints: names of the endpoints to convert; by default `model.litert_endpoints()` where the
            model declares it, else all. An endpoint whose graph needs TensorFlow operators that
            LiteRT lacks (string splitting, for one) is refused naming them.
    """
    path = check_output_path(path)
    if not path.endswith(".tflite"):
        raise ValueError(f"A LiteRT file's name ends in '.tflite', got {path!r}.")
    declared = serving_endpoints(model, **options)
    if endpoints is None:
        endpoints = model.litert_endpoints() if hasattr(model, "litert_endpoints") else list(declared)
    endpoints = [endpoints] if isinstance(endpoints, str) else list(endpoints)
    if not endpoints:
        raise ValueError(f"{type(model).__name__} names no endpoint to convert to LiteRT by default (it serves "
                         f"{sorted(declared)}): pass `endpoints`.")
    unknown = sorted(set(endpoints) - set(declared))
    if unknown:
        raise ValueError(f"{type(model).__name__} serves {sorted(declared)}, not {unknown}.")
    with tempfile.TemporaryDirectory() as directory:
        saved = os.path.join(directory, "saved_model")
        export_saved_model(model, saved, **options)
        try:
            flatbuffer = _converted(saved, endpoints)
        except Exception as error:  # the converter raises its own ConverterError with MLIR's diagnostics
            failing = endpoints if len(endpoints) == 1 else [name for name in endpoints if not _converts(saved, name)]
            operators = sorted({line.split("'")[1] for line in str(error).splitlines()
                                if "'tf." in line and line.count("'") >= 2})
            raise ValueError(f"The endpoint(s) {failing or endpoints} of {type(model).__name__} need TensorFlow "
                             f"operators LiteRT lacks ({', '.join(operators) or 'see the cause'}): serve them from "
                             "the SavedModel, or convert only endpoints that avoid them.") from error
    with replaced_atomically(path) as partial:
        with open(partial, "wb") as handle:
            handle.write(flatbuffer)
    return path


def _converted(saved_model, endpoints):
    converter = tf.lite.TFLiteConverter.from_saved_model(saved_model, signature_keys=endpoints)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    return converter.convert()


def _converts(saved_model, endpoint):
    try:
        _converted(saved_model, [endpoint])
    except Exception:  # noqa: BLE001 - whatever stops the conversion is the answer
        return False
    return True


def load_litert(path, num_threads=1):
    """A LiteRT interpreter (`ai_edge_litert`) over the file `export_litert` wrote, refusing a missing or
    damaged file with a `ValueError` naming it. Its `get_signature_runner(name)` calls an endpoint with
    numpy arrays by input name.

    Example:

    >>> runner = kerasts.export.load_litert("two_tower.tflite").get_signature_runner("recommend_lists")
    >>> runner(HISTORY=np.array([["m1", "m2"]], dtype=object), seen_item_ids=np.array([[""]], dtype=object))
    """
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError as error:
        raise ImportError("Running a LiteRT file needs the ai-edge-litert package: pip install "
                          "'kerasts[litert]'.") from error
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ValueError(f"There is no LiteRT file {path!r}.")
    try:
        interpreter = Interpreter(model_path=path, num_threads=num_threads)
        interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as error:
        raise ValueError(f"The LiteRT file {path!r} is damaged or not a LiteRT model: {error}") from error
    return interpreter
