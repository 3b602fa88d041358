import kerasts  # noqa: F401 - first, to silence TensorFlow's start-up logging

import keras_tuner  # noqa: E402
import numpy as np  # noqa: E402

from kerasts.models import TwoTower  # noqa: E402
from kerasts.tuning import TwoTowerHyperModel  # noqa: E402

ITEMS = [f"i{index}" for index in range(10)]
QUERY = {"HISTORY": {"type": "multi_categorical", "vocabulary": ITEMS}}
CANDIDATE = {"ITEM_ID": {"type": "categorical", "vocabulary": ITEMS}}


def _examples(count, seed):
    first = np.random.default_rng(seed).integers(0, 10, count)
    return {"query": {"HISTORY": np.array([f"i{a}" for a in first], dtype=object)},
            "candidate": {"ITEM_ID": np.array([f"i{(a + 1) % 10}" for a in first], dtype=object)},
            "candidate_sampling_probability": np.full(count, 0.1, dtype="float32")}


def test_build_reads_the_documented_hyperparameters():
    hp = keras_tuner.HyperParameters()
    hp.Fixed("embedding_dim", 32)
    hp.Fixed("tower_depth", 2)
    hp.Fixed("tower_width", 64)
    model = TwoTowerHyperModel(QUERY, CANDIDATE).build(hp)
    assert isinstance(model, TwoTower)
    assert model.query_tower.output_dim == 32 and model.query_tower.hidden_units == (64, 64)
    assert model.candidate_tower.features["ITEM_ID"]["embedding_dim"] == 32
    assert set(hp.values) >= {"embedding_dim", "tower_depth", "tower_width", "temperature", "learning_rate"}


def test_random_search_runs_trials_with_fit_time_batch_size(tmp_path):
    tuner = keras_tuner.RandomSearch(TwoTowerHyperModel(QUERY, CANDIDATE), objective="val_loss", max_trials=2,
                                     seed=0, directory=str(tmp_path), project_name="two_tower")
    tuner.search(_examples(512, 0), validation_data=_examples(256, 1), epochs=1, verbose=0)
    trials = tuner.oracle.get_best_trials(2)
    assert len(trials) == 2 and all(np.isfinite(trial.score) for trial in trials)
    assert "batch_size" in trials[0].hyperparameters.values
