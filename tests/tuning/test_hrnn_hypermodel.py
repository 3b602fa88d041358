import kerasts  # noqa: F401 - first, to silence TensorFlow's start-up logging

import keras_tuner  # noqa: E402
import numpy as np  # noqa: E402

from kerasts.models import HRNN  # noqa: E402
from kerasts.tuning import HRNNHyperModel, random_search  # noqa: E402


def _catalog(size):
    return [f"i{index}" for index in range(1, size + 1)]


def _batches(rows=4, steps=6, seed=0):
    rng = np.random.default_rng(seed)
    flags = np.zeros((rows, steps), "float32")
    flags[:, 0] = 1
    inputs = {"items": rng.integers(1, 9, (rows, steps)).astype("int32"), "session_start": flags, "user_start": flags}
    return inputs, rng.integers(1, 9, (rows, steps)).astype("int32")


def test_build_reads_the_documented_hyperparameters():
    hp = keras_tuner.HyperParameters()
    hp.Fixed("units", 64)
    hp.Fixed("mode", "all")
    hp.Fixed("user_dropout", 0.5)
    hp.Fixed("tie_embeddings", True)
    hp.Fixed("hidden_dropout", 0.3)
    model = HRNNHyperModel(_catalog(8), num_slots=4).build(hp)
    assert isinstance(model, HRNN) and model.units == 64 and model.mode == "all"
    assert model.user_dropout == 0.5 and model.hidden_dropout == 0.3 and model.tie_embeddings
    assert set(hp.values) == {"units", "embedding_dim", "mode", "dropout", "hidden_dropout", "user_dropout",
                              "tie_embeddings", "learning_rate"}
    session_only = keras_tuner.HyperParameters()
    assert not HRNNHyperModel(_catalog(8), user_gru=False).build(session_only).user_gru
    assert "mode" not in session_only.values and "user_dropout" not in session_only.values


def test_random_search_over_session_batches(tmp_path):
    import tensorflow as tf

    def dataset(seed):
        return tf.data.Dataset.from_tensor_slices(_batches(seed=seed)).batch(4)  # as SessionParallelBatches.dataset()

    result = random_search(HRNNHyperModel(_catalog(8), num_slots=4), dataset(0), dataset(1), max_trials=2, epochs=1,
                           directory=str(tmp_path), project_name="hrnn")
    assert all(np.isfinite(trial.score) for trial in result.tuner.oracle.trials.values())
    assert result.best_model.num_slots == 4
