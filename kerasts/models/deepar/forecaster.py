"""DeepAR's training recipe, as a `kerasts.protocols.Forecaster`: the one place that says how
DeepAR is trained on a panel. The demo, the examples, the HyperModel, the benchmarks and the
workflows all train through it."""

import os
import warnings

import keras

from kerasts import likelihoods
from kerasts._checks import check_positive_int
from kerasts.data.holiday_calendar import holiday_days
from kerasts.distributed import backup_callback, build_for_backups
from kerasts.data.windows import ForecastWindows, lags_for_frequency
from kerasts.losses.nll import NegativeLogLikelihood
from kerasts.models.deepar.deepar import SCALINGS, DeepAR
from kerasts.models.deepar.ensemble import DeepAREnsemble
from kerasts.optimizers import Adam
from kerasts.protocols.forecaster import Forecaster

# Windows drawn in training per distinct training window above which `fit` warns of over-fitting: the
# benchmarks' datasets take at most 4.5 at the defaults; a 3-series weekly panel took ~200, and its 80%
# intervals covered 17% of the actuals (47% after 2 epochs, ~30 draws each; benchmarks/RESULTS.md).
MANY_DRAWS_PER_WINDOW = 20


class DeepARForecaster(Forecaster):
    """Trains `DeepAR` on a `kerasts.data.TimeSeriesPanel` and forecasts from it.

    The recipe, measured on the electricity protocol (benchmarks/RESULTS.md) and GluonTS's
    defaults where not: lags of the frequency capped at half the training history
    (`lags_for_frequency(..., history_length=end)`: longer lags meet padding in training and
    data when forecasting), the panel's covariates standardised with their statistics and its
    item attributes embedded, Adam with gradients clipped at global norm `clip_norm`, windows
    drawn uniformly (`sampling="scale"` draws them in proportion to their series' scale, as the DeepAR
    paper does; averaged over M3, electricity and traffic it lost, benchmarks/RESULTS.md #23), windows
    standardised (`scaling`), forecasts kept non-negative where the training target never was negative,
    `epochs` of `batches_per_epoch` batches, and
    `keras.utils.set_random_seed(seed)` first, so a run repeats.

    Args:
        prediction_length, context_length: the forecast horizon and the steps conditioned on.
        likelihood, cell, num_layers, units, dropout, batch_shards: the network (see `DeepAR`).
            `likelihood="auto"`, the default, picks the family at `fit` from the observed training
            targets (`kerasts.likelihoods.by_support`: the negative binomial for whole numbers at least half
            zero, the Student-t otherwise) and names it in `likelihood_name` (and a line when `verbose`).
            It beat the Student-t on wQL and MASE on three intermittent count datasets and picks it on
            seven others (benchmarks/RESULTS.md, #23).
        epochs, batches_per_epoch, batch_size, learning_rate, clip_norm, sampling: the training.
        num_samples: sample paths per series when forecasting (and in the exported `forecast`).
        seed: seeds the weights, the window sampler and nothing else; `None` leaves Keras's seed as it is.
        steps_per_execution: Keras's batches per `tf.function` call (10 is faster on small CPUs).
        verbose: Keras's progress display during `fit`.
        holidays: country codes (`("US",)`) whose public holidays become calendar features (the
            `holidays` package, `kerasts[holidays]`): per step, the country's holidays in its period.
        max_draws_per_window: with it, train fewer than `epochs` epochs where the panel is small: at most
            as many as draw each distinct training window this many times on average (at least one epoch).
            Off by default: at 20 it failed two rules fixed before their runs on three-series panels of M3,
            covid and MovieLens (better intervals on some, worse wQL and MASE on others; benchmarks/RESULTS.md).
        early_stopping_patience: with it, each series' last `prediction_length` steps before the training end
            are held out and validate each epoch (`val_loss`, their negative log-likelihood); training stops
            after this many epochs without a lower one (at most `epochs`) and keeps the best epoch's weights
            (Keras's `EarlyStopping`), trained on the data before the held-out steps; forecasts still condition
            on them, and `fit` does not warn of over-fitting. Off by default: at 5 it failed a rule fixed before
            its runs on three-series panels (on M3 monthly it stopped after the first epoch's best and lost 12%
            in MASE; benchmarks/RESULTS.md).
        num_networks: train this many networks (seeds `seed`, `seed + 1`, ...) and pool their sample
            paths as one `DeepAREnsemble`. Three, the default, cost three times one network's training and
            were steadier across seeds and more accurate on every one of seven datasets (mean OWA 0.842 ->
            0.820, benchmarks/RESULTS.md, #23); 1 trains one `DeepAR`.
        backup_directory: with it, each epoch's end backs the training up there
            (`kerasts.distributed.backup_callback`, a folder per training end and worker) and a fit
            restarted after a crash resumes from the last backup; a finished fit deletes it.
        holiday_attribute: instead, the item attribute (a column of the item metadata) holding each
            series' country code: one feature, the holidays of the series' own country.
        scaling: how each window is normalised (see `DeepAR`); `"auto"` standardises it (`"std"`) for a
            likelihood with a location parameter (Student-t, Gaussian), leaves it as it is (`"none"`) for
            beta, which cannot be rescaled, and divides it by its mean absolute value (`"mean"`) for the
            count families. Standardising took DeepAR from behind Naive2 to ahead of it on M3 and
            improved the electricity protocol (benchmarks/RESULTS.md, #23).

    Attributes:
        model: after `fit`, the trained `DeepAR`, or with `num_networks` > 1 the `DeepAREnsemble` of them
            (either exports with `model.export(path)`).
        networks: the trained `DeepAR` networks (one unless `num_networks`).

    Example:
        >>> forecaster = DeepARForecaster(24, 168, epochs=20).fit(panel, end=len(panel.timestamps) - 168)
        >>> paths = forecaster.predict_paths(panel)                 # (series, 100, 24) after the data
        >>> table = forecaster.forecast_dataframe(panel)            # Amazon Forecast's export layout
    """

    def __init__(self, prediction_length, context_length, likelihood="auto", cell="lstm", num_layers=2,
                 units=40, dropout=0.1, batch_shards=2, epochs=20, batches_per_epoch=50, batch_size=32,
                 learning_rate=1e-3, clip_norm=10.0, sampling="uniform", num_samples=100, seed=0, steps_per_execution=1,
                 verbose=0, scaling="auto", holidays=(), holiday_attribute=None, backup_directory=None,
                 num_networks=3, max_draws_per_window=None, early_stopping_patience=None):
        super().__init__(prediction_length)
        self.context_length = check_positive_int("context_length", context_length)
        if likelihood != "auto":
            try:
                likelihoods.get(likelihood)
            except ValueError as error:
                raise ValueError(f"{error} Or 'auto', to pick one by the targets' support.") from None
        self.likelihood = likelihood
        if scaling not in ("auto",) + SCALINGS:
            raise ValueError(f"`scaling` must be 'auto' or one of {SCALINGS}, got {scaling!r}.")
        self.network = {"cell": cell, "num_layers": num_layers, "units": units, "dropout": dropout,
                        "batch_shards": batch_shards, "scaling": scaling}
        self.epochs = check_positive_int("epochs", epochs)
        self.batches_per_epoch = check_positive_int("batches_per_epoch", batches_per_epoch)
        self.batch_size = check_positive_int("batch_size", batch_size)
        self.learning_rate = float(learning_rate)
        self.clip_norm = float(clip_norm)
        if sampling not in ("scale", "uniform"):
            raise ValueError(f"`sampling` must be 'scale' or 'uniform', got {sampling!r}.")
        self.sampling = sampling
        self.num_samples = check_positive_int("num_samples", num_samples)
        self.seed = seed
        self.steps_per_execution = check_positive_int("steps_per_execution", steps_per_execution)
        self.verbose = verbose
        self.holidays = (holidays,) if isinstance(holidays, str) else tuple(holidays or ())
        if self.holidays and holiday_attribute:
            raise ValueError("Give `holidays` (countries for every series) or `holiday_attribute` (a country per "
                             "series from an item attribute), not both.")
        self.holiday_attribute = holiday_attribute
        self.backup_directory = None if backup_directory is None else os.fspath(backup_directory)
        self.num_networks = check_positive_int("num_networks", num_networks)
        self.max_draws_per_window = (None if max_draws_per_window is None
                                     else check_positive_int("max_draws_per_window", max_draws_per_window))
        self.early_stopping_patience = (None if early_stopping_patience is None
                                        else check_positive_int("early_stopping_patience", early_stopping_patience))
        self.picked_likelihood = None
        if self.num_samples < self.num_networks:
            raise ValueError(f"num_samples={self.num_samples} cannot be shared by num_networks={self.num_networks}: "
                             "each network draws at least one path.")
        self.model = None

    def get_config(self):
        return {"prediction_length": self.prediction_length, "context_length": self.context_length,
                "likelihood": "auto" if self.likelihood == "auto" else likelihoods.serialize(self.likelihood),
                **self.network, "epochs": self.epochs,
                "batches_per_epoch": self.batches_per_epoch, "batch_size": self.batch_size,
                "learning_rate": self.learning_rate, "clip_norm": self.clip_norm, "sampling": self.sampling,
                "num_samples": self.num_samples, "seed": self.seed, "steps_per_execution": self.steps_per_execution,
                "verbose": self.verbose, "holidays": list(self.holidays), "holiday_attribute": self.holiday_attribute,
                "backup_directory": self.backup_directory,
                "num_networks": self.num_networks, "max_draws_per_window": self.max_draws_per_window,
                "early_stopping_patience": self.early_stopping_patience}

    # The recipe's steps, also used one by one by `kerasts.tuning.DeepARHyperModel`.

    def pick_likelihood(self, panel, end):
        """With `likelihood="auto"`, picks the family for the panel's observed targets before `end`."""
        if self.likelihood != "auto":
            return
        self.picked_likelihood = likelihoods.by_support(panel.recorded_target[:, :end])

    def network_likelihood(self):
        """The family the networks use: `likelihood`, or the one `"auto"` picked (a loaded forecaster's:
        its networks')."""
        if self.likelihood != "auto":
            return self.likelihood
        if self.picked_likelihood is None:
            if self.model is None:
                raise ValueError("likelihood='auto' picks its family when fitting: call fit(panel) first.")
            self.picked_likelihood = likelihoods.serialize(self.networks[0].likelihood)
        return self.picked_likelihood

    @property
    def likelihood_name(self):
        """The name of the family the networks use (for `"auto"`, the one it picked)."""
        return likelihoods.get(self.network_likelihood()).name

    def resolved_scaling(self):
        """`scaling`, with `"auto"` resolved: standardised (`"std"`) for a likelihood with a location
        parameter (Student-t, Gaussian), none for one that cannot be rescaled (beta), mean scaling for
        the others (counts)."""
        if self.network["scaling"] != "auto":
            return self.network["scaling"]
        family = likelihoods.get(self.network_likelihood())
        if family.location_parameter is not None:
            return "std"
        return "mean" if family.rescalable else "none"

    def windows(self, panel, lags):
        """The panel's training and forecasting windows for a model with `lags` (targets checked
        against the likelihood's support)."""
        return ForecastWindows(panel, self.context_length, self.prediction_length, lags,
                               likelihood=self.network_likelihood())

    def build_model(self, panel, end=None):
        """A compiled `DeepAR` for the panel's frequency, history before `end`, covariates and attributes."""
        end = self.training_end(panel, end)
        self.pick_likelihood(panel, end)
        lags = lags_for_frequency(panel.frequency, history_length=end)
        windows = self.windows(panel, lags)
        mean, std = windows.covariate_statistics(end)
        past_mean, past_std = windows.covariate_statistics(end, past_only=True)
        # A target never negative in training gets forecasts that are not either (see DeepAR's non_negative).
        network = {**self.network, "scaling": self.resolved_scaling(), "non_negative": panel.never_negative(end)}
        model = DeepAR(self.prediction_length, self.context_length, panel.frequency, lags=lags,
                       likelihood=self.network_likelihood(), num_covariates=windows.num_covariates,
                       covariate_mean=mean or None, covariate_std=std or None, cardinalities=panel.cardinalities,
                       num_samples=self.num_samples, **self._holiday_settings(panel),
                       num_past_covariates=windows.num_past_covariates, past_covariate_mean=past_mean or None,
                       past_covariate_std=past_std or None, **network)
        # The windows checked the targets already, so the loss skips its in-graph checks.
        model.compile(Adam(self.learning_rate, global_clipnorm=self.clip_norm),
                      loss=NegativeLogLikelihood(model.likelihood, validate_targets=False),
                      steps_per_execution=self.steps_per_execution)
        return model

    def _holiday_settings(self, panel):
        """DeepAR's holiday settings: the countries' holidays from a year before the panel's grid to ten
        years after it (later forecasts see none), and with `holiday_attribute`, which category names each
        series' country."""
        if not (self.holidays or self.holiday_attribute):
            return {}
        if not panel.has_calendar:
            raise ValueError(f"Holidays need a calendar; the {panel.frequency!r} grid is a step index without one.")
        years = panel.timestamps[0].year - 1, panel.timestamps[-1].year + 10
        if not self.holiday_attribute:
            return {"holidays": holiday_days(self.holidays, *years)}
        if self.holiday_attribute not in panel.category_names or not panel.category_vocabularies:
            raise ValueError(f"holiday_attribute={self.holiday_attribute!r} must be an attribute of the item "
                             f"metadata; the panel's are {list(panel.category_names)}.")
        position = panel.category_names.index(self.holiday_attribute)
        countries = list(panel.category_vocabularies[position])
        return {"holidays": holiday_days(countries, *years), "holiday_category": position,
                "holiday_country_of_code": [None] + countries}

    def train(self, model, windows, end, validation_end=None, callbacks=None, sampler_seed=None, **fit_kwargs):
        """Fits `model` on windows whose horizon ends by grid index `end`; with `validation_end`, the
        windows ending there validate each epoch (`val_loss`). The window sampler's seed is
        `sampler_seed` (default: the recipe's `seed`). Returns Keras's `History`."""
        validation = windows.validation_data(validation_end) if validation_end is not None else None
        fit_kwargs.setdefault("verbose", self.verbose)
        sampler_seed = (self.seed or 0) if sampler_seed is None else sampler_seed
        dataset = windows.training_dataset(self.batch_size, sampling=self.sampling, seed=sampler_seed, end=end)
        callbacks = list(callbacks or [])
        build_for_backups(model, dataset, callbacks)
        return model.fit(dataset,
                         steps_per_epoch=self.batches_per_epoch,
                         epochs=fit_kwargs.pop("epochs", self.training_epochs(windows, end)),
                         validation_data=validation, callbacks=callbacks,
                         shuffle=False,  # windows are drawn at random already
                         **fit_kwargs)

    def train_with_early_stopping(self, model, windows, end, callbacks, sampler_seed):
        """`train` on the windows whose horizon ends by `end - prediction_length`, validated by each series'
        window ending at `end`, stopped by `early_stopping_patience` and left with the best epoch's weights."""
        if end - self.prediction_length <= self.prediction_length:
            raise ValueError(f"early_stopping_patience holds out the last {self.prediction_length} steps of the "
                             f"training range, and only {end} steps are there: give longer series or no "
                             "early_stopping_patience.")
        stopping = keras.callbacks.EarlyStopping(patience=self.early_stopping_patience, restore_best_weights=True)
        return self.train(model, windows, end - self.prediction_length, validation_end=end,
                          callbacks=[*callbacks, stopping], sampler_seed=sampler_seed)

    def training_epochs(self, windows, end):
        """`epochs`, or with `max_draws_per_window` fewer where the distinct windows of the data before `end`
        would otherwise each be drawn more often than that on average (at least one)."""
        if self.max_draws_per_window is None:
            return self.epochs
        return min(self.epochs, self._epochs_drawing(self.max_draws_per_window, windows.window_counts(end).sum()))

    def _epochs_drawing(self, draws_per_window, distinct):
        """The epochs (at least one) that draw each of `distinct` windows about `draws_per_window` times."""
        return max(1, -(-draws_per_window * int(distinct) // (self.batches_per_epoch * self.batch_size)))

    def warn_of_over_fitting(self, windows, end):
        """Warns when training takes more epochs than draw each distinct window of the data before `end`
        `MANY_DRAWS_PER_WINDOW` times on average: a small panel, memorised, gets intervals far too narrow."""
        distinct = int(windows.window_counts(end).sum())
        epochs = self.training_epochs(windows, end)
        if distinct and epochs > self._epochs_drawing(MANY_DRAWS_PER_WINDOW, distinct):
            drawn = epochs * self.batches_per_epoch * self.batch_size
            warnings.warn(f"DeepAR draws {drawn:,} training windows ({epochs} epochs x {self.batches_per_epoch} "
                          f"batches x {self.batch_size}) from {distinct:,} distinct ones, {drawn / distinct:.0f} "
                          "times each: the networks will likely over-fit and their intervals be too narrow (the "
                          "benchmarks' datasets take at most 5). Give fewer epochs or batches_per_epoch, or compare "
                          "it with a statistical method (ETS, ARIMA, Theta), as AutoPredictor does.", stacklevel=3)

    # The forecaster protocol.

    @property
    def networks(self):
        """The trained `DeepAR` networks (`model`'s, or `model` itself); empty before `fit`."""
        if self.model is None:
            return []
        return list(self.model.networks) if isinstance(self.model, DeepAREnsemble) else [self.model]

    def fit(self, panel, end=None, callbacks=None):
        """Trains `num_networks` new networks on the panel's data before `end` (default: all of it), the
        k-th with seed `seed + k` (weights and window draws); `callbacks` go to Keras's `fit` (timers,
        logging). Returns self; `history` holds the last network's Keras `History`."""
        end = self.training_end(panel, end)
        self.pick_likelihood(panel, end)
        if self.verbose and self.likelihood == "auto":
            print(f"likelihood='auto' picked {self.picked_likelihood!r} for these targets.", flush=True)
        networks = []
        for index in range(self.num_networks):
            seed = None if self.seed is None else self.seed + index
            if seed is not None:
                keras.utils.set_random_seed(seed)
            model = self.build_model(panel, end)
            network_callbacks = list(callbacks or [])
            if self.backup_directory:  # first, so a restored run's weights are what later callbacks see
                folder = f"end-{end}" + (f"-network-{index}" if self.num_networks > 1 else "")
                network_callbacks.insert(0, backup_callback(os.path.join(self.backup_directory, folder)))
            windows = self.windows(panel, model.lags)
            if self.early_stopping_patience is None:
                if index == 0:
                    self.warn_of_over_fitting(windows, end)
                self.history = self.train(model, windows, end, callbacks=network_callbacks, sampler_seed=seed or 0)
            else:
                self.history = self.train_with_early_stopping(model, windows, end, network_callbacks, seed or 0)
            networks.append(model)
        self.model = networks[0] if len(networks) == 1 else DeepAREnsemble(networks)
        return self

    def predict_paths(self, panel, origin=None, num_samples=None, seed=0):
        """Sample paths; an ensemble's networks draw equal shares of them (see `DeepAREnsemble`)."""
        if self.model is None:
            raise ValueError("DeepARForecaster is not fitted: call fit(panel) first.")
        origin = self.forecast_origin(panel, origin)
        inputs = self.windows(panel, self.model.lags).last_windows(end=origin, with_future_target=False)
        return self.model.forecast(inputs, num_samples or self.num_samples, seed)["samples"]
