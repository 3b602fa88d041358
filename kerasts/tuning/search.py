"""One-call random search with keras-tuner: fail-fast space check, NaN trials recorded as failed,
resumable, and the best model rebuilt and refit."""

import collections
import os

import keras
import keras_tuner
import numpy as np

SearchResult = collections.namedtuple("SearchResult", ["tuner", "best_hyperparameters", "best_model"])


class GuardedHyperModel(keras_tuner.HyperModel):
    """Wraps a HyperModel so a trial whose loss goes NaN stops at once (`TerminateOnNaN`) and is
    recorded as failed with the epoch it happened, instead of scoring as a finished trial."""

    def __init__(self, hypermodel):
        super().__init__(name=hypermodel.name, tunable=hypermodel.tunable)
        self.hypermodel = hypermodel

    def build(self, hp):
        return self.hypermodel.build(hp)

    def fit(self, hp, model, *args, callbacks=None, **kwargs):
        history = self.hypermodel.fit(hp, model, *args, callbacks=[keras.callbacks.TerminateOnNaN()]
                                      + list(callbacks or []), **kwargs)
        losses = history.history.get("loss", []) if isinstance(history, keras.callbacks.History) else []
        bad = [epoch for epoch, value in enumerate(losses, start=1) if not np.isfinite(value)]
        if bad:
            raise keras_tuner.errors.FailedTrialError(f"The training loss became {losses[bad[0] - 1]} at epoch "
                                                      f"{bad[0]}; TerminateOnNaN stopped the trial.")
        return history


def is_distributed_worker():
    """Whether this process is a worker of keras-tuner's chief/worker search (not the chief)."""
    return "KERASTUNER_ORACLE_IP" in os.environ and os.environ.get("KERASTUNER_TUNER_ID", "chief") != "chief"


def check_search_space(hypermodel):
    """Builds the HyperModel once with every hyperparameter at its default, so a broken search
    space fails now with its own error instead of after several silently failed trials."""
    try:
        hypermodel.build(keras_tuner.HyperParameters())
    except Exception as error:  # noqa: BLE001 - any failure here is the broken search space
        raise ValueError(f"The search space of {type(hypermodel).__name__} is broken: building it with default "
                         f"hyperparameters raised {type(error).__name__}: {error}") from error


def random_search(hypermodel, train, validation=None, max_trials=10, objective="val_loss", directory="tuning",
                  project_name="random_search", seed=0, overwrite=False, epochs=10, hyperparameters=None,
                  **fit_kwargs):
    """Random search over a HyperModel, then the best model rebuilt and refit.

    Args:
        hypermodel: a `keras_tuner.HyperModel` (e.g. `PointForecasterHyperModel`, `DeepARHyperModel`).
        train, validation: passed to the HyperModel's `fit` as the data and `validation_data`.
        max_trials: trials in total, counting those already in `directory` when resuming.
        objective: a metric name or `keras_tuner.Objective(name, direction)` (e.g.
            `Objective("val_mean_wQL", "min")`).
        directory, project_name: where trials are stored; with `overwrite=False` a search killed
            part way resumes there without rerunning finished trials.
        seed: seeds the sampling: the same seed gives the same sequence of hyperparameters.
        hyperparameters: optional `keras_tuner.HyperParameters` that fix or narrow the space.
        fit_kwargs: more arguments for `fit` (callbacks, batch_size, ...).

    Returns:
        `SearchResult(tuner, best_hyperparameters, best_model)`; `tuner.results_summary()` prints
        the trials. In keras-tuner's distributed mode (`KERASTUNER_TUNER_ID`,
        `KERASTUNER_ORACLE_IP`, `KERASTUNER_ORACLE_PORT`) the chief serves the trials and returns
        the result once the workers are done; workers return `SearchResult(tuner, None, None)`.
    """
    check_search_space(hypermodel)
    tuner = keras_tuner.RandomSearch(GuardedHyperModel(hypermodel), objective=objective, max_trials=max_trials,
                                     seed=seed, hyperparameters=hyperparameters, directory=directory,
                                     project_name=project_name, overwrite=overwrite)
    tuner.search(train, validation_data=validation, epochs=epochs, **fit_kwargs)
    if is_distributed_worker():
        return SearchResult(tuner, None, None)  # the chief holds the results and refits the best
    best = tuner.get_best_hyperparameters(1)
    if not best:
        raise RuntimeError(f"No trial of {project_name!r} finished; see tuner.results_summary() for the failures.")
    best_model = tuner.hypermodel.build(best[0])
    tuner.hypermodel.fit(best[0], best_model, train, validation_data=validation, epochs=epochs, **fit_kwargs)
    return SearchResult(tuner, best[0], best_model)
