"""Loading what kerasts saved, with damage named: a `.keras` file and an exported SavedModel.

Keras reports an empty or truncated `.keras` file as "File not found" and TensorFlow a truncated
variables file as an `IndexError`; these check the files first and turn what is left into one
`ValueError` naming the path, so a user knows which file to restore.
"""

import os
import zipfile

import keras
import tensorflow as tf
from google.protobuf.message import DecodeError

# What Keras and TensorFlow raise while reading a damaged file, beyond the checks made here first.
_READ_ERRORS = (ValueError, OSError, KeyError, TypeError, IndexError, zipfile.BadZipFile, DecodeError,
                tf.errors.OpError)


def load_model(filepath, **kwargs):
    """`keras.saving.load_model` for a `.keras` file, refusing a missing, empty, truncated or corrupted
    file with a `ValueError` naming it; `kwargs` go to Keras.

    Example:

    >>> model = kerasts.export.load_model("deepar.keras")
    """
    filepath = os.fspath(filepath)
    if not os.path.isfile(filepath):
        raise ValueError(f"There is no model file {filepath!r}.")
    if not zipfile.is_zipfile(filepath):
        raise ValueError(f"{filepath!r} is not a .keras model file (a zip archive): it is empty, truncated "
                         f"or another kind of file ({os.path.getsize(filepath)} bytes).")
    try:
        with zipfile.ZipFile(filepath) as archive:
            if "config.json" not in archive.namelist():
                raise ValueError("it has no config.json")
            damaged_member = archive.testzip()
        if damaged_member is not None:
            raise ValueError(f"its member {damaged_member!r} fails its checksum")
        return keras.saving.load_model(filepath, **kwargs)
    except _READ_ERRORS as error:
        raise ValueError(f"The model file {filepath!r} is damaged or not a kerasts model: "
                         f"{type(error).__name__}: {error}") from error


def load_saved_model(directory, **kwargs):
    """`tf.saved_model.load` for a directory `export_saved_model` (or `model.export`) wrote, refusing a
    missing directory, one without its graph or variables, and a truncated file, with a `ValueError`
    naming the directory; `kwargs` go to TensorFlow.

    Example:

    >>> served = kerasts.export.load_saved_model("deepar_saved_model")
    >>> served.serve(...)
    """
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise ValueError(f"There is no SavedModel directory {directory!r}.")
    if not any(os.path.isfile(os.path.join(directory, name)) for name in ("saved_model.pb", "saved_model.pbtxt")):
        raise ValueError(f"{directory!r} is not a SavedModel: it has no saved_model.pb.")
    variables = os.path.join(directory, "variables")
    if os.path.isdir(variables) and os.listdir(variables) and not os.path.isfile(
            os.path.join(variables, "variables.index")):
        raise ValueError(f"The SavedModel {directory!r} is incomplete: variables/variables.index is missing.")
    try:
        return tf.saved_model.load(directory, **kwargs)
    except _READ_ERRORS as error:
        raise ValueError(f"The SavedModel {directory!r} is damaged or incomplete: {type(error).__name__}: "
                         f"{str(error).splitlines()[0] if str(error) else ''}") from error
