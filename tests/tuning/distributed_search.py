"""One process of the distributed-search test: chief or worker, by KERASTUNER_TUNER_ID.

    python distributed_search.py DIRECTORY

Workers append one JSON line per trial they train to DIRECTORY/<tuner id>.jsonl; the chief prints
the best hyperparameters as JSON.
"""

import json
import os
import sys
import time

import kerasts  # noqa: F401 - first, to silence TensorFlow's start-up logging

import keras  # noqa: E402
import keras_tuner  # noqa: E402
import numpy as np  # noqa: E402

from kerasts.tuning import random_search  # noqa: E402

X = np.random.default_rng(0).normal(size=(64, 3)).astype("float32")
Y = X.sum(axis=1)


class LoggingHyperModel(keras_tuner.HyperModel):
    def __init__(self, directory):
        super().__init__()
        self.directory = directory

    def build(self, hp):
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(hp.Int("units", 2, 64)), keras.layers.Dense(1)])
        model.compile("adam", "mse")
        return model

    def fit(self, hp, model, x, validation_data=None, **kwargs):
        tuner_id = os.environ["KERASTUNER_TUNER_ID"]
        if tuner_id != "chief":
            with open(os.path.join(self.directory, f"{tuner_id}.jsonl"), "a") as log:
                log.write(json.dumps(hp.values) + "\n")
            time.sleep(2)  # trials as slow as a worker's start-up, so both workers get some
        return model.fit(x, Y, validation_data=validation_data, verbose=0, **kwargs)


if __name__ == "__main__":
    directory = sys.argv[1]
    result = random_search(LoggingHyperModel(directory), X, (X, Y), max_trials=4, directory=directory,
                           project_name="distributed", epochs=2, seed=0)
    if result.best_hyperparameters is not None:
        print(json.dumps(result.best_hyperparameters.values))
