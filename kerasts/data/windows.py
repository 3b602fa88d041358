"""Training and forecasting windows over a `TimeSeriesPanel`, as model inputs."""

import warnings

import numpy as np
import tensorflow as tf

from kerasts import likelihoods as likelihood_registry
from kerasts._checks import check_lags, check_positive_int
from kerasts.frequencies import STEP, parse_frequency, step_season

DEFAULT_MAX_LAG = 1200
FIRST_LAGS = tuple(range(1, 8))


def _neighbours(centre):
    return [centre - 1, centre, centre + 1]


def lags_for_frequency(frequency, max_lag=DEFAULT_MAX_LAG, history_length=None):
    """Lags 1..7 plus the neighbours of each seasonal cycle, as GluonTS chooses them.

    Hourly: the same hour 1..7 days back and 1..4 weeks back (each +-1); daily: 1..4 weeks
    and 1..3 months back; weekly: 1..3 months and 1..3 years back; monthly: 1..3 years;
    quarterly: 1..3 years; a step frequency (`"step-12"`): 1..3 of its seasons. A multiple
    (e.g. `"2H"`) divides the cycle lengths.

    Args:
        frequency: the data's frequency.
        max_lag: lags above it are dropped.
        history_length: steps of training history per series. When given, lags longer than
            half of it are dropped too. Such a lag points before the data (zero padding) in
            most training windows but at real values when forecasting, and the network meets
            inputs it never learned: on the electricity benchmark (672 training hours) hourly
            lags up to 673 gave a sampled ND of 0.375, capped at 336 gave 0.169.

    Returns:
        Sorted unique positive ints.
    """
    multiple, base = parse_frequency(frequency)
    check_positive_int("max_lag", max_lag)
    if history_length is not None:
        check_positive_int("history_length", history_length)
    cycles = {  # (cycle length in base units, how many cycles back)
        "min": [(60, 3), (60 * 24, 7)],
        "H": [(24, 7), (24 * 7, 4)],
        "D": [(7, 4), (30, 3)],
        "W": [(4, 3), (52, 3)],
        "M": [(12, 3)],
        "Q": [(4, 3)],
        "Y": [], STEP: [(step_season(frequency), 3)],
    }[base]
    lags = set(FIRST_LAGS)
    for length, count in cycles:
        for cycle in range(1, count + 1):
            centre = cycle * length // multiple
            if centre > 1:
                lags.update(_neighbours(centre))
    if history_length is not None:
        max_lag = min(max_lag, max(FIRST_LAGS[-1], history_length // 2))
    return sorted(lag for lag in lags if 0 < lag <= max_lag)


class ForecastWindows:
    """Cuts model inputs out of a panel: random training windows and windows at given origins.

    A window at origin `t` (the grid index of its first forecast step) holds, per series:

    * `"target"` and `"observed"`: the `history_length = max(lags)` steps before the
      context, the `context_length` context steps and, when the future is known (training,
      validation, backtests), the `prediction_length` horizon steps. Missing values are 0
      with `observed` 0; steps before the grid starts are padding, also unobserved.
    * `"timestamps"`: int64 Unix seconds of the context and horizon steps.
    * `"covariates"`: `(context + prediction, num_covariates)` when the panel has related series.
    * `"past_covariates"`: `(context, num_past_covariates)` when it has past-only ones.
    * `"static_categories"`: int codes when the panel has item attributes.

    Args:
        panel: the aligned target (`kerasts.data.align_target`), with its related data if any
            (`TimeSeriesPanel.with_related`); covariates must reach `prediction_length` steps ahead.
        context_length, prediction_length: window lengths.
        lags: the model's lags (history length is their maximum).
        likelihood: if given, the observed targets are checked against its support
            (count likelihoods need non-negative integers).
        context_inside_grid: training windows' contexts start on the grid, never in the padding before it
            (for a model that reads padded steps as values; DeepAR reads the `observed` mask as an input).
    """

    def __init__(self, panel, context_length, prediction_length, lags, likelihood=None, context_inside_grid=False):
        check_positive_int("context_length", context_length)
        check_positive_int("prediction_length", prediction_length)
        lags = check_lags(lags)
        self.panel = panel
        self.context_length = int(context_length)
        self.prediction_length = int(prediction_length)
        self.lags = sorted(int(lag) for lag in lags)
        self.history_length = self.lags[-1]
        self.context_inside_grid = context_inside_grid
        num_series, length = panel.target.shape
        if likelihood is not None:
            _check_support(panel, likelihood_registry.get(likelihood))
        self._padding = self.history_length + self.context_length
        # Padding on the left lets windows start before the grid; on the right, forecasts
        # from the last origin have room for their (unknown) horizon.
        pad = ((0, 0), (self._padding, self.prediction_length))
        self._observed = np.pad(panel.observed, pad).astype("float32")
        self._recorded = np.pad(panel.recorded, pad).astype("float32")
        self._target = np.pad(np.nan_to_num(panel.target), pad).astype("float32")
        self._seconds = _grid_seconds(panel, self._padding, self.prediction_length)
        self.covariates = None
        if panel.covariates is not None:
            if panel.future_steps < self.prediction_length:
                raise ValueError(
                    f"The panel's covariates reach {panel.future_steps} steps beyond the data; forecasting "
                    f"needs them over all prediction_length={self.prediction_length} steps (align_related with "
                    "that prediction_length)."
                )
            # Padding repeats the first known value: covariates hold until they change.
            self.covariates = np.pad(panel.covariates[:, :length + self.prediction_length],
                                     ((0, 0), (self._padding, 0), (0, 0)), mode="edge")
        self.past_covariates = None
        if panel.past_covariates is not None:
            # Only context steps are read, all before the grid's end.
            self.past_covariates = np.pad(panel.past_covariates, ((0, 0), (self._padding, 0), (0, 0)), mode="edge")
        self.static_categories = panel.static_categories
        self._tensor_cache = None

    @property
    def num_covariates(self):
        return 0 if self.covariates is None else self.covariates.shape[-1]

    @property
    def num_past_covariates(self):
        return 0 if self.past_covariates is None else self.past_covariates.shape[-1]

    def covariate_statistics(self, end=None, past_only=False):
        """Mean and standard deviation of each covariate (each past-only one with `past_only`) over the
        grid before `end` (default: all of it), for the model's standardisation."""
        values = self.past_covariates if past_only else self.covariates
        if values is None:
            return [], []
        end = self.panel.target.shape[1] if end is None else end
        flat = values[:, self._padding:self._padding + end].reshape(-1, values.shape[-1])
        return flat.mean(axis=0).tolist(), np.maximum(flat.std(axis=0), 1e-6).tolist()

    def windows(self, series, origins, with_future_target=True):
        """Inputs for the given `series` indices at grid `origins` (arrays of equal length), as numpy."""
        inputs = self._gather(tf.constant(np.asarray(series), tf.int64), tf.constant(np.asarray(origins), tf.int64),
                              with_future_target)
        return {name: value.numpy() for name, value in inputs.items()}

    def _gather(self, series, origins, with_future_target):
        """`windows` as TensorFlow ops, so the training pipeline can sample inside the graph."""
        arrays = self._tensors()
        origins = origins + self._padding
        before = self.history_length + self.context_length
        after = self.prediction_length if with_future_target else 0
        target_positions = origins[:, None] + tf.range(-before, after, dtype=tf.int64)[None]
        step_positions = origins[:, None] + tf.range(-self.context_length, self.prediction_length, dtype=tf.int64)[None]
        inputs = {
            "target": _steps_of(arrays["target"], series, target_positions),
            "observed": _steps_of(arrays["observed"], series, target_positions),
            "timestamps": tf.gather(arrays["seconds"], step_positions),
        }
        if self.covariates is not None:
            inputs["covariates"] = _steps_of(arrays["covariates"], series, step_positions)
        if self.past_covariates is not None:
            inputs["past_covariates"] = _steps_of(arrays["past_covariates"], series,
                                                  step_positions[:, :self.context_length])
        if self.static_categories is not None:
            inputs["static_categories"] = tf.gather(arrays["static_categories"], series)
        return inputs

    def _tensors(self):
        """The padded panel as tensors, converted once."""
        if self._tensor_cache is None:
            with tf.init_scope():  # eager tensors, captured (not copied) by the graphs that use them
                arrays = {"target": self._target, "observed": self._observed, "recorded": self._recorded,
                          "seconds": self._seconds,
                          "covariates": self.covariates, "past_covariates": self.past_covariates,
                          "static_categories": self.static_categories}
                self._tensor_cache = {name: tf.constant(value) for name, value in arrays.items() if value is not None}
        return self._tensor_cache

    def labelled_windows(self, series, origins):
        """`(inputs, y_true)` for the given `series` at grid `origins`, the future known, as numpy; `y_true`
        packs the context and horizon targets with their recorded mask (filled-in steps are inputs,
        never targets)."""
        inputs, labels = self._labelled(tf.constant(np.asarray(series), tf.int64),
                                        tf.constant(np.asarray(origins), tf.int64))
        return {name: value.numpy() for name, value in inputs.items()}, labels.numpy()

    def _labelled(self, series, origins):
        inputs = self._gather(series, origins, with_future_target=True)
        positions = origins[:, None] + self._padding + tf.range(-self.context_length, self.prediction_length,
                                                                dtype=tf.int64)[None]
        recorded = _steps_of(self._tensors()["recorded"], series, positions)
        return inputs, tf.stack([inputs["target"][:, self.history_length:], recorded], axis=-1)

    def last_windows(self, end=None, with_future_target=True):
        """One window per series whose horizon starts at grid index `end` (default: after the grid's
        end when forecasting, or the last `prediction_length` steps when the future is known); an
        array `end` gives one start per series (series that end at different times)."""
        length = self.panel.target.shape[1]
        if end is None:
            end = length - self.prediction_length if with_future_target else length
        series = np.arange(self.panel.target.shape[0])
        return self.windows(series, np.broadcast_to(np.asarray(end, dtype="int64"), series.shape), with_future_target)

    def validation_data(self, end):
        """`(inputs, y_true)` of each series' window whose horizon ends at grid index `end`,
        for `model.fit(..., validation_data=...)` (e.g. `end` = the training range's end)."""
        series = np.arange(self.panel.target.shape[0])
        return self.labelled_windows(series, np.full(series.shape, end - self.prediction_length))

    def valid_origins(self, end):
        """Per series, the range `[low, high]` of training origins whose horizon ends by `end` and by the
        series' last recorded step.

        A window needs at least one observed context step (to set its scale) and its horizon
        inside the data. Series without such a window (new items) are left out of training, with a
        warning naming them; the global model still forecasts them. None at all is an error.
        """
        low, high = self._origin_ranges(end)
        # Series never recorded (cold-start items) have nothing to train on, and no warning says so.
        too_short = np.flatnonzero((high < low) & self.panel.recorded.any(axis=1))
        if too_short.size:
            names = ", ".join(map(repr, self.panel.series_ids[too_short][:5]))
            message = (f"{too_short.size} of {len(low)} series are too short for prediction_length="
                       f"{self.prediction_length}: a training window needs at least {self.prediction_length + 1} "
                       f"steps from the series' first observation before the training end (e.g. {names})")
            if not (high >= low).any():
                raise ValueError(message + ". Shorten the prediction length or give longer series.")
            warnings.warn(message + "; they are forecast but not trained on.", stacklevel=3)
        if not (high >= low).any():
            raise ValueError("No series has a recorded value to train on before the training end.")
        return low, high

    def _origin_ranges(self, end):
        low = self.panel.first_observed + 1
        if self.context_inside_grid:
            low = np.maximum(low, self.context_length)
        # A horizon ends by the series' own last recorded step: past it (a discontinued item, a series whose
        # backtest hides its end) a window would hold padding only, and on a ragged grid most draws would.
        return low, np.minimum(end, self.panel.last_observed + 1) - self.prediction_length

    def window_counts(self, end):
        """Per series, how many distinct training windows end by `end` (0 for a series too short); no checks."""
        low, high = self._origin_ranges(end)
        return np.maximum(high - low + 1, 0)

    def training_dataset(self, batch_size, sampling="uniform", seed=0, end=None):
        """An endless `tf.data.Dataset` of `(inputs, y_true)` batches for `model.fit(steps_per_epoch=...)`.

        Args:
            batch_size: windows per batch.
            sampling: `"uniform"` weighs every window equally; `"scale"` picks windows with
                probability proportional to their series' scale `1 + mean(|z|)`, as the DeepAR
                paper does, so large series are seen more often (and series a thousand times
                smaller almost never: averaged over M3, electricity and traffic it lost to uniform);
                `"shuffled"` gives every window once a pass, each pass in a new order (the last batch of a
                pass partial), as Keras's shuffled pass over arrays does without holding the windows.
            seed: seeds the sampler (the same seed gives the same batches).
            end: grid index where the training range ends (default: the whole grid).
        """
        if sampling not in ("scale", "uniform", "shuffled"):
            raise ValueError(f"`sampling` must be 'scale', 'uniform' or 'shuffled', got {sampling!r}.")
        end = self.panel.target.shape[1] if end is None else end
        low, _ = self.valid_origins(end)
        counts = self.window_counts(end)
        if sampling == "shuffled":
            return self._shuffled_passes(batch_size, seed, low, counts)
        weights = counts.astype("float64")  # too-short series: weight 0, never drawn
        if sampling == "scale":
            observed = self.panel.observed[:, :end]
            totals = np.where(observed, np.abs(np.nan_to_num(self.panel.target[:, :end])), 0.0).sum(axis=1)
            weights *= 1.0 + totals / np.maximum(observed.sum(axis=1), 1)
        with np.errstate(divide="ignore"):  # log(0) = -inf: a series never drawn
            log_probabilities = tf.constant(np.log(weights / weights.sum())[None], tf.float32)
        low, counts = tf.constant(low, tf.int64), tf.constant(counts, tf.int64)

        def sample(step):
            # Stateless draws keyed by (seed, batch number): the same seed gives the same batches.
            series_seed, origin_seed = tf.unstack(tf.random.experimental.stateless_split(
                tf.stack([tf.cast(seed, tf.int64), step]), num=2))
            series = tf.random.stateless_categorical(log_probabilities, batch_size, series_seed, dtype=tf.int64)[0]
            series_counts = tf.gather(counts, series)
            uniform = tf.random.stateless_uniform([batch_size], origin_seed, dtype=tf.float64)
            # min(): float rounding must not reach one past the last origin.
            offsets = tf.minimum(tf.cast(uniform * tf.cast(series_counts, tf.float64), tf.int64), series_counts - 1)
            origins = tf.gather(low, series) + offsets
            return self._labelled(series, origins)

        # Sampling in the graph (no Python generator) keeps the input pipeline off the GIL.
        return tf.data.Dataset.counter().map(sample).prefetch(tf.data.AUTOTUNE)

    def _shuffled_passes(self, batch_size, seed, low, counts):
        """Endless passes over every training window, each in a new order; only the windows' indices are held."""
        series = np.repeat(np.arange(len(counts)), counts)
        origins = np.repeat(low, counts) + np.arange(len(series)) - np.repeat(np.cumsum(counts) - counts, counts)
        with tf.init_scope():
            series, origins = tf.constant(series, tf.int64), tf.constant(origins, tf.int64)
        total = int(counts.sum())

        def one_pass(index):
            order = tf.random.experimental.stateless_shuffle(tf.range(total, dtype=tf.int64),
                                                             seed=tf.stack([tf.cast(seed, tf.int64), index]))
            return tf.data.Dataset.from_tensor_slices(order).batch(batch_size)

        def cut(order):
            return self._labelled(tf.gather(series, order), tf.gather(origins, order))

        return tf.data.Dataset.counter().flat_map(one_pass).map(cut).prefetch(tf.data.AUTOTUNE)


def _steps_of(array, series, positions):
    """`array[series[i], positions[i, j]]` for a (series, grid, ...) array: one gather of just the
    window's steps (gathering whole series rows first would copy each padded row per window)."""
    rows = tf.broadcast_to(series[:, None], tf.shape(positions))
    return tf.gather_nd(array, tf.stack([rows, positions], axis=-1))


def _grid_seconds(panel, before, after):
    """Unix seconds of every grid step, with `before` steps prepended and `after` appended."""
    timestamps = panel.step_timestamps(-before, before + len(panel.timestamps) + after)
    if not panel.has_calendar:  # a step index: the step numbers (no calendar features read them)
        return timestamps.to_numpy(dtype="int64")
    return (timestamps.astype("int64") // 10**9).to_numpy()


def _violates_support(likelihood, target, observed):
    try:
        likelihood.check_target(tf.constant(np.nan_to_num(target), tf.float32), tf.constant(observed))
    except ValueError as error:
        return error
    return None


def _check_support(panel, likelihood):
    """The likelihood's own support check of the recorded targets (filled-in steps are never its
    targets), naming the first series that fails it."""
    if _violates_support(likelihood, panel.target, panel.recorded) is None:
        return
    for row, series_id in enumerate(panel.series_ids):
        error = _violates_support(likelihood, panel.target[row], panel.recorded[row])
        if error is not None:
            raise ValueError(f"Series {series_id!r}: {error} Missing values (NaN) are fine: they are masked.")
