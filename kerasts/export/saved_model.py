"""SavedModel export of every kerasts model through one `keras.export.ExportArchive`.

A model declares what it serves in `serving_endpoints(**options)`: endpoint names mapped to the
function and its input signature (with the real dtypes: string ids, int64 timestamps). The
archive writes them all, plus Keras's `serving_default` alias of the first. The SavedModel needs
only TensorFlow to load; the shared test harness calls every declared endpoint after a reload, in
this process and in one that never imports kerasts, and compares it with the model.
"""

import collections

import keras

from kerasts._files import check_output_path, replaced_atomically

Endpoint = collections.namedtuple("Endpoint", ["function", "input_signature"])
Endpoint.__doc__ = """A serving endpoint: `function(*inputs)` and the `tf.TensorSpec` structure of each
positional input (a list, as `keras.export.ExportArchive.add_endpoint` takes it)."""


def serving_endpoints(model, **options):
    """The endpoints a model serves: what it declares, or `serve` (its `call` at inference) for a
    Keras model without `serving_endpoints`."""
    if hasattr(model, "serving_endpoints"):
        return model.serving_endpoints(**options)
    if options:
        raise TypeError(f"{type(model).__name__} takes no export options, got {sorted(options)}.")
    return _serve_endpoint(model)


def export_saved_model(model, path, **options):
    """Writes the endpoints `serving_endpoints(model, **options)` to a SavedModel at `path`, atomically
    (written beside it, then renamed into place, replacing what was there).

    The model and what `model.export_resources()` returns (e.g. a retrieval index) are tracked, so
    their variables and lookup tables travel with the functions.
    """
    check_output_path(path)
    endpoints = serving_endpoints(model, **options)
    if not endpoints:
        raise ValueError(f"{type(model).__name__} declares no serving endpoints to export.")
    archive = keras.export.ExportArchive()
    archive.track(model)
    for resource in getattr(model, "export_resources", list)():
        archive.track(resource)
    for name, endpoint in endpoints.items():
        archive.add_endpoint(name, endpoint.function, input_signature=list(endpoint.input_signature))
    with replaced_atomically(path) as partial:  # an interrupted export leaves the previous one whole
        archive.write_out(partial, verbose=False)


class ServingEndpointsMixin:
    """Put before `keras.Model` in a model's bases: `model.export(path, **options)` then writes every
    endpoint the model declares, through `export_saved_model`.

    By default a model serves `serve`, its `call` at inference, on `serving_signature()`; models that
    serve more override `serving_endpoints` and add theirs to `super().serving_endpoints()`.
    `format="litert"` converts the endpoints to a `.tflite` file (`kerasts.export.export_litert`;
    `endpoints=` names which); Keras's other formats get `serving_signature()` as their input signature.
    """

    def serving_signature(self):
        """TensorSpecs of `call`'s inputs; by default what Keras infers from a functional model."""
        return _inferred_signature(self)

    def serving_endpoints(self, **options):
        """`{name: Endpoint}` of what the SavedModel serves; `options` are those of `export`."""
        if options:
            raise TypeError(f"{type(self).__name__}.export takes no options, got {sorted(options)}.")
        return _serve_endpoint(self)

    def export_resources(self):
        """Trackable objects besides the model that the endpoints use (e.g. a retrieval index)."""
        return []

    def export(self, filepath, format="tf_saved_model", verbose=None, input_signature=None, **options):
        if format == "litert":  # the declared endpoints, not Keras's conversion of `call` alone
            from kerasts.export.litert import export_litert  # here: that module builds on this one

            return export_litert(self, filepath, **options)
        if format != "tf_saved_model":
            return super().export(filepath, format=format, verbose=verbose,
                                  input_signature=input_signature or [self.serving_signature()], **options)
        if input_signature is not None:
            raise ValueError(f"{type(self).__name__} declares its own input signatures (serving_endpoints); "
                             "export takes none.")
        return export_saved_model(self, filepath, **options)


def _inferred_signature(model):
    from keras.src.export.export_utils import get_input_signature

    return get_input_signature(model)[0]


def _serve_endpoint(model):
    signature = model.serving_signature() if hasattr(model, "serving_signature") else _inferred_signature(model)
    return {"serve": Endpoint(lambda inputs: model(inputs, training=False), [signature])}
