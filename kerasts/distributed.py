"""Training across machines: `tf.distribute.MultiWorkerMirroredStrategy` for kerasts models (data
parallel over worker processes, each with its shard of every global batch), and the backups that let a
restarted job resume.

Every worker runs the same program with the same arguments but its own index; `TF_CONFIG` names them
all. Models build and train under `strategy.scope()` with a plain `model.fit`: kerasts's models carry the
fix for Keras 3.15's multi-worker `fit` (`kerasts._distributed_build.DistributedBuildMixin`).
"""

import contextlib
import json
import os

import keras
import tensorflow as tf


def parse_workers(workers):
    """`"host1:port,host2:port"` (or a list of them) -> the list of `host:port` addresses, checked."""
    addresses = [address.strip() for address in (workers.split(",") if isinstance(workers, str) else workers)]
    for address in addresses:
        host, separator, port = address.rpartition(":")
        if not separator or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"Each worker must be host:port (e.g. 10.0.0.2:12345), got {address!r}.")
    if len(addresses) < 2 or len(set(addresses)) != len(addresses):
        raise ValueError(f"Multi-worker training needs two or more distinct workers, got {addresses}.")
    return addresses


def multi_worker_strategy(workers, worker_index):
    """Sets `TF_CONFIG` for this process (worker `worker_index` of `workers`) and returns a
    `MultiWorkerMirroredStrategy` over them. Call it before TensorFlow runs anything else; it blocks
    until every worker has started (TensorFlow's collective runtime connects them)."""
    addresses = parse_workers(workers)
    if not isinstance(worker_index, int) or not 0 <= worker_index < len(addresses):
        raise ValueError(f"`worker_index` must be an int in [0, {len(addresses)}) for {len(addresses)} workers, got "
                         f"{worker_index!r}.")
    os.environ["TF_CONFIG"] = json.dumps({"cluster": {"worker": addresses},
                                          "task": {"type": "worker", "index": worker_index}})
    return tf.distribute.MultiWorkerMirroredStrategy()


def is_chief(strategy=None):
    """Whether this process writes the job's outputs: worker 0 of a multi-worker job, or a single process."""
    return worker_index(strategy) == 0


def worker_index(strategy=None):
    """This process's index among the workers (0 for a single process)."""
    strategy = strategy or tf.distribute.get_strategy()
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.cluster_spec().as_dict():
        return 0
    return int(resolver.task_id or 0)


def backup_callback(directory):
    """`keras.callbacks.BackupAndRestore` into this worker's own folder of `directory` (`worker-<index>`):
    each epoch's end saves the weights and the epoch reached, a restarted `fit` resumes from there, and a
    finished one deletes its backup. A folder per worker, because workers must not write one file at once
    and HRNN's slot states differ between them."""
    return keras.callbacks.BackupAndRestore(os.path.join(os.fspath(directory), f"worker-{worker_index()}"))


def build_for_backups(model, dataset, callbacks):
    """Builds an unbuilt `model` on `dataset`'s first batch when `callbacks` back training up: Keras's
    `BackupAndRestore` restores weights before the first step, so they must exist (a distributed `fit`
    builds first anyway). Without a backup nothing is read, so a shuffled dataset keeps its order."""
    if model.built or not any(isinstance(callback, keras.callbacks.BackupAndRestore) for callback in callbacks):
        return
    for batch in dataset.take(1):
        model(batch[0] if isinstance(batch, tuple) else batch)


@contextlib.contextmanager
def training_scope(workers=None, worker_index=None):
    """`with training_scope(workers, index):` trains under a multi-worker strategy (a plain process
    without `workers`); yields the strategy."""
    if not workers:
        yield tf.distribute.get_strategy()
        return
    strategy = multi_worker_strategy(workers, worker_index)
    with strategy.scope():
        yield strategy
