"""random_search: resume without rerunning, NaN trials recorded as failed, fail-fast space check,
reproducible sampling, best model refit."""

import kerasts  # noqa: F401 - first, to silence TensorFlow's start-up logging

import keras  # noqa: E402
import keras_tuner  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from kerasts.tuning import random_search  # noqa: E402

X = np.random.default_rng(0).normal(size=(64, 3)).astype("float32")
Y = X.sum(axis=1)


class CountingHyperModel(keras_tuner.HyperModel):
    """A tiny regression search that counts its fits and can be told to fail or be killed."""

    def __init__(self, kill_at_fit=None, poison=False):
        super().__init__()
        self.fits = 0
        self.kill_at_fit = kill_at_fit
        self.poison = poison

    def build(self, hp):
        units = hp.Int("units", 2, 32)
        scale = hp.Choice("scale", [1.0, float("nan")]) if self.poison else 1.0
        inputs = keras.Input((3,))
        outputs = keras.layers.Rescaling(scale)(keras.layers.Dense(1)(keras.layers.Dense(units)(inputs)))
        model = keras.Model(inputs, outputs)
        model.compile("adam", "mse")
        return model

    def fit(self, hp, model, x, validation_data=None, **kwargs):
        self.fits += 1
        if self.fits == self.kill_at_fit:
            raise KeyboardInterrupt("killed part way")
        return model.fit(x, Y, validation_data=validation_data, verbose=0, **kwargs)


def _search(hypermodel, directory, max_trials, **kwargs):
    return random_search(hypermodel, X, (X, Y), max_trials=max_trials, directory=str(directory), project_name="p",
                         epochs=1, **kwargs)


@pytest.mark.slow
def test_a_killed_search_resumes_without_rerunning_finished_trials(tmp_path):
    killed = CountingHyperModel(kill_at_fit=3)
    with pytest.raises(KeyboardInterrupt):
        _search(killed, tmp_path, max_trials=4)
    finished = [trial for trial in keras_tuner.RandomSearch(CountingHyperModel(), "val_loss", directory=str(tmp_path),
                                                            project_name="p", overwrite=False).oracle.trials.values()
                if trial.status == "COMPLETED"]
    assert len(finished) == 2
    resumed = CountingHyperModel()
    result = _search(resumed, tmp_path, max_trials=4)
    # Two trials were left (the killed one and the last), plus the refit of the best model.
    assert resumed.fits == 2 + 1
    assert sum(trial.status == "COMPLETED" for trial in result.tuner.oracle.trials.values()) == 4


@pytest.mark.slow
def test_a_nan_trial_is_recorded_as_failed_and_the_search_goes_on(tmp_path):
    result = _search(CountingHyperModel(poison=True), tmp_path, max_trials=6, seed=3)
    trials = list(result.tuner.oracle.trials.values())
    failed = [trial for trial in trials if trial.status == "FAILED"]
    assert failed and all(np.isnan(trial.hyperparameters.values["scale"]) for trial in failed)
    assert all("TerminateOnNaN stopped the trial" in trial.message for trial in failed)
    assert any(trial.status == "COMPLETED" for trial in trials)
    assert result.best_hyperparameters.values["scale"] == 1.0


def test_a_broken_search_space_fails_before_any_trial(tmp_path):
    class Broken(CountingHyperModel):
        def build(self, hp):
            return keras.layers.Dense(hp.Int("units", 0, 4))  # zero units: Keras refuses at build

    with pytest.raises(ValueError, match="search space of Broken is broken"):
        _search(Broken(), tmp_path, max_trials=3)
    assert not (tmp_path / "p").exists()


class SamplingOnlyHyperModel(CountingHyperModel):
    """Scores a trial without training it: the seed test needs the sampled values only."""

    def fit(self, hp, model, x, validation_data=None, **kwargs):
        return {"val_loss": float(hp.get("units"))}


def _sampled(directory, seed):
    result = _search(SamplingOnlyHyperModel(), directory, max_trials=4, seed=seed)
    return [trial.hyperparameters.values["units"] for trial in sorted(result.tuner.oracle.trials.values(),
                                                                     key=lambda trial: trial.trial_id)]


@pytest.mark.slow
def test_same_seed_same_trials(tmp_path):
    first, again, other = _sampled(tmp_path / "a", 7), _sampled(tmp_path / "b", 7), _sampled(tmp_path / "c", 8)
    assert first == again and first != other


def test_best_model_is_refit_and_summary_available(tmp_path, capsys):
    result = _search(CountingHyperModel(), tmp_path, max_trials=2)
    assert result.best_model.predict(X[:2], verbose=0).shape == (2, 1)
    result.tuner.results_summary()
    summary = capsys.readouterr().out
    assert "Results summary" in summary and "Score" in summary
