"""Imports TensorFlow and TFP without their start-up noise.

TensorFlow 2.21 writes absl/oneDNN/CUDA-probe lines straight to file descriptor 2 while
it loads, ignoring TF_CPP_MIN_LOG_LEVEL for some of them; a user importing kerasts should
not see them. Errors still surface: an import failure raises after stderr is restored.
"""

import contextlib
import os
import sys


@contextlib.contextmanager
def _stderr_silenced():
    # TensorFlow's C++ logging writes to descriptor 2 whatever sys.stderr is (pytest-xdist
    # and notebooks replace sys.stderr with streams that have no descriptor).
    stderr_fd = 2
    try:
        sys.stderr.flush()
    except (AttributeError, OSError, ValueError):
        pass
    saved_fd = os.dup(stderr_fd)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, stderr_fd)
        yield
    finally:
        os.dup2(saved_fd, stderr_fd)
        os.close(devnull)
        os.close(saved_fd)


def import_quietly():
    """Loads tensorflow and tensorflow_probability, silencing only what they print while loading."""
    if "tensorflow" in sys.modules and "tensorflow_probability" in sys.modules:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with _stderr_silenced():
        import tensorflow  # noqa: F401
        import tensorflow_probability  # noqa: F401

        # Device discovery logs too (the CUDA probe); do it now, while stderr is closed.
        tensorflow.config.list_physical_devices()
        _run_first_int64_kernel(tensorflow)


def _run_first_int64_kernel(tf):
    """On CPUs without AVX-512, the first int64 oneDNN kernel logs an E-level line that says oneDNN
    falls back to Eigen (`util.cc: oneDNN supports DT_INT64 only on platforms with AVX-512`), once per
    process and harmless. Running one now, in a graph session of its own, spends that line while stderr
    is closed without initialising the eager context, so logical devices can still be configured."""
    with tf.Graph().as_default():
        transposed = tf.transpose(tf.zeros((2, 2), tf.int64))
        with tf.compat.v1.Session() as session:
            session.run(transposed)
