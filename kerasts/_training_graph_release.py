"""A fix for TensorFlow 2.21's gradient registry, which kept every trained kerasts network's training graph
alive for the life of the process (tensorflow/tensorflow#97697).

Keras's TensorFlow optimizer sums the gradients over the replicas with `ReplicaContext.all_reduce`, even
under the default strategy, and `all_reduce` is a `tf.custom_gradient`: traced into the training step, it
registers its gradient function in TensorFlow's global gradient registry under a new name
(`CustomGradient-N`) and never removes it. That function's closure holds the traced step's tensors, so each
`fit` left its whole graph behind after the model was gone (12 MiB for a small two-tower, 56 for DeepAR;
`keras.backend.clear_session()` does not free it): HPO, AutoML and backtests, which fit many networks in one
process, grew by gigabytes. That gradient is never read (nothing differentiates the optimizer's sum of the
gradients), so the replica sums' registrations a `fit` made are removed when it returns. Other custom
gradients stay: one may belong to a traced function TensorFlow keeps for the process (TFP's `lbeta`), whose
backward a later fit builds from its registration.
"""

import contextlib

from tensorflow.python.framework import ops

_CUSTOM_GRADIENT_PREFIX = "CustomGradient-"


def _registered():
    """TensorFlow's private registry (name -> entry); an empty dict where a later TensorFlow moved it, so that
    nothing is released there and every fit still runs."""
    registered = getattr(getattr(ops, "gradient_registry", None), "_registry", None)
    return registered if isinstance(registered, dict) else {}


def replica_sum_gradient_names():
    """The names under which TensorFlow's gradient registry holds `ReplicaContext.all_reduce`'s custom gradients."""
    return {name for name, entry in _registered().items()
            if name.startswith(_CUSTOM_GRADIENT_PREFIX) and _sums_over_replicas(entry.get("type"))}


def _sums_over_replicas(function, depth=3):
    """Whether `function`'s closure, or a closure within it (the registered function wraps the tape's, which
    wraps the gradient), holds `all_reduce`'s gradient."""
    if getattr(function, "__qualname__", "").startswith("ReplicaContextBase.all_reduce."):
        return True
    if not depth:
        return False
    for cell in getattr(function, "__closure__", None) or ():
        try:
            contents = cell.cell_contents
        except ValueError:  # a cell not yet filled
            continue
        if callable(contents) and _sums_over_replicas(contents, depth - 1):
            return True
    return False


@contextlib.contextmanager
def training_graph_released():
    """Removes the replica sums' custom gradients registered inside the block once it ends."""
    before = replica_sum_gradient_names()
    try:
        yield
    finally:
        for name in replica_sum_gradient_names() - before:
            del _registered()[name]


class TrainingGraphReleaseMixin:
    """Put before `keras.Model` in the bases of a kerasts network: its `fit` releases the training graph that
    TensorFlow's gradient registry would keep (above)."""

    def fit(self, *args, **kwargs):
        with training_graph_released():
            return super().fit(*args, **kwargs)
