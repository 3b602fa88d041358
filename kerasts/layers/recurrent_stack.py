import keras
import tensorflow as tf

from kerasts._checks import check_positive_int
from kerasts._registry import Registry
from kerasts.layers.nested_lstm import NestedLSTMCell

_CELLS = Registry("recurrent cell", "kerasts.layers.register_recurrent_cell")


def register_recurrent_cell(name, factory):
    """Makes a cell available by name: `factory(units, name, **config) -> Keras RNN cell`.

    `RecurrentStack` (and every model built on it) then takes `cell=name`, or
    `cell={"name": name, "config": {...}}` to pass the factory arguments, and saves it that way.
    """
    _CELLS.register(name, factory)


register_recurrent_cell("lstm", lambda units, name: keras.layers.LSTMCell(units, name=name))
register_recurrent_cell("gru", lambda units, name: keras.layers.GRUCell(units, name=name))
register_recurrent_cell("nested_lstm", lambda units, name, depth=2: NestedLSTMCell(units, depth=depth, name=name))


def recurrent_cell_names():
    """The cell names `RecurrentStack` (and the models built on it) accept."""
    return _CELLS.names()


def recurrent_cell(cell, units, name):
    """The registered `cell` (a name or `{"name": ..., "config": {...}}`) with `units`, called `name`."""
    return _CELLS.create(cell, units, name)


def parse_recurrent_cell(cell):
    """`(name, config)` of a cell spec, checked against the registry."""
    return _CELLS.parse(cell)


@keras.saving.register_keras_serializable(package="kerasts")
class RecurrentStack(keras.layers.Layer):
    """Stacked recurrent cells that run over a whole sequence or one step at a time.

    Autoregressive models need both: the sequence pass for training and for
    conditioning on the context, the step for sampling. Both use the same cells and
    weights. For `"lstm"` the sequence pass runs TensorFlow's fused `BlockLSTM` kernel
    (one op for all time steps, forward and backward) over the Keras `LSTMCell`'s own
    weights, which on CPU trains several times faster than Keras's per-step loop; the
    step uses the matching single-step kernel `LSTMBlockCell` on the same weights. Other
    cells run through `keras.layers.RNN` and step as themselves.

    Args:
        cell: `"lstm"`, `"gru"`, `"nested_lstm"` (`kerasts.layers.NestedLSTMCell`, depth 2), a
            name added with `register_recurrent_cell`, or `{"name": ..., "config": {...}}` to
            pass the cell's arguments (e.g. `{"name": "nested_lstm", "config": {"depth": 3}}`).
        units: units per layer.
        num_layers: number of stacked layers.
        dropout: dropout rate applied between layers in training.
        batch_shards: splits the batch of the sequence pass into this many shards whose
            recurrent kernels are independent ops, so TensorFlow runs them at the same time.
            At small batches one fused LSTM kernel keeps about one CPU core busy; on a
            multi-core CPU, shards use the others (the result is the same up to rounding).
        **kwargs: base layer arguments.

    Call arguments:
        inputs: `(batch, time, features)`.
        training: whether dropout is active.

    Returns:
        `(outputs, states)`: the top layer's outputs `(batch, time, units)` and, per
        layer, the list of its final state tensors.

    Example:

    ```python
    stack = kerasts.layers.RecurrentStack("lstm", units=40, num_layers=2)
    outputs, states = stack(sequence)                 # teacher-forced pass
    output, states = stack.step(next_inputs, states)  # one more step
    ```
    """

    def __init__(self, cell="lstm", units=40, num_layers=2, dropout=0.0, batch_shards=1, **kwargs):
        super().__init__(**kwargs)
        name, config = parse_recurrent_cell(cell)
        if not 0 <= dropout < 1:
            raise ValueError(f"`dropout` must be in [0, 1), got {dropout!r}.")
        self.cell = _CELLS.serialize(name, config)
        self.batch_shards = check_positive_int("batch_shards", batch_shards)
        self.units = check_positive_int("units", units)
        self.num_layers = check_positive_int("num_layers", num_layers)
        self.dropout = float(dropout)
        self.cells = [recurrent_cell(cell, self.units, f"cell_{index}") for index in range(self.num_layers)]
        # Only cells without a fused kernel run through the generic loop.
        self.sequence_layers = [
            None if self.cell == "lstm" else
            keras.layers.RNN(layer_cell, return_sequences=True, return_state=True, name=f"sequence_{index}")
            for index, layer_cell in enumerate(self.cells)
        ]
        self.between_layers_dropout = keras.layers.Dropout(self.dropout)

    def build(self, input_shape):
        features = input_shape[-1]
        for layer_cell, sequence_layer in zip(self.cells, self.sequence_layers):
            if sequence_layer is None:
                layer_cell.build((input_shape[0], features))
            else:
                sequence_layer.build((input_shape[0], None, features))
            features = self.units

    def call(self, inputs, training=None):
        if self.batch_shards == 1:
            return self._run_layers(inputs, training)
        # An empty shard would be wrong, not just wasted: BlockLSTM's gradient kernel returns
        # garbage weight gradients for zero rows. Rows of zeros fill a batch smaller than the
        # shard count (their outputs are dropped, so they add nothing to the gradients).
        batch = tf.shape(inputs)[0]
        filled = tf.pad(inputs, [[0, tf.maximum(self.batch_shards - batch, 0)], [0, 0], [0, 0]])
        shards = [self._run_layers(shard, training) for shard in _split_batch(filled, self.batch_shards)]
        outputs = tf.concat([shard_outputs for shard_outputs, _ in shards], axis=0)[:batch]
        states = [[tf.concat(parts, axis=0)[:batch] for parts in zip(*layer_states)]
                  for layer_states in zip(*(shard_states for _, shard_states in shards))]
        return outputs, states

    def _run_layers(self, inputs, training):
        states = []
        sequence = inputs
        for index, (layer_cell, sequence_layer) in enumerate(zip(self.cells, self.sequence_layers)):
            if index:
                sequence = self.between_layers_dropout(sequence, training=training)
            if sequence_layer is None:
                sequence, layer_states = _fused_lstm(layer_cell, sequence)
            else:
                sequence, *layer_states = sequence_layer(sequence, training=training)
            states.append(list(layer_states))
        return sequence, states

    def step(self, inputs, states):
        """One time step for inference (the fused LSTM step has no gradient): `inputs (batch,
        features)`, states as `call` returns them."""
        new_states = []
        output = inputs
        for layer_cell, sequence_layer, layer_states in zip(self.cells, self.sequence_layers, states):
            if sequence_layer is None:
                output, layer_states = _fused_lstm_step(layer_cell, output, layer_states)
            else:
                output, layer_states = layer_cell(output, layer_states, training=False)
            new_states.append(list(layer_states))
        return output, new_states

    def compute_output_spec(self, inputs, training=None):
        batch, time = inputs.shape[0], inputs.shape[1]
        outputs = keras.KerasTensor((batch, time, self.units), dtype=self.compute_dtype)
        states = [[keras.KerasTensor((batch, self.units), dtype=self.compute_dtype)
                   for _ in range(_state_count(layer_cell))] for layer_cell in self.cells]
        return outputs, states

    def get_config(self):
        return {**super().get_config(), "cell": self.cell, "units": self.units, "num_layers": self.num_layers,
                "dropout": self.dropout, "batch_shards": self.batch_shards}


def _split_batch(inputs, shards):
    """`inputs` cut along the batch into `shards` parts whose sizes differ by at most one."""
    batch = tf.shape(inputs)[0]
    sizes = batch // shards + tf.cast(tf.range(shards) < batch % shards, batch.dtype)
    return tf.split(inputs, sizes, num=shards, axis=0)


def _state_count(cell):
    return len(cell.state_size) if isinstance(cell.state_size, (list, tuple)) else 1


def _to_block_lstm_layout(weights):
    """Keras's gate order (i, f, c, o) -> BlockLSTM's (i, c, f, o), on the last axis."""
    input_gate, forget_gate, candidate, output_gate = tf.split(weights, 4, axis=-1)
    return tf.concat([input_gate, candidate, forget_gate, output_gate], axis=-1)


def _fused_lstm_step(cell, inputs, states):
    """One step of a Keras `LSTMCell` with the fused `LSTMBlockCell` kernel (one op instead of
    separate matmuls and gate activations; the sampling loop runs it on series x paths rows)."""
    hidden, cell_state = states
    no_peephole = tf.zeros([cell.units], dtype=inputs.dtype)
    outputs = tf.raw_ops.LSTMBlockCell(
        x=inputs, cs_prev=cell_state, h_prev=hidden,
        w=_to_block_lstm_layout(tf.concat([cell.kernel, cell.recurrent_kernel], axis=0)), wci=no_peephole,
        wcf=no_peephole, wco=no_peephole, b=_to_block_lstm_layout(cell.bias), forget_bias=0.0, cell_clip=-1.0,
        use_peephole=False,
    )
    return outputs[6], [outputs[6], outputs[1]]


def _fused_lstm(cell, sequence):
    """Runs a Keras `LSTMCell` (default activations) over `sequence` with the fused kernel.

    `BlockLSTM` (V1), not `BlockLSTMV2`: TensorFlow registers V1's gradient for V2 although
    their gate layouts differ, so V2's gradients are wrong. The cell's weights are
    reordered on every call (cheap), so gradients flow back to them unchanged.
    """
    kernel = cell.kernel
    if sequence.shape[-1] % 2:
        # BlockLSTM takes a slow path when batch and input sizes are both odd; a zero
        # feature with a zero weight row changes nothing but the parity.
        sequence = tf.pad(sequence, [[0, 0], [0, 0], [0, 1]])
        kernel = tf.pad(kernel, [[0, 1], [0, 0]])
    time_major = tf.transpose(sequence, [1, 0, 2])
    batch = tf.shape(sequence)[0]
    zeros = tf.zeros(tf.stack([batch, cell.units]), dtype=sequence.dtype)
    no_peephole = tf.zeros([cell.units], dtype=sequence.dtype)
    outputs = tf.raw_ops.BlockLSTM(
        seq_len_max=tf.cast(tf.shape(time_major)[0], tf.int64), x=time_major, cs_prev=zeros, h_prev=zeros,
        w=_to_block_lstm_layout(tf.concat([kernel, cell.recurrent_kernel], axis=0)), wci=no_peephole,
        wcf=no_peephole, wco=no_peephole, b=_to_block_lstm_layout(cell.bias),
        # Keras's bias already holds its forget-gate initialisation.
        forget_bias=0.0, cell_clip=-1.0, use_peephole=False,
    )
    cell_states, hidden = outputs[1], outputs[6]
    return tf.transpose(hidden, [1, 0, 2]), [hidden[-1], cell_states[-1]]
