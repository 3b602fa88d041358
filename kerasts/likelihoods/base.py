"""The shared machinery of a likelihood family: parameters in, TFP distribution out."""

import tensorflow as tf
import tensorflow_probability as tfp

from kerasts._checks import check_in_graph

tfd = tfp.distributions

# Keeps positive parameters away from 0, where log-densities and their gradients explode.
POSITIVE_FLOOR = 1e-6


def positive(raw):
    """Maps an unconstrained value to a positive one (softplus with a small floor)."""
    return tf.math.softplus(raw) + POSITIVE_FLOOR


def probability(raw):
    """Maps an unconstrained value into (0, 1), kept off both ends (sigmoid saturates to 1.0)."""
    return POSITIVE_FLOOR + (1.0 - 2.0 * POSITIVE_FLOOR) * tf.sigmoid(raw)


class Likelihood:
    """A parametric family for probabilistic forecasts.

    A subclass names itself (`name`) and its parameters, maps unconstrained network outputs
    onto their domain, maps parameters fitted in scaled units back to data units, and builds
    the TFP distribution. Parameters travel as one tensor whose last axis holds them in
    `parameter_names` order, so that they pass through Keras models, losses and
    SavedModels as plain tensors. Register a subclass with
    `kerasts.likelihoods.register_likelihood` to use it by name in models and saved files.
    """

    name = None
    parameter_names = ()
    # A value inside the support, put where a target is unobserved so that its
    # log-density stays finite (its loss is masked out anyway).
    placeholder_target = 0.0
    # The parameter a shift of the target moves one for one (`shift_parameters`); None where there is none.
    location_parameter = None
    # Whether `scale_parameters` can map the family to another scale (a family on a fixed interval cannot).
    rescalable = True
    # Symmetric about its location parameter: `sample(..., mirrored=True)` then draws antithetic partners,
    # which `draw_paths` pairs paths with (DeepAR, the MLP). A subclass that sets it implements `mirrored`.
    symmetric = False

    @property
    def num_parameters(self):
        return len(self.parameter_names)

    def get_config(self):
        """Constructor arguments (none for the built-in families); saved with the models that use it."""
        return {}

    def unstack(self, parameters):
        """Splits the last axis into a dict `{parameter_name: tensor}`."""
        parameters = tf.convert_to_tensor(parameters)
        if parameters.shape.rank is not None and parameters.shape[-1] != self.num_parameters:
            raise ValueError(
                f"The {self.name} likelihood expects {self.num_parameters} parameters "
                f"{self.parameter_names} on the last axis, got shape {parameters.shape}."
            )
        return dict(zip(self.parameter_names, tf.unstack(parameters, num=self.num_parameters, axis=-1)))

    def stack(self, named_parameters):
        return tf.stack([named_parameters[name] for name in self.parameter_names], axis=-1)

    def domain_map(self, raw):
        """Unconstrained `(..., num_parameters)` -> parameters on their domain."""
        return self.stack(self._domain_map(self.unstack(raw)))

    def scale_parameters(self, parameters, target_scale):
        """Maps parameters of the target divided by `target_scale` to the target's units.

        `target_scale` must broadcast against `parameters[..., 0]`, e.g. `(batch, 1)`
        for parameters of shape `(batch, time, num_parameters)`.
        """
        target_scale = tf.cast(target_scale, parameters.dtype)
        batch_shape = parameters.shape[:-1]
        if batch_shape.is_fully_defined() and target_scale.shape.is_fully_defined():
            try:
                broadcast = tf.broadcast_static_shape(target_scale.shape, batch_shape)
            except ValueError:
                broadcast = None
            if broadcast != batch_shape:
                raise ValueError(
                    f"`target_scale` of shape {target_scale.shape} does not broadcast to the parameters' "
                    f"shape {batch_shape} without enlarging it; give it shape {batch_shape} or one that "
                    "broadcasts to it (e.g. (batch, 1) for (batch, time) parameters)."
                )
        return self.stack(self._scale(self.unstack(parameters), target_scale))

    def shift_parameters(self, parameters, target_loc):
        """Maps parameters of the target less `target_loc` to the target's units (after
        `scale_parameters`, for a target standardised as `(z - loc) / scale`). Only a location family
        (one with a `location_parameter`) can be shifted."""
        if self.location_parameter is None:
            raise ValueError(f"The {self.name} likelihood has no location parameter to shift by the target's "
                             "location: scale its targets by their mean only (e.g. DeepAR's scaling='mean').")
        named = self.unstack(parameters)
        named[self.location_parameter] = named[self.location_parameter] + tf.cast(target_loc, parameters.dtype)
        return self.stack(named)

    def distribution(self, parameters):
        """The TFP distribution with these parameters (batch shape `parameters.shape[:-1]`)."""
        return self._distribution(**self.unstack(parameters))

    def check_target(self, target, observed):
        """Raises (eagerly) or asserts (in a graph) that observed targets are in the support."""

    def log_prob(self, parameters, target):
        return self.distribution(parameters).log_prob(target)

    def mean(self, parameters):
        return self.distribution(parameters).mean()

    def sample(self, parameters, num_samples, seed, mirrored=False):
        """`num_samples` draws, shape `(num_samples,) + parameters.shape[:-1]`.

        `seed` is an int or a stateless seed tensor of shape `[2]`: the same seed gives
        the same draws, in eager mode and in a graph. With `mirrored` (a `symmetric` family
        only), each draw is `loc - scale * noise` where the same seed and shape give
        `loc + scale * noise`: still a draw of its own distribution, and an antithetic partner
        of the unmirrored draw wherever the parameters are equal.
        """
        if mirrored:
            raise ValueError(f"The {self.name} likelihood is not symmetric about a location: it cannot draw "
                             "mirrored (antithetic) samples.")
        return self.distribution(parameters).sample(num_samples, seed=_stateless_seed(seed))

    def draw_paths(self, parameters, seed):
        """One draw per path: `parameters` of shape `batch + (num_paths, num_parameters)`, each path its
        own parameters, draws of shape `batch + (num_paths,)`.

        For a `symmetric` family the paths come in antithetic pairs: path `i + num_paths // 2` reflects
        path `i`'s draw about its own location (`mirrored`, the same random numbers), an odd last path
        draws on its own. Every path is still a draw of its distribution, but the errors of the paths'
        median and mean partly cancel: on seven datasets DeepAR's 100 paths forecast about as well as
        1,000 independent ones (benchmarks/RESULTS.md, #23). Other families draw every path independently.
        """
        if not self.symmetric:
            return self.sample(parameters, 1, seed)[0]
        seed = _stateless_seed(seed)
        odd_seed = tf.random.experimental.stateless_fold_in(seed, 1)
        half = tf.shape(parameters)[-2] // 2
        return tf.concat([self.sample(parameters[..., :half, :], 1, seed)[0],
                          self.sample(parameters[..., half:2 * half, :], 1, seed, mirrored=True)[0],
                          self.sample(parameters[..., 2 * half:, :], 1, odd_seed)[0]], axis=-1)

    def quantile(self, parameters, level):
        """The `level`-quantile, shape `parameters.shape[:-1]` (`level` broadcasts)."""
        level = _check_level(level, parameters.dtype)
        return self.distribution(parameters).quantile(level)

    # Subclasses implement these three on dicts of named parameter tensors.
    def _domain_map(self, raw):
        raise NotImplementedError

    def _scale(self, parameters, target_scale):
        raise NotImplementedError

    def _distribution(self, **parameters):
        raise NotImplementedError


class CountLikelihood(Likelihood):
    """A family over non-negative integers, with exact quantiles found from its CDF."""

    def sample(self, parameters, num_samples, seed, mirrored=False):
        """As `Likelihood.sample` (never `mirrored`); draws whose parameters are not finite are NaN.

        TensorFlow's Poisson and gamma samplers loop until they accept a draw, and with a NaN or
        infinite rate they never do: such rows are drawn from valid stand-in parameters and then
        marked NaN, so sampling always ends.
        """
        parameters = tf.convert_to_tensor(parameters)
        finite = tf.reduce_all(tf.math.is_finite(parameters), axis=-1)
        stand_in = self.domain_map(tf.zeros_like(parameters))
        draws = super().sample(tf.where(finite[..., None], parameters, stand_in), num_samples, seed, mirrored)
        return tf.where(finite, draws, tf.constant(float("nan"), draws.dtype))

    def check_target(self, target, observed):
        observed_target = tf.boolean_mask(target, observed)
        check_in_graph(
            tf.reduce_all(observed_target >= 0),
            f"The {self.name} likelihood needs non-negative targets; some observed targets are negative.",
        )
        check_in_graph(
            tf.reduce_all(tf.equal(observed_target, tf.round(observed_target))),
            f"The {self.name} likelihood needs integer counts; some observed targets are not whole numbers.",
        )

    def quantile(self, parameters, level):
        """Smallest integer `k` with `CDF(k) >= level`, by doubling then bisection."""
        level = _check_level(level, parameters.dtype)
        distribution = self.distribution(parameters)
        level = tf.broadcast_to(level, tf.broadcast_dynamic_shape(tf.shape(level), distribution.batch_shape_tensor()))

        def below(k):
            return distribution.cdf(k) < level

        upper = tf.ones_like(level)
        # 64 doublings reach any float32 count, so this loop always ends.
        upper = tf.while_loop(
            lambda step, upper: (step < 64) & tf.reduce_any(below(upper)),
            lambda step, upper: (step + 1, tf.where(below(upper), 2.0 * upper, upper)),
            (tf.constant(0), upper),
        )[1]
        # Invariant: CDF(upper) >= level and CDF(lower - 1) < level (CDF(-1) = 0).
        lower = tf.zeros_like(level)
        lower, upper = tf.while_loop(
            lambda lower, upper: tf.reduce_any(lower < upper),
            lambda lower, upper: _bisect_step(lower, upper, below),
            (lower, upper),
        )
        return upper


def _bisect_step(lower, upper, below):
    middle = tf.floor((lower + upper) / 2.0)
    middle_below = below(middle)
    return tf.where(middle_below, middle + 1.0, lower), tf.where(middle_below, upper, middle)


def _check_level(level, dtype):
    level = tf.convert_to_tensor(level, dtype=dtype)
    check_in_graph(
        tf.reduce_all((level > 0) & (level < 1)),
        "Quantile levels must lie strictly between 0 and 1.",
    )
    return level


def _stateless_seed(seed):
    if isinstance(seed, int):
        return tf.constant([seed, 0], dtype=tf.int32)
    seed = tf.convert_to_tensor(seed)
    if seed.shape.rank == 0:
        return tf.stack([tf.cast(seed, tf.int32), 0])
    if seed.shape != (2,):
        raise ValueError(f"`seed` must be an int or a stateless seed of shape [2], got shape {seed.shape}.")
    return tf.cast(seed, tf.int32)
