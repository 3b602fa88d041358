import keras
import numpy as np
import tensorflow as tf

from kerasts.export import ServingEndpointsMixin
from kerasts.models.deepar import sampling
from kerasts.models.deepar.deepar import DeepAR

# What the networks of one ensemble must share: they read the same windows and serve the same outputs.
_SHARED = ("prediction_length", "context_length", "frequency", "lags", "num_covariates", "num_past_covariates",
           "cardinalities", "num_samples", "quantiles")


@keras.saving.register_keras_serializable(package="kerasts")
class DeepAREnsemble(ServingEndpointsMixin, keras.Model):
    """Several trained `DeepAR` networks forecasting as one: their sample paths pooled.

    Each network draws an equal share of every series' paths (the first any remainder) with the same
    seed, and the ensemble's mean and quantiles are those of the pooled paths. Networks trained with
    other seeds on the same data disagree where the data say little, and pooling them gives steadier
    and slightly better forecasts than any one (benchmarks/RESULTS.md, #23). `DeepARForecaster(
    num_networks=3)` trains the networks one by one and assembles them; the ensemble itself is not
    trained as a whole. It saves as one `.keras` file and exports as one SavedModel with DeepAR's
    endpoints, so serving code does not change with the number of networks.

    Args:
        networks: `DeepAR` networks, at least two, reading the same windows (prediction and context
            lengths, frequency, lags, covariates, categories) and serving the same `num_samples`
            (at least one path each) and `quantiles`.
        **kwargs: `keras.Model` arguments.

    Call arguments:
        inputs: DeepAR's input dict with the horizon's targets (teacher forcing).
        training: whether dropout is active.

    Returns:
        Each network's parameters, stacked: `(batch, num_networks, context_length + prediction_length,
        num_parameters)`.

    Example:

    ```python
    ensemble = kerasts.models.DeepAREnsemble([first, second, third])   # fitted DeepAR networks
    paths = ensemble.forecast(windows.last_windows(with_future_target=False), seed=0)["samples"]
    ensemble.export("deepar")                       # endpoints serve and forecast, as one DeepAR's
    ```

    Reference:
        Salinas, Flunkert, Gasthaus, Januschowski, "DeepAR: Probabilistic forecasting with
        autoregressive recurrent networks", International Journal of Forecasting 36(3), 2020
        (its experiments average the forecasts of several runs).
    """

    def __init__(self, networks, **kwargs):
        super().__init__(**kwargs)
        networks = list(networks)
        if len(networks) < 2 or not all(isinstance(network, DeepAR) for network in networks):
            raise TypeError(f"`networks` must be two or more DeepAR networks, got "
                            f"{[type(network).__name__ for network in networks]}.")
        first = networks[0]
        for index, network in enumerate(networks[1:], start=1):
            differing = [name for name in _SHARED if getattr(network, name) != getattr(first, name)]
            if differing:
                raise ValueError(f"`networks[{index}]` differs from `networks[0]` in {differing}: an ensemble's "
                                 "networks must read the same windows and serve the same outputs.")
        if first.num_samples < len(networks):
            raise ValueError(f"num_samples={first.num_samples} cannot be shared by {len(networks)} networks: "
                             "each draws at least one path.")
        self.networks = networks
        for name in _SHARED + ("history_length",):
            setattr(self, name, getattr(first, name))
        # Assembled from fitted networks, there is nothing left to build (export refuses unbuilt models).
        self.built = all(network.built for network in networks)

    def call(self, inputs, training=None):
        return tf.stack([network(inputs, training=training) for network in self.networks], axis=1)

    def sample_paths(self, inputs, num_samples, seed):
        """Traceable pooled paths `(batch, num_samples, prediction_length)`: equal shares per network,
        networks of one architecture through one trace of the sampling loop."""
        keys = [sampling.architecture_key(network) for network in self.networks]
        templates = {}
        for key, network in zip(keys, self.networks):
            templates.setdefault(key, network)
        return tf.concat([sampling.traced_sample_paths(network, inputs, share, seed, templates[key])
                          for network, share, key in zip(self.networks, self.shares(num_samples), keys)], axis=1)

    def shares(self, num_samples):
        """Paths each network draws of `num_samples`: equal shares, the first network any remainder."""
        if num_samples < len(self.networks):
            raise ValueError(f"num_samples={num_samples} is fewer than the ensemble's {len(self.networks)} networks.")
        shares = np.full(len(self.networks), num_samples // len(self.networks))
        shares[0] += num_samples - shares.sum()
        return [int(share) for share in shares]

    def forecast(self, inputs, num_samples=None, seed=0, quantiles=None):
        """Pooled sample paths, their mean and quantiles, as `DeepAR.forecast` returns them."""
        return sampling.forecast(self, inputs, num_samples, seed, quantiles)

    def _check_inputs(self, inputs, with_future_target):
        self.networks[0]._check_inputs(inputs, with_future_target)

    def input_signature(self, with_future_target):
        """The networks' input signature (see `DeepAR.input_signature`)."""
        return self.networks[0].input_signature(with_future_target)

    def serving_signature(self):
        return self.input_signature(with_future_target=True)

    def serving_endpoints(self, **options):
        """`serve` (every network's teacher-forced parameters) and `forecast` (the pooled paths, their
        mean and quantiles, as `DeepAR`'s endpoint returns them), for `export`."""
        return {**super().serving_endpoints(**options), "forecast": sampling.forecast_endpoint(self)}

    def get_config(self):
        return {**super().get_config(),
                "networks": [keras.saving.serialize_keras_object(network) for network in self.networks]}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["networks"] = [keras.saving.deserialize_keras_object(network) for network in config["networks"]]
        return cls(**config)
