import keras
import numpy as np
import tensorflow as tf

from kerasts import likelihoods
from kerasts._checks import check_lags, check_levels, check_positive_int
from kerasts._distributed_build import DistributedBuildMixin
from kerasts._graph_checks import GraphChecksMixin
from kerasts._training_graph_release import TrainingGraphReleaseMixin
from kerasts.export import ServingEndpointsMixin
from kerasts.layers.calendar_features import CalendarFeatures
from kerasts.layers.distribution_output import DistributionOutput
from kerasts.layers.mean_scaler import MeanScaler
from kerasts.layers.recurrent_stack import RecurrentStack
from kerasts.layers.std_scaler import StdScaler
from kerasts.models.deepar import sampling

DEFAULT_LAGS = tuple(range(1, 8))
SCALINGS = ("mean", "std", "none")


@keras.saving.register_keras_serializable(package="kerasts")
class DeepAR(DistributedBuildMixin, GraphChecksMixin, ServingEndpointsMixin, TrainingGraphReleaseMixin, keras.Model):
    """DeepAR: an autoregressive RNN that outputs a likelihood's parameters at each step.

    Each step's input holds the target at the `lags` (scaled, see `scaling`), the
    calendar features of its timestamp, an age feature, known covariates
    (standardised), and static features: an embedding per static category and the log of
    the scale. The scale comes from the context's observed values, so one network serves
    series of any size; parameters come back in the data's units. Training is teacher-forced
    over context and horizon (`model.fit` with `kerasts.losses.NegativeLogLikelihood`); `forecast` samples joint
    paths ancestrally in one TensorFlow graph, all series times all samples as one batch, in antithetic
    pairs for a symmetric likelihood (Student-t, Gaussian: see `Likelihood.draw_paths`).

    Inputs are dicts as `kerasts.data.ForecastWindows` builds them: `"target"` and
    `"observed"` (history of `max(lags)` steps, context and, in training, horizon),
    `"timestamps"` (int64 Unix seconds of the context and horizon steps),
    `"covariates"` (if `num_covariates`), `"past_covariates"` (if `num_past_covariates`) and
    `"static_categories"` (if `cardinalities`).

    Args:
        prediction_length: steps to forecast.
        context_length: steps the network is conditioned on before forecasting.
        frequency: the data's frequency (picks the calendar features).
        lags: positive ints; the history needs `max(lags)` steps before the context.
        likelihood: output family (`"student_t"`, `"negative_binomial"`, ..., a family added with
            `kerasts.likelihoods.register_likelihood`, or a `Likelihood` instance).
        cell: `"lstm"`, `"gru"`, `"nested_lstm"`, a registered cell, or `{"name": ..., "config":
            {...}}` with the cell's arguments (see `kerasts.layers.RecurrentStack`).
        num_layers, units: size of the recurrent stack.
        dropout: dropout rate between recurrent layers, in training only.
        batch_shards: shards of the batch whose recurrent passes run concurrently (see
            `kerasts.layers.RecurrentStack`): the default 2 uses a second CPU core, which
            at small batches trains about 1.5x faster on two cores; 1 on a GPU.
        num_covariates: known real covariates per step.
        covariate_mean, covariate_std: standardisation of the covariates (from
            `ForecastWindows.covariate_statistics()`); none when omitted.
        num_past_covariates: real covariates known only up to the forecast start (input
            `"past_covariates"`, context steps only): read over the context, zero over the horizon with
            a flag feature telling the two apart, in training and forecasting alike.
        past_covariate_mean, past_covariate_std: their standardisation
            (`ForecastWindows.covariate_statistics(past_only=True)`).
        cardinalities: number of codes of each static categorical feature.
        embedding_dims: embedding size per categorical (default `min(50, (c + 1) // 2)`).
        minimum_scale: floor of the scale.
        num_samples: sample paths per series in `forecast` and the exported signature.
        quantiles: levels the `forecast` signature returns.
        scaling: `"mean"` divides each window by its context's mean absolute value (`MeanScaler`, the
            DeepAR paper's); `"std"` standardises it by the context's mean and standard deviation
            (`StdScaler`) and shifts the likelihood's location back, so a series that moves little
            around a high level is not a flat line to the network; it needs a likelihood with a
            location (Student-t, Gaussian), and feeds `asinh(loc / scale)` as a static feature too;
            `"none"` feeds the window as it is, for a family on a fixed interval that cannot be
            rescaled (beta, targets in (0, 1)). `DeepARForecaster` chooses by likelihood.
        non_negative: sampled values below zero become zero (and later steps see them so), for
            targets that cannot be negative and a likelihood whose support is every real (Student-t,
            Gaussian): a quantile raised to zero is never further from a non-negative actual.
            `DeepARForecaster` sets it when the training target has no negative value
            (its forecasts are then never negative either).
        holidays: optional `{country code: [days since 1970-01-01]}` (`kerasts.data.holiday_days`): per
            country, the holidays in each step's period join the calendar features, computed from the
            timestamps in the graph, so the SavedModel needs no holiday input.
        holiday_category, holiday_country_of_code: for a country per series: the static category
            (position) naming each series' country, and each of its codes' country in `holidays` (None:
            none); each series then gets one holiday feature, its own country's.
        **kwargs: `keras.Model` arguments.

    Call arguments:
        inputs: the dict above, with the horizon's targets (teacher forcing).
        training: whether dropout is active.

    Returns:
        Parameters `(batch, context_length + prediction_length, num_parameters)`.

    This is the network; `kerasts.models.DeepARForecaster` owns the training recipe (lags the
    history can feed, covariate statistics, clipping, window sampling) and is what to use on a
    panel. Driving the network by hand:

    Example:

    ```python
    panel = kerasts.data.align_target(table, "H")
    lags = kerasts.data.lags_for_frequency("H", history_length=len(panel.timestamps))
    windows = kerasts.data.ForecastWindows(panel, 168, 24, lags, likelihood="student_t")
    model = kerasts.models.DeepAR(24, 168, "H", lags=lags)
    model.compile("adam", loss=kerasts.losses.NegativeLogLikelihood("student_t"))
    model.fit(windows.training_dataset(32), steps_per_epoch=50, epochs=10)
    paths = model.forecast(windows.last_windows(with_future_target=False), seed=0)["samples"]
    model.export("deepar")                          # endpoints serve and forecast
    ```

    Reference:
        Salinas, Flunkert, Gasthaus, Januschowski, "DeepAR: Probabilistic forecasting with
        autoregressive recurrent networks", International Journal of Forecasting 36(3), 2020.
    """

    def __init__(self, prediction_length, context_length, frequency, lags=DEFAULT_LAGS, likelihood="student_t",
                 cell="lstm", num_layers=2, units=40, dropout=0.1, batch_shards=2, num_covariates=0,
                 covariate_mean=None, covariate_std=None, cardinalities=(), embedding_dims=None, minimum_scale=1e-10,
                 num_samples=100, quantiles=(0.1, 0.5, 0.9), scaling="mean", non_negative=False, holidays=None,
                 num_past_covariates=0, past_covariate_mean=None, past_covariate_std=None,
                 holiday_category=None, holiday_country_of_code=None, **kwargs):
        super().__init__(**kwargs)
        for name, value in (("prediction_length", prediction_length), ("context_length", context_length),
                            ("num_layers", num_layers), ("units", units), ("batch_shards", batch_shards),
                            ("num_samples", num_samples)):
            check_positive_int(name, value)
        lags = check_lags(lags)
        if not 0 <= dropout < 1:
            raise ValueError(f"`dropout` must be in [0, 1), got {dropout!r}.")
        quantiles = check_levels("quantiles", quantiles)
        cardinalities = [int(value) for value in cardinalities]
        if embedding_dims is None:
            embedding_dims = [min(50, (value + 1) // 2) for value in cardinalities]
        if len(embedding_dims) != len(cardinalities):
            raise ValueError(
                f"`embedding_dims` has {len(embedding_dims)} entries for {len(cardinalities)} `cardinalities`."
            )
        for name, values, count in (("covariate_mean", covariate_mean, num_covariates),
                                    ("covariate_std", covariate_std, num_covariates),
                                    ("past_covariate_mean", past_covariate_mean, num_past_covariates),
                                    ("past_covariate_std", past_covariate_std, num_past_covariates)):
            if values is not None and len(values) != count:
                raise ValueError(f"`{name}` has {len(values)} entries for {count} covariates.")
        self.prediction_length = int(prediction_length)
        self.context_length = int(context_length)
        self.frequency = frequency
        self.lags = sorted(lags)
        self.history_length = self.lags[-1]
        self.num_layers = int(num_layers)
        self.units = int(units)
        self.dropout_rate = float(dropout)
        self.num_covariates = int(num_covariates)
        self.covariate_mean = None if covariate_mean is None else [float(v) for v in covariate_mean]
        self.covariate_std = None if covariate_std is None else [float(v) for v in covariate_std]
        self.num_past_covariates = int(num_past_covariates)
        self.past_covariate_mean = None if past_covariate_mean is None else [float(v) for v in past_covariate_mean]
        self.past_covariate_std = None if past_covariate_std is None else [float(v) for v in past_covariate_std]
        self.cardinalities = cardinalities
        self.embedding_dims = [int(value) for value in embedding_dims]
        self.minimum_scale = minimum_scale
        self.num_samples = int(num_samples)
        self.quantiles = [float(level) for level in quantiles]

        if scaling not in SCALINGS:
            raise ValueError(f"`scaling` must be one of {SCALINGS}, got {scaling!r}.")
        self.scaling = scaling
        self.non_negative = bool(non_negative)
        self.scaler = None if scaling == "none" else (MeanScaler if scaling == "mean" else StdScaler)(
            minimum_scale=minimum_scale, name="scaler")
        self.calendar = CalendarFeatures(frequency, holidays=holidays, name="calendar")
        self.holiday_category, self.holiday_country_of_code = None, None
        if holiday_category is not None:
            countries = list(self.calendar.holidays)
            if not 0 <= int(holiday_category) < len(cardinalities) or holiday_country_of_code is None or \
                    len(holiday_country_of_code) != cardinalities[int(holiday_category)]:
                raise ValueError("`holiday_category` must index a static category and `holiday_country_of_code` give "
                                 "each of its codes' country (None for none).")
            unknown = sorted({code for code in holiday_country_of_code if code is not None} - set(countries))
            if unknown:
                raise ValueError(f"`holiday_country_of_code` names countries {unknown} that `holidays` lacks.")
            self.holiday_category = int(holiday_category)
            self.holiday_country_of_code = list(holiday_country_of_code)
        self.embeddings = [
            keras.layers.Embedding(cardinality, dimension, name=f"category_embedding_{index}")
            for index, (cardinality, dimension) in enumerate(zip(cardinalities, self.embedding_dims))
        ]
        self.recurrent = RecurrentStack(cell, self.units, self.num_layers, self.dropout_rate, batch_shards,
                                        name="recurrent")
        self.cell = self.recurrent.cell
        self.distribution_output = DistributionOutput(likelihood, name="distribution_output")
        self.likelihood = self.distribution_output.likelihood
        if scaling == "std" and self.likelihood.location_parameter is None:
            raise ValueError(f"scaling='std' shifts the likelihood's location, and {self.likelihood.name!r} has none: "
                             "use scaling='mean' with it.")
        if scaling != "none" and not self.likelihood.rescalable:
            raise ValueError(f"The {self.likelihood.name!r} likelihood lives on a fixed interval and cannot be "
                             f"rescaled: use scaling='none' with it, not {scaling!r}.")

    # Features shared by training and forecasting.

    def _scale(self, target, observed):
        """The window scaled by its context's statistics (`scaling`): `(scaled, loc, scale)`; `loc` is
        None unless standardised, and `scale` 1 under `scaling="none"`."""
        context = slice(self.history_length, self.history_length + self.context_length)
        loc = None
        if self.scaling == "none":
            scale = tf.ones_like(target[:, :1])
        elif self.scaling == "mean":
            _, scale = self.scaler(target[:, context], observed[:, context])
        else:
            _, loc, scale = self.scaler(target[:, context], observed[:, context])
        centred = target if loc is None else target - loc
        return tf.where(observed > 0, centred / scale, tf.zeros_like(target)), loc, scale

    def _dynamic_features(self, inputs, observed):
        """Per step of context and horizon: calendar, age, standardised covariates and past-only ones."""
        steps = self.context_length + self.prediction_length
        features = [self.calendar(inputs["timestamps"])]
        if self.holiday_category is not None:
            features = [self._own_country_holidays(features[0], inputs["static_categories"])]
        # Age: steps since the window's first observation (log10(2 + age), as GluonTS scales it).
        positions = tf.range(self.history_length, self.history_length + steps, dtype=tf.float32)
        has_observation = tf.reduce_any(observed > 0, axis=1, keepdims=True)
        first_observed = tf.where(has_observation, tf.cast(tf.argmax(observed, axis=1)[:, None], tf.float32),
                                  float(self.history_length + self.context_length))
        features.append(tf.math.log(2.0 + tf.nn.relu(positions[None] - first_observed))[..., None] / tf.math.log(10.0))
        if self.num_covariates:
            features.append(_standardised(inputs["covariates"], self.covariate_mean, self.covariate_std))
        if self.num_past_covariates:
            # Known over the context only: zeros over the horizon, and a flag saying which steps are known.
            past = _standardised(inputs["past_covariates"], self.past_covariate_mean, self.past_covariate_std)
            batch = tf.shape(past)[0]
            horizon = tf.zeros([batch, self.prediction_length, self.num_past_covariates])
            known = tf.concat([tf.ones([batch, self.context_length, 1]), tf.zeros([batch, self.prediction_length, 1])],
                              axis=1)
            features += [tf.concat([past, horizon], axis=1), known]
        return tf.concat(features, axis=-1)

    def _own_country_holidays(self, calendar, categories):
        """The calendar features with the per-country holiday counts replaced by one: those of each
        series' own country (its `holiday_category` code's), zero for a code with no country."""
        countries = list(self.calendar.holidays)
        positions = tf.constant([-1 if country is None else countries.index(country)
                                 for country in self.holiday_country_of_code], tf.int32)
        own = tf.one_hot(tf.gather(positions, tf.cast(categories, tf.int32)[:, self.holiday_category]),
                         len(countries), dtype=calendar.dtype)  # -1 (no country): all zeros
        counts = calendar[..., -len(countries):]
        return tf.concat([calendar[..., :-len(countries)],
                          tf.reduce_sum(counts * own[:, None, :], axis=-1, keepdims=True)], axis=-1)

    def _static_features(self, inputs, loc, scale):
        features = [tf.math.log(scale)]
        if loc is not None:
            features.append(tf.math.asinh(loc / scale))  # the level in units of the scale, unit-free
        if self.embeddings:
            categories = tf.cast(inputs["static_categories"], tf.int32)
            features += [embedding(categories[:, index]) for index, embedding in enumerate(self.embeddings)]
        return tf.concat(features, axis=-1)

    def _lagged(self, scaled, first_step, steps):
        """Scaled target at each lag for `steps` steps from `first_step` (index into the window)."""
        return tf.stack([scaled[:, first_step - lag:first_step - lag + steps] for lag in self.lags], axis=-1)

    @staticmethod
    def _step_inputs(lagged, dynamic, static):
        if lagged.shape.rank == 3:  # whole sequences: repeat the static features over time
            static = tf.repeat(static[:, None], tf.shape(lagged)[1], axis=1)
        return tf.concat([lagged, dynamic, static], axis=-1)

    def _check_inputs(self, inputs, with_future_target):
        required = ["target", "observed", "timestamps"]
        required += ["covariates"] if self.num_covariates else []
        required += ["past_covariates"] if self.num_past_covariates else []
        required += ["static_categories"] if self.cardinalities else []
        if not isinstance(inputs, dict):
            raise TypeError(f"DeepAR takes a dict of inputs with keys {required}, got {type(inputs).__name__}.")
        missing = [name for name in required if name not in inputs]
        if missing:
            raise ValueError(f"DeepAR inputs lack {missing}; expected keys {required}.")
        expected_length = self.history_length + self.context_length + (self.prediction_length if with_future_target else 0)
        for name in ("target", "observed"):
            length = inputs[name].shape[-1]
            if length is not None and length != expected_length:
                raise ValueError(
                    f"DeepAR input {name!r} has {length} steps; expected {expected_length} = max(lags) "
                    f"{self.history_length} + context_length {self.context_length}"
                    + (f" + prediction_length {self.prediction_length}" if with_future_target else "")
                    + " (build windows with kerasts.data.ForecastWindows)."
                )
        timestamps = inputs["timestamps"]
        # Keras builds a reloaded model on float placeholders of the input shapes: check real data only.
        if isinstance(timestamps, np.ndarray):
            integer, dtype = np.issubdtype(timestamps.dtype, np.integer), timestamps.dtype
        elif tf.is_tensor(timestamps) and tf.executing_eagerly():
            integer, dtype = timestamps.dtype.is_integer, timestamps.dtype.name
        else:
            integer, dtype = True, None
        if not integer:
            raise TypeError(f"DeepAR input 'timestamps' must hold integer Unix seconds (ForecastWindows makes them), "
                            f"got dtype {dtype}.")
        steps = inputs["timestamps"].shape[-1]
        if steps is not None and steps != self.context_length + self.prediction_length:
            raise ValueError(f"DeepAR input 'timestamps' has {steps} steps; expected context_length + "
                             f"prediction_length = {self.context_length + self.prediction_length}.")

    def build(self, input_shape=None):
        # The shapes follow from the config, so build on the model's own signature: a malformed first call is
        # then refused by `_check_inputs`, where a build on its shapes failed in Keras first (two warnings, and a
        # model marked built without weights).
        self.compute_output_spec({name: keras.KerasTensor(spec.shape, spec.dtype.name)
                                  for name, spec in self.input_signature(with_future_target=True).items()})

    def call(self, inputs, training=None):
        self._check_inputs(inputs, with_future_target=True)
        target = tf.cast(inputs["target"], tf.float32)
        observed = tf.cast(inputs["observed"], tf.float32)
        scaled, loc, scale = self._scale(target, observed)
        steps = self.context_length + self.prediction_length
        lagged = self._lagged(scaled, self.history_length, steps)
        sequence = self._step_inputs(lagged, self._dynamic_features(inputs, observed),
                                     self._static_features(inputs, loc, scale))
        hidden, _ = self.recurrent(sequence, training=training)
        return self.parameters_in_target_units(hidden, loc, scale)

    def parameters_in_target_units(self, hidden, loc, scale):
        """The likelihood's parameters from the network's output, mapped back by the window's `loc` and
        `scale` (left as they are under `scaling="none"`)."""
        if self.scaling == "none":
            return self.distribution_output(hidden)
        return self.distribution_output(hidden, target_scale=scale, target_loc=loc)

    # Forecasting: the sampling loop is in sampling.py.

    def forecast(self, inputs, num_samples=None, seed=0, quantiles=None):
        """Sample paths, mean and quantiles for each series, as numpy arrays (see `sampling.py`).

        Args:
            inputs: a window dict without horizon targets
                (`ForecastWindows.last_windows(with_future_target=False)` or `.windows(...,
                with_future_target=False)`).
            num_samples: paths per series (default: the model's `num_samples`).
            seed: int; the same seed gives the same paths.
            quantiles: levels to return (default: the model's `quantiles`).

        Returns:
            Dict with `"samples"` `(batch, num_samples, prediction_length)`, `"mean"`
            `(batch, prediction_length)` and `"quantiles"` `(batch, len(quantiles),
            prediction_length)`.
        """
        return sampling.forecast(self, inputs, num_samples, seed, quantiles)

    def sample_paths(self, inputs, num_samples, seed):
        """Traceable joint paths `(batch, num_samples, prediction_length)` for a seed of shape `[2]`."""
        return sampling.traced_sample_paths(self, inputs, num_samples, seed)

    def input_signature(self, with_future_target):
        """TensorSpecs of the input dict: with the horizon's targets (`serve`) or without (`forecast`)."""
        past = self.history_length + self.context_length + (self.prediction_length if with_future_target else 0)
        steps = self.context_length + self.prediction_length
        signature = {
            "target": tf.TensorSpec((None, past), tf.float32, name="target"),
            "observed": tf.TensorSpec((None, past), tf.float32, name="observed"),
            "timestamps": tf.TensorSpec((None, steps), tf.int64, name="timestamps"),
        }
        if self.num_covariates:
            signature["covariates"] = tf.TensorSpec((None, steps, self.num_covariates), tf.float32, name="covariates")
        if self.num_past_covariates:
            signature["past_covariates"] = tf.TensorSpec((None, self.context_length, self.num_past_covariates),
                                                         tf.float32, name="past_covariates")
        if self.cardinalities:
            signature["static_categories"] = tf.TensorSpec((None, len(self.cardinalities)), tf.int32,
                                                           name="static_categories")
        return signature

    def serving_signature(self):
        """The inputs of the exported `serve` endpoint: `input_signature(with_future_target=True)`."""
        return self.input_signature(with_future_target=True)

    def serving_endpoints(self, **options):
        """`serve` (teacher-forced parameters) and `forecast` (`sampling.forecast_endpoint`: the paths,
        mean and quantiles `forecast` gives for a seed of shape `[2]`), for `export` (see `kerasts.export`)."""
        return {**super().serving_endpoints(**options), "forecast": sampling.forecast_endpoint(self)}

    def get_config(self):
        return {
            **super().get_config(),
            "prediction_length": self.prediction_length,
            "context_length": self.context_length,
            "frequency": self.frequency,
            "lags": list(self.lags),
            "likelihood": likelihoods.serialize(self.likelihood),
            "cell": self.cell,
            "num_layers": self.num_layers,
            "units": self.units,
            "dropout": self.dropout_rate,
            "batch_shards": self.recurrent.batch_shards,
            "num_covariates": self.num_covariates,
            "covariate_mean": self.covariate_mean,
            "covariate_std": self.covariate_std,
            "cardinalities": list(self.cardinalities),
            "embedding_dims": list(self.embedding_dims),
            "minimum_scale": self.minimum_scale,
            "num_samples": self.num_samples,
            "quantiles": list(self.quantiles),
            "scaling": self.scaling,
            "non_negative": self.non_negative,
            "holidays": self.calendar.holidays or None,
            "num_past_covariates": self.num_past_covariates,
            "past_covariate_mean": self.past_covariate_mean,
            "past_covariate_std": self.past_covariate_std,
            "holiday_category": self.holiday_category,
            "holiday_country_of_code": self.holiday_country_of_code,
        }


def _standardised(values, mean, std):
    values = tf.cast(values, tf.float32)
    if mean is not None:
        values = values - tf.constant(mean)
    if std is not None:
        values = values / tf.constant(std)
    return values
