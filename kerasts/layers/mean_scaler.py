import keras


@keras.saving.register_keras_serializable(package="kerasts")
class MeanScaler(keras.layers.Layer):
    """Divides each series by its mean absolute observed value (DeepAR's scaling).

    The scale of a series is `sum(|x| * observed) / sum(observed)` over `axis`. A series
    with no observed value (or only zeros) takes the batch's mean absolute value
    instead, and every scale is floored at `minimum_scale`, so no division by zero
    can happen (as GluonTS's `MeanScaler` does).

    Args:
        minimum_scale: the smallest scale returned.
        axis: the time axis of the inputs.
        **kwargs: base layer arguments.

    Call arguments:
        inputs: series values, e.g. `(batch, time)`; unobserved values are ignored.
        observed: optional 0/1 mask of the same shape (all observed if omitted).

    Returns:
        `(scaled, scale)`: the inputs divided by their scale, and the scale with `axis`
        kept as size 1 (e.g. `(batch, 1)`), ready for `DistributionOutput(target_scale=...)`.

    Example:

    ```python
    scaled, scale = kerasts.layers.MeanScaler()(context, observed)
    parameters = kerasts.layers.DistributionOutput("student_t")(hidden, target_scale=scale)
    ```

    Reference:
        Salinas et al., "DeepAR", International Journal of Forecasting, 2020, section 3.3.
    """

    def __init__(self, minimum_scale=1e-10, axis=1, **kwargs):
        super().__init__(**kwargs)
        if not minimum_scale > 0:
            raise ValueError(f"`minimum_scale` must be positive, got {minimum_scale!r}.")
        self.minimum_scale = minimum_scale
        self.axis = axis

    def call(self, inputs, observed=None):
        ops = keras.ops
        if observed is None:
            observed = ops.ones_like(inputs)
        observed = ops.cast(observed, inputs.dtype)
        # Unobserved entries may hold NaN: zero them before any arithmetic.
        absolute = ops.where(observed > 0, ops.abs(inputs), ops.zeros_like(inputs))
        absolute_sum = ops.sum(absolute, axis=self.axis, keepdims=True)
        observed_count = ops.sum(observed, axis=self.axis, keepdims=True)
        scale = absolute_sum / ops.maximum(observed_count, 1.0)
        batch_scale = ops.sum(absolute_sum) / ops.maximum(ops.sum(observed_count), 1.0)
        scale = ops.where(absolute_sum > 0, scale, batch_scale)
        scale = ops.maximum(scale, self.minimum_scale)
        scaled = ops.where(observed > 0, inputs / scale, ops.zeros_like(inputs))
        return scaled, scale

    def compute_output_shape(self, input_shape):
        scale_shape = list(input_shape)
        scale_shape[self.axis] = 1
        return tuple(input_shape), tuple(scale_shape)

    def get_config(self):
        return {**super().get_config(), "minimum_scale": self.minimum_scale, "axis": self.axis}
