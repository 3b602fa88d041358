"""DeepAR's sampling loop: joint paths drawn ancestrally in one TensorFlow graph.

Kept apart from the network (`deepar.py`), as GluonTS keeps its prediction network: the loop runs
the network's recurrent stack one step at a time over series x samples rows, feeding each draw back
as the next step's lags. `DeepAR.forecast` and the exported `forecast` endpoint both run it.
"""

import json

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from kerasts._checks import check_levels, check_positive_int
from kerasts.export import Endpoint

# Sample paths per chunk when forecasting (see `sample_paths`).
PATHS_PER_CHUNK = 16_384


def traced_sample_paths(model, inputs, num_samples, seed, template=None):
    """`sample_paths` of `model` through one `tf.function` per architecture.

    The trace is `template`'s (default: `model`) and takes the weights and the number of paths as
    arguments, so the networks of an ensemble (one architecture, different weights, unequal shares
    of the paths) and later calls with other numbers of paths share one trace: tracing and
    optimising the loop is most of a first forecast's time (#23, RESULTS.md). `template` must
    have `model`'s architecture (see `architecture_key`). Traceable itself (the exported
    endpoint calls it inside its own trace).
    """
    paths = traced_sampler(model if template is None else template)(
        [variable.value for variable in model.variables], inputs, tf.constant(num_samples, tf.int32), seed)
    return tf.ensure_shape(paths, [None, num_samples, model.prediction_length])


def traced_sampler(template):
    """`template`'s `tf.function(weights, inputs, num_samples, seed) -> paths`, made on first use.

    Traced without AutoGraph (the loop has no Python control flow to convert, and converting it
    was most of the tracing time) and never inlined into a caller's graph, so a forecast's calls,
    one per network, share one optimised function and still run side by side."""
    if "_traced_sampler" not in template.__dict__:  # in __dict__: Keras would track the attribute and save it

        def sample(weights, inputs, num_samples, seed):
            with keras.StatelessScope(state_mapping=list(zip(template.variables, weights))):
                return sample_paths(template, inputs, num_samples, seed)

        template.__dict__["_traced_sampler"] = tf.function(sample, reduce_retracing=True, autograph=False,
                                                           experimental_attributes={"_noinline": True})
    return template.__dict__["_traced_sampler"]


def architecture_key(model):
    """Equal for networks that can share a trace of the sampling loop: their configs but the name."""
    config = {name: value for name, value in model.get_config().items() if name != "name"}
    return type(model).__name__, json.dumps(config, sort_keys=True, default=repr)


def sample_paths(model, inputs, num_samples, seed):
    """Joint sample paths `(batch, num_samples, prediction_length)` in the data's units.

    `inputs` hold no horizon targets (history and context only). Traceable: this is
    the body of the exported `forecast` endpoint. The series go through in chunks of
    about `PATHS_PER_CHUNK` paths, two at a time: a step over every path at once moves
    hundreds of MB, and on CPU small chunks run about twice as fast (electricity, 2,247
    series x 100 paths: 20.7 s in one pass, 10.6 s in chunks of 16k paths, one at a
    time); two chunks in flight keep both cores of a small machine busy between ops
    (another 10%, also with one intra-op thread, see the README).
    """
    model._check_inputs(inputs, with_future_target=False)
    inputs = {name: tf.convert_to_tensor(value) for name, value in inputs.items()}
    batch = tf.shape(inputs["target"])[0]
    series_per_chunk = tf.maximum(tf.minimum(batch, PATHS_PER_CHUNK // num_samples), 1)
    num_chunks = (batch + series_per_chunk - 1) // series_per_chunk

    def chunked(tensor):  # (batch, ...) -> (num_chunks, series_per_chunk, ...), zero rows filling the last
        filled = tf.pad(tensor, [[0, num_chunks * series_per_chunk - batch]] + [[0, 0]] * (tensor.shape.rank - 1))
        return tf.reshape(filled, tf.concat([[num_chunks, series_per_chunk], tf.shape(tensor)[1:]], axis=0))

    def sample_chunk(index_and_inputs):
        index, chunk_inputs = index_and_inputs
        chunk_seed = tf.random.experimental.stateless_fold_in(tf.cast(seed, tf.int32), index)
        return _sample_chunk(model, chunk_inputs, num_samples, chunk_seed)

    chunks = {name: chunked(value) for name, value in inputs.items()}
    paths = tf.map_fn(sample_chunk, (tf.range(num_chunks), chunks), fn_output_signature=tf.float32,
                      parallel_iterations=2)
    return tf.reshape(paths, [-1, num_samples, model.prediction_length])[:batch]

def _sample_chunk(model, inputs, num_samples, seed):
    target = tf.cast(inputs["target"], tf.float32)
    observed = tf.cast(inputs["observed"], tf.float32)
    scaled, loc, scale = model._scale(target, observed)
    dynamic = model._dynamic_features(inputs, observed)
    static = model._static_features(inputs, loc, scale)
    context_inputs = model._step_inputs(
        model._lagged(scaled, model.history_length, model.context_length), dynamic[:, :model.context_length], static
    )
    _, states = model.recurrent(context_inputs, training=False)

    def repeat(tensor):
        return tf.repeat(tensor, num_samples, axis=0)

    # A time-major buffer of every path's scaled values: the history and context first, each
    # step's draw written after them, so a lag of any step reads one position. The loop is a
    # `tf.while_loop`, not unrolled: tracing costs the same for any horizon.
    window_end = model.history_length + model.context_length
    horizon_slots = tf.zeros([model.prediction_length, tf.shape(scaled)[0] * num_samples])
    buffer = tf.TensorArray(tf.float32, size=0, dynamic_size=True, clear_after_read=False,
                            element_shape=tf.TensorShape([None])).unstack(
        tf.concat([tf.transpose(repeat(scaled)), horizon_slots], axis=0))
    lags = tf.constant(model.lags, tf.int32)
    path_scale = repeat(scale)[:, 0]
    path_loc = None if loc is None else repeat(loc)[:, 0]
    path_static = repeat(static)
    horizon_dynamic = tf.transpose(dynamic[:, model.context_length:], [1, 0, 2])  # (horizon, series, features)
    states = tf.nest.map_structure(repeat, states)

    def sample_step(step, buffer, states, samples):
        lagged = tf.transpose(buffer.gather(window_end + step - lags))
        hidden = model._step_inputs(lagged, repeat(horizon_dynamic[step]), path_static)
        hidden, states = model.recurrent.step(hidden, states)
        parameters = model.parameters_in_target_units(hidden, path_loc, path_scale)
        sample = _draw(model.likelihood, parameters, num_samples, tf.random.experimental.stateless_fold_in(seed, step))
        if model.non_negative:
            sample = tf.maximum(sample, 0.0)
        scaled_sample = (sample if path_loc is None else sample - path_loc) / path_scale
        return step + 1, buffer.write(window_end + step, scaled_sample), states, samples.write(step, sample)

    samples = tf.TensorArray(tf.float32, size=model.prediction_length, element_shape=tf.TensorShape([None]))
    _, _, _, samples = tf.while_loop(lambda step, *_: step < model.prediction_length, sample_step,
                                     (tf.constant(0), buffer, states, samples))
    return tf.reshape(tf.transpose(samples.stack()), [-1, num_samples, model.prediction_length])


def _draw(likelihood, parameters, num_samples, seed):
    """One draw per path, the rows of `parameters` being each series' `num_samples` paths in turn
    (`Likelihood.draw_paths`: antithetic pairs for a symmetric family)."""
    by_series = tf.reshape(parameters, [-1, num_samples, likelihood.num_parameters])
    return tf.reshape(likelihood.draw_paths(by_series, seed), [-1])


def forecast_outputs(model, inputs, num_samples, seed, quantiles):
    """Traceable: `model.sample_paths` (a `DeepAR`'s or an ensemble's pooled ones), their mean and quantiles."""
    paths = model.sample_paths(inputs, num_samples, seed)
    levels = [100.0 * level for level in quantiles]
    return {
        "samples": paths,
        "mean": tf.reduce_mean(paths, axis=1),
        "quantiles": tf.transpose(tfp.stats.percentile(paths, levels, axis=1, interpolation="linear"), [1, 0, 2]),
    }


def forecast_endpoint(model):
    """The exported `forecast` endpoint of a `DeepAR` or `DeepAREnsemble`: `forecast(inputs, seed)` takes
    the dict of `input_signature(with_future_target=False)` and a seed of shape `[2]` and returns
    `samples`, `mean` and `quantiles` (the model's `num_samples` and `quantiles`), the paths `forecast`
    gives for the same seed."""
    def forecast(inputs, seed):
        return forecast_outputs(model, inputs, model.num_samples, seed, tuple(model.quantiles))

    return Endpoint(forecast, [model.input_signature(with_future_target=False),
                               tf.TensorSpec((2,), tf.int32, name="seed")])


def forecast(model, inputs, num_samples=None, seed=0, quantiles=None):
    """`DeepAR.forecast` and `DeepAREnsemble.forecast` (see their docstrings): checks the inputs, then runs
    `forecast_outputs` in a `tf.function` traced once per number of samples and quantile levels (a
    cheap trace: the sampling loop in it is `traced_sampler`'s), and returns numpy arrays."""
    num_samples = model.num_samples if num_samples is None else check_positive_int("num_samples", num_samples)
    quantiles = tuple(model.quantiles if quantiles is None else check_levels("quantiles", quantiles))
    model._check_inputs(inputs, with_future_target=False)
    target, observed = np.asarray(inputs["target"], dtype="float64"), np.asarray(inputs["observed"]) > 0
    bad = np.flatnonzero((observed & ~np.isfinite(target)).any(axis=1))
    if bad.size:
        raise ValueError(f"`target` holds NaN or inf at steps marked observed in row(s) {bad[:5].tolist()}: mark them "
                         "unobserved (observed 0) or fill them; ForecastWindows does this for missing values.")
    if model.cardinalities:
        codes = np.asarray(inputs["static_categories"])
        for column, cardinality in enumerate(model.cardinalities):
            if codes[:, column].min() < 0 or codes[:, column].max() >= cardinality:
                raise ValueError(
                    f"static_categories column {column} holds codes outside [0, {cardinality}): encode "
                    "categories with the CategoryEncoder the model was built with (unseen ones map to 0)."
                )
    inputs = {name: tf.convert_to_tensor(value) for name, value in inputs.items()}
    traced = model.__dict__.setdefault("_traced_forecasts", {})  # in __dict__, as `traced_sampler`'s
    if (num_samples, quantiles) not in traced:
        traced[num_samples, quantiles] = tf.function(
            lambda inputs, seed: forecast_outputs(model, inputs, num_samples, seed, quantiles),
            reduce_retracing=True, autograph=False)
    outputs = traced[num_samples, quantiles](inputs, tf.constant([seed, 0], tf.int32))
    return {name: value.numpy() for name, value in outputs.items()}
