import keras

from kerasts.models.mmoe.multi_task_model import MultiTaskModel


@keras.saving.register_keras_serializable(package="kerasts")
class SharedBottom(MultiTaskModel):
    """The multi-task baseline MMoE is measured against: one shared network, then task towers.

    Same inputs, outputs, `compile` and checks as `kerasts.models.MMoE`.

    Args:
        features: `FeatureGroups` specs of the inputs.
        tasks: dict of task name -> `"binary"` or `"regression"`.
        bottom_units: widths of the shared network's ReLU layers.
        tower_units: hidden widths of each task tower.

    Call arguments:
        inputs: dict of feature name -> tensor.

    Returns a dict of task name -> (batch, 1) predictions.

    Example:
        >>> model = SharedBottom(features, {"income": "binary", "never_married": "binary"}, bottom_units=(113,))

    Reference:
        Caruana, "Multitask Learning", Machine Learning 28, 1997.
    """

    def __init__(self, features, tasks, bottom_units=(16,), tower_units=(8,), **kwargs):
        super().__init__(features, tasks, tower_units, **kwargs)
        self.bottom_units = tuple(int(width) for width in bottom_units)
        self._bottom = [keras.layers.Dense(width, activation="relu", name=f"bottom_{index}")
                        for index, width in enumerate(self.bottom_units)]

    def _build_body(self, input_width):
        for layer in self._bottom:
            layer.build((None, input_width))
            input_width = layer.units
        return input_width

    def _task_representations(self, features):
        for layer in self._bottom:
            features = layer(features)
        return [features] * len(self.tasks)

    def get_config(self):
        return {**super().get_config(), "bottom_units": self.bottom_units}
