import keras

# Keras's own cells take their per-sequence, per-sample dropout masks from this mixin, and
# keras.layers.RNN resets the masks of cells that use it: the cell must use it to behave alike.
from keras.src.layers.rnn.dropout_rnn_cell import DropoutRNNCell

from kerasts._checks import check_positive_int


@keras.saving.register_keras_serializable(package="kerasts")
class NestedLSTMCell(DropoutRNNCell, keras.layers.Layer):
    """Nested LSTM cell: the memory cell is itself an LSTM, `depth` levels deep.

    Level 0 is the outer LSTM. Instead of `c = f * c_prev + i * g`, it hands the inner
    LSTM the input `i * g` and the hidden state `f * c_prev`; the inner LSTM's hidden
    output becomes the outer memory `c`, and `h = o * tanh(c)`. The same happens
    recursively; only the innermost level uses the additive update. With `depth=1` and
    `outer_candidate_activation="tanh"` the cell is exactly `keras.layers.LSTMCell`.

    Gates are laid out `(i, f, g, o)` like Keras's LSTM. The forget-gate bias starts at
    1 at every level (on the forget gate, not the candidate).

    Args:
        units: size of the output and of every state vector.
        depth: number of nested levels (1 = plain LSTM).
        activation: activation of the inner candidates and of the cell outputs (tanh).
        recurrent_activation: gate activation (sigmoid).
        outer_candidate_activation: the outermost candidate's activation; the identity
            by default, as in the paper and its reference implementations.
        use_bias, kernel_initializer, recurrent_initializer, bias_initializer,
            unit_forget_bias: as for `keras.layers.LSTMCell`, at every level.
        dropout: input dropout rate (one mask per sequence and sample).
        recurrent_dropout: dropout rate on the outer hidden state (likewise).
        seed: seed of the dropout masks.
        **kwargs: base layer arguments.

    Call arguments:
        inputs: `(batch, features)`.
        states: `[h, c_0, ..., c_{depth-1}]`: the outer hidden state and each level's memory.
        training: whether dropout is active.

    Returns:
        `(h, new_states)`.

    Example:

    ```python
    layer = keras.layers.RNN(kerasts.layers.NestedLSTMCell(40, depth=2))
    ```

    Reference:
        Moniz and Krueger, "Nested LSTMs", ACML 2017 (arXiv 1801.10308).
    """

    def __init__(self, units, depth=2, activation="tanh", recurrent_activation="sigmoid",
                 outer_candidate_activation="linear", use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", unit_forget_bias=True, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        check_positive_int("units", units)
        check_positive_int("depth", depth)
        for name, rate in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
            if not 0 <= rate < 1:
                raise ValueError(f"`{name}` must be in [0, 1), got {rate!r}.")
        self.units = units
        self.depth = depth
        self.activation = keras.activations.get(activation)
        self.recurrent_activation = keras.activations.get(recurrent_activation)
        self.outer_candidate_activation = keras.activations.get(outer_candidate_activation)
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.recurrent_initializer = keras.initializers.get(recurrent_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.unit_forget_bias = unit_forget_bias
        self.dropout = dropout
        self.recurrent_dropout = recurrent_dropout
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed=seed)
        self.state_size = [units] * (depth + 1)
        self.output_size = units

    def build(self, input_shape):
        # Kernels stay separate weights, combined in every call: concatenating them once
        # at build time would freeze copies that training (in eager mode) never updates.
        self.kernels, self.recurrent_kernels, self.biases = [], [], []
        features = input_shape[-1]
        for level in range(self.depth):
            self.kernels.append(self.add_weight(shape=(features if level == 0 else self.units, 4 * self.units),
                                                initializer=self.kernel_initializer, name=f"kernel_{level}"))
            self.recurrent_kernels.append(self.add_weight(shape=(self.units, 4 * self.units),
                                                          initializer=self.recurrent_initializer,
                                                          name=f"recurrent_kernel_{level}"))
            if self.use_bias:
                self.biases.append(self.add_weight(shape=(4 * self.units,), initializer=self._bias_initializer,
                                                   name=f"bias_{level}"))

    def _bias_initializer(self, shape, dtype=None):
        if not self.unit_forget_bias:
            return self.bias_initializer(shape, dtype=dtype)
        units = self.units
        return keras.ops.concatenate([
            self.bias_initializer((units,), dtype=dtype),
            keras.initializers.get("ones")((units,), dtype=dtype),  # the forget gate
            self.bias_initializer((2 * units,), dtype=dtype),
        ])

    def _level(self, level, inputs, hidden, memories):
        """Runs level `level` and the levels inside it; returns (its output, their new memories)."""
        ops = keras.ops
        z = ops.matmul(inputs, self.kernels[level]) + ops.matmul(hidden, self.recurrent_kernels[level])
        if self.use_bias:
            z = z + self.biases[level]
        input_gate, forget_gate, candidate, output_gate = ops.split(z, 4, axis=-1)
        input_gate = self.recurrent_activation(input_gate)
        forget_gate = self.recurrent_activation(forget_gate)
        output_gate = self.recurrent_activation(output_gate)
        candidate = (self.outer_candidate_activation if level == 0 else self.activation)(candidate)
        if level == self.depth - 1:
            memory = forget_gate * memories[level] + input_gate * candidate
            deeper = []
        else:
            # The inner LSTM reads i*g as its input and f*c_prev as its hidden state.
            memory, deeper = self._level(level + 1, input_gate * candidate, forget_gate * memories[level], memories)
        return output_gate * self.activation(memory), [memory] + deeper

    def call(self, inputs, states, training=False):
        hidden, memories = states[0], list(states[1:])
        if training:
            input_mask = self.get_dropout_mask(inputs)
            recurrent_mask = self.get_recurrent_dropout_mask(hidden)
            if input_mask is not None:
                inputs = inputs * input_mask
            if recurrent_mask is not None:
                hidden = hidden * recurrent_mask
        output, new_memories = self._level(0, inputs, hidden, memories)
        return output, [output] + new_memories

    def get_initial_state(self, batch_size=None):
        return [keras.ops.zeros((batch_size, self.units), dtype=self.compute_dtype) for _ in self.state_size]

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "depth": self.depth,
            "activation": keras.activations.serialize(self.activation),
            "recurrent_activation": keras.activations.serialize(self.recurrent_activation),
            "outer_candidate_activation": keras.activations.serialize(self.outer_candidate_activation),
            "use_bias": self.use_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": keras.initializers.serialize(self.recurrent_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            "unit_forget_bias": self.unit_forget_bias,
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
        }


_CELL_ARGUMENTS = ("units", "depth", "activation", "recurrent_activation", "outer_candidate_activation", "use_bias",
                   "kernel_initializer", "recurrent_initializer", "bias_initializer", "unit_forget_bias", "dropout",
                   "recurrent_dropout", "seed")


@keras.saving.register_keras_serializable(package="kerasts")
class NestedLSTM(keras.layers.RNN):
    """Nested LSTM layer: `keras.layers.RNN` over a `NestedLSTMCell`.

    Args:
        units, depth, activation, recurrent_activation, outer_candidate_activation,
            use_bias, kernel_initializer, recurrent_initializer, bias_initializer,
            unit_forget_bias, dropout, recurrent_dropout, seed: as for `NestedLSTMCell`.
        return_sequences, return_state, go_backwards, stateful, unroll: as for
            `keras.layers.RNN`.
        **kwargs: base layer arguments.

    Call arguments:
        inputs: `(batch, time, features)`.
        initial_state: optional list of `depth + 1` tensors `(batch, units)`.
        mask, training: as for `keras.layers.RNN`.

    Returns:
        The last output `(batch, units)` or every output `(batch, time, units)`, followed
        by the `depth + 1` final states when `return_state=True`.

    Example:

    ```python
    model = keras.Sequential([keras.Input((30, 1)), kerasts.layers.NestedLSTM(40, depth=2),
                              keras.layers.Dense(1)])
    ```

    Reference:
        Moniz and Krueger, "Nested LSTMs", ACML 2017 (arXiv 1801.10308).
    """

    def __init__(self, units, depth=2, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, dropout=0.0, recurrent_dropout=0.0, unroll=False, **kwargs):
        # The cell's other arguments (activations, initializers, seed, ...) pass through by name.
        cell_arguments = {name: kwargs.pop(name) for name in _CELL_ARGUMENTS if name in kwargs}
        cell = NestedLSTMCell(units, depth=depth, dropout=dropout, recurrent_dropout=recurrent_dropout,
                              dtype=kwargs.get("dtype"), name="nested_lstm_cell", **cell_arguments)
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.pop("cell", None)
        cell_config = self.cell.get_config()
        return {**config, **{name: cell_config[name] for name in _CELL_ARGUMENTS}}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

