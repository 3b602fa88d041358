"""One worker of the resume test: trains a tiny DeepAR for 4 epochs with backups, recording the epochs it
runs and its weights when training starts (after any restore) and after each epoch. `python
resume_job.py INDEX PORTS BACKUP OUT [CRASH_EPOCH]`: with CRASH_EPOCH, worker 1 dies as that epoch begins."""

import json
import os
import sys

os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
index, ports, backup, out = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
crash_epoch = int(sys.argv[5]) if len(sys.argv) > 5 else None

from kerasts.distributed import multi_worker_strategy  # noqa: E402

strategy = multi_worker_strategy([f"127.0.0.1:{port}" for port in ports.split(",")], index)

import keras  # noqa: E402
import numpy as np  # noqa: E402

import kerasts  # noqa: E402


class Recorder(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.record = {"epochs": [], "weights": {}}

    def _weights(self):
        return [keras.ops.convert_to_numpy(weight).tolist() for weight in self.model.trainable_weights]

    def on_train_begin(self, logs=None):
        self.record["weights"]["start"] = self._weights()

    def on_epoch_begin(self, epoch, logs=None):
        if crash_epoch is not None and epoch == crash_epoch and index == 1:
            os._exit(3)  # a worker lost mid-job, after the previous epoch's backup
        self.record["epochs"].append(epoch)

    def on_epoch_end(self, epoch, logs=None):
        self.record["weights"][str(epoch)] = self._weights()
        with open(out, "w") as file:
            json.dump(self.record, file)


panel = kerasts.data.align_target(kerasts.data.synthetic_forecast_table(4, 24 * 10, seed=0), "H")
forecaster = kerasts.models.DeepARForecaster(12, 24, units=8, num_layers=1, batch_shards=1, dropout=0.0, epochs=4,
                                             batches_per_epoch=3, batch_size=16, seed=0, backup_directory=backup,
                                             num_networks=1)
recorder = Recorder()
with strategy.scope():
    forecaster.fit(panel, callbacks=[recorder])
with open(out, "w") as file:
    json.dump({**recorder.record, "finished": True}, file)
