import keras
import tensorflow as tf

from kerasts.data.vocabulary import IdVocabulary

FEATURE_TYPES = ("categorical", "multi_categorical", "numeric")


def _check_features(features):
    if not isinstance(features, dict) or not features:
        raise ValueError("`features` must be a non-empty dict of feature name -> spec dict.")
    for name, spec in features.items():
        kind = spec.get("type") if isinstance(spec, dict) else None
        if kind not in FEATURE_TYPES:
            raise ValueError(f"Feature {name!r} needs a spec dict with 'type' in {FEATURE_TYPES}; got {spec!r}.")
        if kind != "numeric" and not spec.get("vocabulary"):
            raise ValueError(f"Feature {name!r} ({kind}) needs a non-empty 'vocabulary' list.")


@keras.saving.register_keras_serializable(package="kerasts")
class FeatureGroups(keras.layers.Layer):
    """Turns a dict of raw features into one vector: each group through its own sub-network, concatenated.

    Feature specs (`features[name]`):
    - `{"type": "categorical", "vocabulary": [...], "embedding_dim": 16}`: one id per row (strings, or
      integers compared as their decimal strings), looked up and embedded; ids outside the
      vocabulary share one out-of-vocabulary row.
    - `{"type": "multi_categorical", "vocabulary": [...], "embedding_dim": 16, "separator": "|"}`:
      several values in one string (`"horror|comedy"`; also as a (batch, 1) column), or a row of
      separate strings padded with `""` (a (batch, values) tensor: `[["horror", "comedy", ""]]`),
      embedded and mean-pooled; unknown values share the out-of-vocabulary row, an empty string
      gives a zero vector.
    - `{"type": "numeric", "size": 1, "units": 8, "mean": 0.0, "std": 1.0}`: `size` numbers per row,
      standardised with the given statistics, then a ReLU layer of `units` (`units: None` passes
      the standardised numbers through).

    Args:
        features: dict of feature name -> spec, as above.

    Call arguments:
        inputs: dict of feature name -> tensor with batch axis first (extra keys are ignored).

    Example:
        >>> groups = FeatureGroups({"USER_ID": {"type": "categorical", "vocabulary": ["u1", "u2"]},
        ...                         "age": {"type": "numeric", "mean": 35.0, "std": 12.0}})
        >>> groups({"USER_ID": tf.constant(["u2"]), "age": tf.constant([41.0])}).shape
        TensorShape([1, 24])

    Reference:
        Covington et al., "Deep Neural Networks for YouTube Recommendations", RecSys 2016
        (embedded and averaged id features concatenated with normalised numbers).
    """

    def __init__(self, features, **kwargs):
        super().__init__(**kwargs)
        _check_features(features)
        self.features = {name: dict(spec) for name, spec in features.items()}
        self._lookups, self._group_layers = {}, {}
        for name, spec in self.features.items():
            layer_name = name.replace(" ", "_")
            if spec["type"] == "numeric":
                if spec.get("units", 8) is not None:
                    self._group_layers[name] = keras.layers.Dense(spec.get("units", 8), activation="relu",
                                                                  name=f"{layer_name}_dense")
            else:
                vocabulary = IdVocabulary(spec["vocabulary"])
                self._lookups[name] = vocabulary.lookup_layer(name=f"{layer_name}_lookup")
                self._group_layers[name] = keras.layers.Embedding(len(vocabulary) + 1,
                                                                  spec.get("embedding_dim", 16),
                                                                  name=f"{layer_name}_embedding")

    @property
    def output_dim(self):
        return sum(self._group_width(spec) for spec in self.features.values())

    @staticmethod
    def _group_width(spec):
        if spec["type"] == "numeric":
            return spec.get("size", 1) if spec.get("units", 8) is None else spec.get("units", 8)
        return spec.get("embedding_dim", 16)

    def build(self, input_shape=None):
        # Every width follows from the specs, so the weights exist before any data is seen
        # (needed to reload a saved model).
        for name, spec in self.features.items():
            if name in self._group_layers:
                self._group_layers[name].build((None, spec.get("size", 1)) if spec["type"] == "numeric" else (None,))
        self.built = True

    def input_signature(self, lists=False):
        """TensorSpecs of the raw inputs: strings for the categorical features, float32 numbers. With
        `lists`, each multi-categorical feature is a (batch, values) row of strings instead of one
        joined string (a graph without string splitting, which LiteRT's built-in operators lack)."""
        def spec_of(name, spec):
            if spec["type"] == "multi_categorical" and lists:
                return tf.TensorSpec((None, None), tf.string, name=name)
            if spec["type"] != "numeric":
                return tf.TensorSpec((None,), tf.string, name=name)
            shape = (None,) if spec.get("size", 1) == 1 else (None, spec["size"])
            return tf.TensorSpec(shape, tf.float32, name=name)

        return {name: spec_of(name, spec) for name, spec in self.features.items()}

    def call(self, inputs):
        missing = [name for name in self.features if name not in inputs]
        if missing:
            raise ValueError(f"{self.name} lacks input feature(s) {missing}; it got {sorted(inputs)}.")
        return keras.ops.concatenate([self._embed(name, spec, inputs[name]) for name, spec in self.features.items()],
                                     axis=-1)

    def _embed(self, name, spec, values):
        if spec["type"] == "numeric":
            values = keras.ops.reshape(keras.ops.cast(values, "float32"), (-1, spec.get("size", 1)))
            standardised = (values - spec.get("mean", 0.0)) / spec.get("std", 1.0)
            return self._group_layers[name](standardised) if name in self._group_layers else standardised
        # A (batch, 1) column is one joined string per row (splitting a lone id gives the id itself).
        split = spec["type"] == "multi_categorical" and values.shape.rank == 2 and values.shape[-1] != 1
        values = values if split else tf.reshape(values, (-1,))
        if values.dtype != tf.string:
            values = tf.strings.as_string(values)
        if spec["type"] == "categorical":
            return self._group_layers[name](self._lookups[name](values))
        parts = values if split else tf.strings.split(values, spec.get("separator", "|")).to_tensor(default_value="")
        present = keras.ops.expand_dims(keras.ops.cast(keras.ops.not_equal(parts, ""), "float32"), -1)
        vectors = self._group_layers[name](self._lookups[name](parts)) * present
        return keras.ops.sum(vectors, axis=1) / keras.ops.maximum(keras.ops.sum(present, axis=1), 1.0)

    def compute_output_shape(self, input_shape):
        return (None, self.output_dim)

    def get_config(self):
        return {**super().get_config(), "features": self.features}
