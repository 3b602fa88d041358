"""Where outputs go, checked before the work that produces them starts."""

import contextlib
import os
import shutil
import tempfile


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
