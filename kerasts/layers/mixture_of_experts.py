import keras

from kerasts._checks import check_positive_int


def _mlp(units, activation, prefix):
    return [keras.layers.Dense(width, activation=activation, name=f"{prefix}_{index}")
            for index, width in enumerate(units)]


@keras.saving.register_keras_serializable(package="kerasts")
class MixtureOfExperts(keras.layers.Layer):
    """Multi-gate mixture of experts: shared experts, one softmax gate per task.

    `num_experts` expert networks read the same input; each task's gate (a network ending in a
    softmax over the experts) weighs the experts' outputs into that task's representation:
    `f_k(x) = sum_i g_k(x)_i * expert_i(x)`.

    Args:
        num_experts: number of expert networks.
        num_tasks: number of gates (one per task).
        expert_units: widths of each expert's layers; the last is the output size.
        gate_units: hidden widths of each gate before its softmax layer (`()`: a linear gate,
            as in the paper).
        activation: activation of the expert and gate hidden layers.
        return_gates: also return each task's gate weights.

    Call arguments:
        inputs: (batch, features) tensor.

    Returns:
        A list of `num_tasks` tensors (batch, expert_units[-1]); with `return_gates`, a pair
        `(mixtures, gates)` where `gates` is a list of (batch, num_experts) softmax weights.

    Example:
        >>> mixtures = MixtureOfExperts(num_experts=8, num_tasks=2, expert_units=(16,))(features)

    Reference:
        Ma et al., "Modeling Task Relationships in Multi-task Learning with Multi-gate
        Mixture-of-Experts", KDD 2018.
    """

    def __init__(self, num_experts, num_tasks, expert_units=(16,), gate_units=(), activation="relu",
                 return_gates=False, **kwargs):
        super().__init__(**kwargs)
        check_positive_int("num_experts", num_experts)
        check_positive_int("num_tasks", num_tasks)
        if not expert_units:
            raise ValueError("`expert_units` needs at least one layer width.")
        self.num_experts = int(num_experts)
        self.num_tasks = int(num_tasks)
        self.expert_units = tuple(int(width) for width in expert_units)
        self.gate_units = tuple(int(width) for width in gate_units)
        self.activation = activation
        self.return_gates = bool(return_gates)
        self._experts = [_mlp(self.expert_units, activation, f"expert_{index}") for index in range(self.num_experts)]
        self._gates = [_mlp(self.gate_units, activation, f"gate_{task}_hidden")
                       + [keras.layers.Dense(self.num_experts, activation="softmax", name=f"gate_{task}")]
                       for task in range(self.num_tasks)]

    def build(self, input_shape):
        for network in self._experts + self._gates:
            width = input_shape[-1]
            for layer in network:
                layer.build((None, width))
                width = layer.units
        self.built = True

    @staticmethod
    def _run(network, values):
        for layer in network:
            values = layer(values)
        return values

    def call(self, inputs):
        experts = keras.ops.stack([self._run(network, inputs) for network in self._experts], axis=1)
        gates = [self._run(network, inputs) for network in self._gates]
        mixtures = [keras.ops.einsum("be,beh->bh", gate, experts) for gate in gates]
        return (mixtures, gates) if self.return_gates else mixtures

    def compute_output_shape(self, input_shape):
        mixtures = [(input_shape[0], self.expert_units[-1])] * self.num_tasks
        if self.return_gates:
            return mixtures, [(input_shape[0], self.num_experts)] * self.num_tasks
        return mixtures

    def get_config(self):
        return {**super().get_config(), "num_experts": self.num_experts, "num_tasks": self.num_tasks,
                "expert_units": self.expert_units, "gate_units": self.gate_units, "activation": self.activation,
                "return_gates": self.return_gates}
