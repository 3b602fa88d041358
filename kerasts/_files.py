"""The user's CSV tables, read with errors that name them, and where outputs go, checked before the work that
produces them starts."""

import contextlib
import json
import os
import shutil
import tempfile
import zipfile

import pandas as pd


def user_table(value, name, dtype):
    """The user's `name` table given as a DataFrame (copied: theirs is never changed) or a CSV path (read
    with `dtype`); `None` stays `None`. A `ValueError` names the table and path that does not exist, cannot
    be read, has no rows or is separated by something other than commas; a `TypeError` anything else."""
    if value is None:
        return None
    if isinstance(value, pd.DataFrame):
        return value.copy()
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"The {name} table must be a pandas DataFrame or a CSV path, got {type(value).__name__}.")
    path = os.fspath(value)
    if not os.path.exists(path):
        raise ValueError(f"The {name} table {path!r} does not exist.")
    try:
        table = pd.read_csv(path, dtype=dtype, keep_default_na=True)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise ValueError(f"Cannot read the {name} table from {path!r}: {error}") from error
    if table.empty:
        raise ValueError(f"The {name} table {path!r} has no rows, only the header {list(table.columns)}.")
    if len(table.columns) == 1:
        separator = next((mark for mark in (";", "\t", "|") if mark in str(table.columns[0])), None)
        if separator:  # a spreadsheet's export in another locale: every field landed in one column
            raise ValueError(f"The {name} table {path!r} has one column, {table.columns[0]!r}: its fields are "
                             f"separated by {separator!r}, and a CSV's by commas. Save it with commas.")
    return table


def writable_directory(path, create=True):
    """`path` as a directory that exists (made when `create`) and can be written to; a `ValueError`
    naming it otherwise, so a long run fails at its start rather than at its end."""
    path = os.fspath(path)
    try:
        if create:
            os.makedirs(path, exist_ok=True)
        if not os.path.isdir(path):
            raise ValueError(f"Cannot write to {path!r}: it is not a directory.")
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as error:
        raise ValueError(f"Cannot write to {path!r}: {error.strerror or error}.") from error
    return path


def check_output_path(path):
    """A file or directory to be written at `path`: its parent must be a writable directory."""
    path = os.fspath(path)
    writable_directory(os.path.dirname(os.path.abspath(path)) or ".", create=False)
    return path


def check_output_directory(path):
    """A directory to be written at `path` once a run succeeds: absent or a directory, in a writable
    parent. Nothing is created, so a run that fails leaves no empty directory behind."""
    path = check_output_path(path)
    if os.path.exists(path) and not os.path.isdir(path):
        raise ValueError(f"Cannot write a directory to {path!r}: a file of that name is there.")
    return path


@contextlib.contextmanager
def replaced_atomically(path):
    """Yields a temporary path beside `path` to write a file or directory to; once the block ends
    without an error it takes `path`'s place, so an interrupted write leaves what was there whole."""
    path = os.path.abspath(os.fspath(path))
    check_output_path(path)
    partial = tempfile.mkdtemp(prefix=f".{os.path.basename(path)}.partial-", dir=os.path.dirname(path))
    target = os.path.join(partial, "written")
    try:
        yield target
        if os.path.isdir(path) and not os.path.islink(path):
            retired = os.path.join(partial, "replaced")
            os.rename(path, retired)  # a directory cannot be replaced in one step: the old one steps aside
            os.rename(target, path)
        else:
            os.replace(target, path)
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def write_description(directory, filename, format_version, description):
    """Writes a saved directory's JSON description, stamped with its format and kerasts's version."""
    import kerasts  # the package imports this module: its version is read when a save runs

    with open(os.path.join(directory, filename), "w") as handle:
        json.dump({"format": format_version, "kerasts_version": kerasts.__version__, **description}, handle, indent=1,
                  default=str)


def read_saved_directory(directory, filename, kind, format_version, read):
    """Opens a directory `write_description` described: refuses a missing or foreign directory and
    another format, naming them, then returns `read(directory, description)`; errors while reading
    (a missing, damaged or partial file) come back as one ValueError naming the directory."""
    directory = os.fspath(directory)
    path = os.path.join(directory, filename)
    if not os.path.isdir(directory):
        raise ValueError(f"There is no {kind} directory {directory!r}.")
    if not os.path.exists(path):
        raise ValueError(f"{directory!r} is not a kerasts {kind}: it has no {filename}.")
    try:
        with open(path) as handle:
            description = json.load(handle)
        if description.get("format") != format_version:
            raise ValueError(f"{directory!r} holds a {kind} of format {description.get('format')!r}, written by "
                             f"kerasts {description.get('kerasts_version')!r}; this kerasts reads format "
                             f"{format_version}.")
        return read(directory, description)
    except ValueError as error:
        if str(error).startswith(repr(directory)):
            raise
        raise ValueError(f"The {kind} in {directory!r} is damaged: {error}") from error
    except (OSError, EOFError, KeyError, TypeError, json.JSONDecodeError, pd.errors.ParserError,
            zipfile.BadZipFile) as error:
        raise ValueError(f"The {kind} in {directory!r} is damaged or incomplete: {type(error).__name__}: "
                         f"{error}") from error
