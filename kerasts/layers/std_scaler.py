import keras


@keras.saving.register_keras_serializable(package="kerasts")
class StdScaler(keras.layers.Layer):
    """Standardises each series by the mean and standard deviation of its observed values.

    Mean scaling (`MeanScaler`) divides by the level, so a series that moves 0.5% around a level of
    8,000 reaches the network as 1.000 +- 0.005, and its forecast must be exact to a thousandth of
    the level. Standardising shows the same series as moves of about +-1. The location is the
    mean of the observed values and the scale their standard deviation. Where the deviation is
    under `relative_floor` of the mean absolute value (a constant series, or a single observed
    value), the scale is that mean absolute value instead. A context of nothing but zeros (or
    nothing observed) is a series at rest: its scale is `zero_fraction` of the batch's mean
    absolute value, so it is forecast near zero. (`MeanScaler` takes the batch's whole mean
    absolute value there; on electricity that forecast a discontinued client at a typical
    client's level, benchmarks/RESULTS.md #23.) Every scale is at least `minimum_scale`.

    Args:
        minimum_scale: the smallest scale returned.
        relative_floor: the smallest deviation, relative to the mean absolute value, used as a scale.
        zero_fraction: the scale of an all-zero context, as a fraction of the batch's mean absolute value.
        axis: the time axis of the inputs.
        **kwargs: base layer arguments.

    Call arguments:
        inputs: series values, e.g. `(batch, time)`; unobserved values are ignored.
        observed: optional 0/1 mask of the same shape (all observed if omitted).

    Returns:
        `(scaled, loc, scale)`: `(inputs - loc) / scale` (0 where unobserved), and the location and
        scale with `axis` kept as size 1, ready for `DistributionOutput(target_loc=..., target_scale=...)`.

    Example:

    ```python
    scaled, loc, scale = kerasts.layers.StdScaler()(context, observed)
    parameters = kerasts.layers.DistributionOutput("student_t")(hidden, target_scale=scale, target_loc=loc)
    ```
    """

    def __init__(self, minimum_scale=1e-10, relative_floor=1e-4, zero_fraction=1e-3, axis=1, **kwargs):
        super().__init__(**kwargs)
        if not minimum_scale > 0:
            raise ValueError(f"`minimum_scale` must be positive, got {minimum_scale!r}.")
        if not 0 <= relative_floor < 1:
            raise ValueError(f"`relative_floor` must be in [0, 1), got {relative_floor!r}.")
        if not 0 < zero_fraction <= 1:
            raise ValueError(f"`zero_fraction` must be in (0, 1], got {zero_fraction!r}.")
        self.zero_fraction = zero_fraction
        self.minimum_scale = minimum_scale
        self.relative_floor = relative_floor
        self.axis = axis

    def call(self, inputs, observed=None):
        ops = keras.ops
        if observed is None:
            observed = ops.ones_like(inputs)
        observed = ops.cast(observed, inputs.dtype) > 0
        zeros = ops.zeros_like(inputs)
        # Unobserved entries may hold NaN: zero them before any arithmetic.
        values = ops.where(observed, inputs, zeros)
        count = ops.sum(ops.cast(observed, inputs.dtype), axis=self.axis, keepdims=True)
        loc = ops.sum(values, axis=self.axis, keepdims=True) / ops.maximum(count, 1.0)
        deviation = ops.where(observed, values - loc, zeros)
        std = ops.sqrt(ops.sum(deviation * deviation, axis=self.axis, keepdims=True) / ops.maximum(count, 1.0))
        absolute_sum = ops.sum(ops.abs(values), axis=self.axis, keepdims=True)
        mean_absolute = absolute_sum / ops.maximum(count, 1.0)
        batch_mean_absolute = ops.sum(absolute_sum) / ops.maximum(ops.sum(count), 1.0)
        scale = ops.where(std > self.relative_floor * mean_absolute, std,
                          ops.where(mean_absolute > 0, mean_absolute, self.zero_fraction * batch_mean_absolute))
        scale = ops.maximum(scale, self.minimum_scale)
        return ops.where(observed, (values - loc) / scale, zeros), loc, scale

    def compute_output_shape(self, input_shape):
        statistic_shape = list(input_shape)
        statistic_shape[self.axis] = 1
        return tuple(input_shape), tuple(statistic_shape), tuple(statistic_shape)

    def get_config(self):
        return {**super().get_config(), "minimum_scale": self.minimum_scale, "relative_floor": self.relative_floor,
                "zero_fraction": self.zero_fraction, "axis": self.axis}
