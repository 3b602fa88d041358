import keras

from kerasts import likelihoods


@keras.saving.register_keras_serializable(package="kerasts")
class DistributionOutput(keras.layers.Layer):
    """Maps hidden features to the parameters of a likelihood.

    A dense projection gives one unconstrained value per parameter; the likelihood's
    domain map puts each on its domain (softplus for scales, sigmoid for
    probabilities, ...). The output is a plain tensor with the parameters stacked on
    the last axis in the likelihood's `parameter_names` order, ready for
    `kerasts.losses.NegativeLogLikelihood` and for export.

    Args:
        likelihood: the family: a name (`"gaussian"`, `"student_t"`,
            `"negative_binomial"`, `"poisson"`, `"zero_inflated_negative_binomial"`,
            `"beta"`, or one added with `kerasts.likelihoods.register_likelihood`), a
            `{"name": ..., "config": {...}}` dict, or a `Likelihood` instance.
        kernel_initializer: initializer of the projection's kernel.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: hidden features, shape `(..., features)`.
        target_scale: optional positive tensor that broadcasts against
            `inputs[..., 0]` (e.g. `(batch, 1)` for `(batch, time, features)`). When
            the network sees targets divided by a scale, passing it here returns the
            parameters in the data's units (for the negative binomial: mean times
            scale, dispersion divided by its square root, as in DeepAR).
        target_loc: optional location of the same shape, for targets standardised as
            `(z - loc) / scale` (`StdScaler`): shifts the location parameter by it
            (location families only: Gaussian, Student-t).

    Returns:
        Parameters of shape `(..., num_parameters)`.

    Example:

    ```python
    hidden = keras.Input((24, 16))
    parameters = kerasts.layers.DistributionOutput("negative_binomial")(hidden)
    model = keras.Model(hidden, parameters)
    model.compile("adam", loss=kerasts.losses.NegativeLogLikelihood("negative_binomial"))
    ```

    Reference:
        Salinas et al., "DeepAR: Probabilistic forecasting with autoregressive recurrent
        networks", International Journal of Forecasting, 2020 (arXiv 1704.04110).
    """

    def __init__(self, likelihood="student_t", kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.likelihood = likelihoods.get(likelihood)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.projection = keras.layers.Dense(
            self.likelihood.num_parameters,
            kernel_initializer=self.kernel_initializer,
            dtype=self.dtype_policy,
            name="projection",
        )

    def build(self, input_shape):
        self.projection.build(input_shape)

    def call(self, inputs, target_scale=None, target_loc=None):
        parameters = self.likelihood.domain_map(self.projection(inputs))
        if target_scale is not None:
            parameters = self.likelihood.scale_parameters(parameters, target_scale)
        if target_loc is not None:
            parameters = self.likelihood.shift_parameters(parameters, target_loc)
        return parameters

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.likelihood.num_parameters,)

    def get_config(self):
        return {
            **super().get_config(),
            "likelihood": likelihoods.serialize(self.likelihood),
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
        }
