import os

# One intra-op thread per test process: xdist already runs a process per core, and TensorFlow's
# spinning intra-op pools in two processes on two cores slowed small-model tests up to 20x.
# Set in the environment, before TensorFlow starts, so subprocesses (examples, serving) inherit it.
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")

import gc  # noqa: E402

import kerasts.testing  # noqa: E402

# MirroredStrategy tests need two logical CPUs, fixed before TensorFlow starts its devices.
kerasts.testing.configure_logical_cpus(2)

# TensorFlow's and Keras's own objects, out of every later garbage collection: keras-tuner collects twice per
# trial, and a full collection over them cost about 0.2 s each.
gc.freeze()


def pytest_collection_modifyitems(items):
    """Tests marked `slow` (over ~20 s on 2 cores) run first: started last, they kept one worker busy for
    minutes after the other had finished (the suite's time limit is 15 minutes)."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def pytest_runtest_teardown(item, nextitem):
    """What a test module leaves alive (Keras's and TensorFlow's caches keep growing) joins the frozen objects:
    a worker's heap reached 1.9 million objects, and its garbage collections took ~10% of the suite's time."""
    if nextitem is None or nextitem.module is not item.module:
        gc.collect()
        gc.freeze()
