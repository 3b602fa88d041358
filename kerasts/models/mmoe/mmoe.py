import keras
import numpy as np

from kerasts.layers.mixture_of_experts import MixtureOfExperts
from kerasts.models.mmoe.multi_task_model import MultiTaskModel


@keras.saving.register_keras_serializable(package="kerasts")
class MMoE(MultiTaskModel):
    """Multi-task ranking with a multi-gate mixture of experts (Ma et al. 2018).

    Raw features (numbers, ids, multi-valued fields; see `kerasts.layers.FeatureGroups`) feed
    `num_experts` shared experts; each task's softmax gate mixes them into the input of that
    task's tower, which ends in one named output. Compile with the standard dicts keyed by task:
    `compile(loss={"income": "binary_crossentropy", ...}, loss_weights={...}, metrics={...})`.

    Args:
        features: `FeatureGroups` specs of the inputs.
        tasks: dict of task name -> `"binary"` (sigmoid output) or `"regression"` (linear).
        num_experts: number of experts.
        expert_units: widths of each expert's layers (the last is the mixture's size).
        gate_units: hidden widths of each gate before its softmax (`()`: linear gates, as the paper).
        tower_units: hidden widths of each task tower.

    Call arguments:
        inputs: dict of feature name -> tensor.

    Returns a dict of task name -> (batch, 1) predictions.

    Example:
        >>> model = MMoE(features, {"income": "binary", "never_married": "binary"}, num_experts=8)
        >>> model.compile("adam", loss={"income": "binary_crossentropy",
        ...                             "never_married": "binary_crossentropy"},
        ...               metrics={"income": ["auc"], "never_married": ["auc"]})
        >>> model.fit(x, {"income": y_income, "never_married": y_single}, epochs=5)
        >>> model.gate_entropy(x)   # near 0: a task's gate has collapsed onto one expert

    Reference:
        Ma et al., "Modeling Task Relationships in Multi-task Learning with Multi-gate
        Mixture-of-Experts", KDD 2018.
    """

    def __init__(self, features, tasks, num_experts=8, expert_units=(16,), gate_units=(), tower_units=(8,),
                 **kwargs):
        super().__init__(features, tasks, tower_units, **kwargs)
        self.num_experts = int(num_experts)
        self.expert_units = tuple(int(width) for width in expert_units)
        self.gate_units = tuple(int(width) for width in gate_units)
        self.experts = MixtureOfExperts(self.num_experts, len(self.tasks), self.expert_units, self.gate_units,
                                        return_gates=True, name="experts")

    def _build_body(self, input_width):
        self.experts.build((None, input_width))
        return self.expert_units[-1]

    def _task_representations(self, features):
        mixtures, _ = self.experts(features)
        return mixtures

    def gate_weights(self, inputs):
        """Each task's gate over the experts: dict of task name -> (batch, num_experts) array."""
        _, gates = self.experts(self.groups(inputs))
        return {name: keras.ops.convert_to_numpy(gate) for name, gate in zip(self.tasks, gates)}

    def gate_entropy(self, inputs):
        """Mean entropy (nats) of each task's gate: log(num_experts) when it spreads evenly,
        0 when it has collapsed onto one expert."""
        return {name: float(np.mean(-np.sum(gate * np.log(np.clip(gate, 1e-12, 1.0)), axis=1)))
                for name, gate in self.gate_weights(inputs).items()}

    def get_config(self):
        return {**super().get_config(), "num_experts": self.num_experts, "expert_units": self.expert_units,
                "gate_units": self.gate_units}
