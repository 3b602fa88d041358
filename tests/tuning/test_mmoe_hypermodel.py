import kerasts  # noqa: F401 - first, to silence TensorFlow's start-up logging

import keras_tuner  # noqa: E402
import numpy as np  # noqa: E402

from kerasts.models import MMoE  # noqa: E402
from kerasts.tuning import MMoEHyperModel  # noqa: E402

FEATURES = {"x": {"type": "numeric", "size": 3, "units": None}}
TASKS = {"clicked": "binary", "dwell": "regression"}


def _data(rows, seed):
    x = np.random.default_rng(seed).normal(size=(rows, 3)).astype("float32")
    return {"x": x}, {"clicked": (x[:, 0] > 0).astype("float32"), "dwell": x[:, 1]}


def test_build_reads_the_documented_hyperparameters():
    hp = keras_tuner.HyperParameters()
    hp.Fixed("num_experts", 5)
    hp.Fixed("expert_units", 24)
    model = MMoEHyperModel(FEATURES, TASKS).build(hp)
    assert isinstance(model, MMoE) and model.num_experts == 5 and model.expert_units == (24,)
    assert set(hp.values) == {"num_experts", "expert_units", "tower_units", "learning_rate"}


def test_random_search_on_a_task_auc(tmp_path):
    tuner = keras_tuner.RandomSearch(MMoEHyperModel(FEATURES, TASKS),
                                     objective=keras_tuner.Objective("val_clicked_auc", direction="max"),
                                     max_trials=2, seed=0, directory=str(tmp_path), project_name="mmoe")
    x, y = _data(256, 0)
    tuner.search(x, y, validation_data=_data(128, 1), epochs=2, verbose=0)
    best = tuner.oracle.get_best_trials(1)[0]
    assert 0.5 < best.score <= 1.0
