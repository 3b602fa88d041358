"""What MMoE and its shared-bottom baseline share: inputs, task towers, named outputs and checks."""

import keras
import numpy as np

from kerasts._distributed_build import DistributedBuildMixin
from kerasts._training_graph_release import TrainingGraphReleaseMixin
from kerasts.export import ServingEndpointsMixin
from kerasts.layers.feature_groups import FeatureGroups

TASK_TYPES = {"binary": "sigmoid", "regression": None}
TASK_LOSSES = {"binary": "binary_crossentropy", "regression": "mean_squared_error"}


class MultiTaskModel(DistributedBuildMixin, ServingEndpointsMixin, TrainingGraphReleaseMixin, keras.Model):
    """Base of the multi-task rankers: `FeatureGroups` -> `_task_representations` -> one tower per
    task -> a dict of named outputs, each (batch, 1). Subclasses give `_build_body(input_width)`
    (builds their shared part, returns its output width) and `_task_representations(features)`
    (one tensor per task)."""

    def __init__(self, features, tasks, tower_units=(8,), **kwargs):
        super().__init__(**kwargs)
        if not isinstance(tasks, dict) or not tasks:
            raise ValueError("`tasks` must be a non-empty dict of task name -> 'binary' or 'regression'.")
        unknown = {name: kind for name, kind in tasks.items() if kind not in TASK_TYPES}
        if unknown:
            raise ValueError(f"Task types must be 'binary' or 'regression'; got {unknown}.")
        self.features = features
        self.tasks = dict(tasks)
        self.tower_units = tuple(int(width) for width in tower_units)
        self.groups = FeatureGroups(features, name="groups")
        self._towers = {
            name: [keras.layers.Dense(width, activation="relu", name=f"{name}_tower_{index}")
                   for index, width in enumerate(self.tower_units)]
            + [keras.layers.Dense(1, activation=TASK_TYPES[kind], name=name)]
            for name, kind in self.tasks.items()
        }

    def build(self, input_shape=None):
        self.groups.build()
        representation_width = self._build_body(self.groups.output_dim)
        for tower in self._towers.values():
            width = representation_width
            for layer in tower:
                layer.build((None, width))
                width = layer.units
        self.built = True

    def call(self, inputs):
        representations = self._task_representations(self.groups(inputs))
        outputs = {}
        for (name, tower), values in zip(self._towers.items(), representations):
            for layer in tower:
                values = layer(values)
            outputs[name] = values
        return outputs

    def serving_signature(self):
        return self.groups.input_signature()

    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None, **kwargs):
        """`keras.Model.compile`, with the training recipe of the task types as defaults: binary
        cross-entropy (and AUC as a metric) for binary tasks, mean squared error for regression ones."""
        if loss is None:
            loss = {name: TASK_LOSSES[kind] for name, kind in self.tasks.items()}
        if metrics is None:
            metrics = {name: [keras.metrics.AUC(name="auc")] for name, kind in self.tasks.items() if kind == "binary"}
        for argument, value in (("loss", loss), ("loss_weights", loss_weights), ("metrics", metrics)):
            if isinstance(value, dict):
                strangers = sorted(set(value) - set(self.tasks))
                if strangers:
                    raise ValueError(f"`{argument}` names task(s) {strangers} that the model does not have; "
                                     f"its tasks are {sorted(self.tasks)}.")
        return super().compile(optimizer=optimizer, loss=loss, loss_weights=loss_weights, metrics=metrics, **kwargs)

    def compile_from_config(self, config):
        # Keras skips recompiling models that override `compile`; ours only adds checks, so a
        # reloaded model is compiled as it was saved.
        self.compile(**keras.saving.deserialize_keras_object(config))
        if self.optimizer is not None and self.built:
            self.optimizer.build(self.trainable_variables)

    # In-memory inputs and labels are checked first (datasets are the user's to clean).

    def fit(self, x=None, y=None, *args, **kwargs):
        self._check_data(x, y)
        return super().fit(x, y, *args, **kwargs)

    def predict(self, x, *args, **kwargs):
        self._check_data(x)
        return super().predict(x, *args, **kwargs)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        self._check_data(x, y)
        return super().evaluate(x, y, *args, **kwargs)

    def _check_data(self, x, y=None):
        if isinstance(x, dict):
            rows = self._check_features(x)
            if y is not None:
                self._check_labels(y, rows)

    def _check_features(self, x):
        rows = None
        for name, spec in self.features.items():
            if name not in x:
                raise ValueError(f"Inputs lack feature {name!r}; the model reads {sorted(self.features)}.")
            values = np.asarray(x[name])
            rows = len(values) if rows is None else rows
            if len(values) != rows:
                raise ValueError(f"Feature {name!r} has {len(values)} rows, the others {rows}.")
            if spec["type"] == "numeric":
                if values.dtype.kind not in "biuf":
                    raise TypeError(f"Numeric feature {name!r} must hold numbers, got dtype {values.dtype}.")
                width = spec.get("size", 1)
                columns = values.reshape(len(values), -1).shape[1] if len(values) else width
                if columns != width:
                    raise ValueError(f"Numeric feature {name!r} has {columns} column(s) per row; the model reads "
                                     f"{width}.")
                if np.isnan(values.astype("float64")).any():
                    raise ValueError(f"Numeric feature {name!r} holds NaN in {int(np.isnan(values).sum())} rows.")
        return rows

    def _check_labels(self, y, rows):
        if not isinstance(y, dict):
            raise TypeError(f"Labels must be a dict of task name -> array with keys {sorted(self.tasks)}; "
                            f"got {type(y).__name__}.")
        strangers, missing = sorted(set(y) - set(self.tasks)), sorted(set(self.tasks) - set(y))
        if strangers or missing:
            raise ValueError(f"Labels must have one entry per task {sorted(self.tasks)}; unknown: {strangers}, "
                             f"missing: {missing}.")
        for name, kind in self.tasks.items():
            labels = np.asarray(y[name])
            if labels.dtype.kind not in "biuf":
                raise TypeError(f"Labels of task {name!r} must be numbers, got dtype {labels.dtype}.")
            if not (labels.ndim == 1 or (labels.ndim == 2 and labels.shape[1] == 1)) or len(labels) != rows:
                raise ValueError(f"Labels of task {name!r} must have shape ({rows},) or ({rows}, 1); "
                                 f"got {labels.shape}.")
            if np.isnan(labels.astype("float64")).any():
                raise ValueError(f"Labels of task {name!r} hold NaN.")
            if kind == "binary" and not np.isin(labels, (0, 1)).all():
                raise ValueError(f"Task {name!r} is binary: its labels must be 0 or 1, got values like "
                                 f"{np.setdiff1d(labels, (0, 1))[:3].tolist()}.")

    def get_config(self):
        return {**super().get_config(), "features": self.features, "tasks": self.tasks,
                "tower_units": self.tower_units}
