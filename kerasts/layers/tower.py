import keras

from kerasts.layers.feature_groups import FeatureGroups


@keras.saving.register_keras_serializable(package="kerasts")
class Tower(keras.layers.Layer):
    """Embeds several feature groups, each with its own sub-network, and reads them out to one embedding.

    The groups are those of `kerasts.layers.FeatureGroups` (ids, `|`-separated multi-valued fields,
    numbers; see its feature specs). Their outputs are concatenated and go through `hidden_units`
    ReLU layers (with `dropout`) to a linear layer of `output_dim`.

    Args:
        features: dict of feature name -> spec, as `FeatureGroups` takes.
        output_dim: size of the output embedding.
        hidden_units: widths of the readout's hidden layers.
        dropout: dropout rate after each hidden layer.

    Call arguments:
        inputs: dict of feature name -> tensor with batch axis first (extra keys are ignored,
            so one dict can feed a query and a candidate tower).
        training: whether dropout is on.

    Example:
        >>> tower = Tower({"USER_ID": {"type": "categorical", "vocabulary": ["u1", "u2"]},
        ...                "age": {"type": "numeric", "mean": 35.0, "std": 12.0}}, output_dim=32)
        >>> tower({"USER_ID": tf.constant(["u2"]), "age": tf.constant([41.0])}).shape
        TensorShape([1, 32])

    Reference:
        Yi et al., "Sampling-Bias-Corrected Neural Modeling for Large Corpus Item
        Recommendations", RecSys 2019 (towers over mixed features).
    """

    def __init__(self, features, output_dim=32, hidden_units=(), dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.groups = FeatureGroups(features, name="groups")
        self.features = self.groups.features
        self.output_dim = int(output_dim)
        self.hidden_units = tuple(int(units) for units in hidden_units)
        self.dropout = float(dropout)
        self._hidden = [keras.layers.Dense(units, activation="relu", name=f"hidden_{index}")
                        for index, units in enumerate(self.hidden_units)]
        self._dropout = keras.layers.Dropout(self.dropout)
        self._readout = keras.layers.Dense(self.output_dim, name="readout")

    def build(self, input_shape=None):
        self.groups.build()
        width = self.groups.output_dim
        for layer in self._hidden:
            layer.build((None, width))
            width = layer.units
        self._readout.build((None, width))
        self.built = True

    def input_signature(self, lists=False):
        """TensorSpecs of the raw inputs (see `FeatureGroups.input_signature`)."""
        return self.groups.input_signature(lists)

    def call(self, inputs, training=False):
        hidden = self.groups(inputs)
        for layer in self._hidden:
            hidden = self._dropout(layer(hidden), training=training)
        return self._readout(hidden)

    def compute_output_shape(self, input_shape):
        return (None, self.output_dim)

    def get_config(self):
        return {**super().get_config(), "features": self.features, "output_dim": self.output_dim,
                "hidden_units": self.hidden_units, "dropout": self.dropout}
