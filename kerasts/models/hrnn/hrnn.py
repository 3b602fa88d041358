import keras
import numpy as np
import tensorflow as tf

from kerasts._checks import check_positive_int
from kerasts._distributed_build import DistributedBuildMixin
from kerasts._training_graph_release import TrainingGraphReleaseMixin
from kerasts.data.vocabulary import IdVocabulary
from kerasts.export import Endpoint, ServingEndpointsMixin
from kerasts.layers.feature_groups import FeatureGroups

MODES = ("init", "all")


@keras.saving.register_keras_serializable(package="kerasts")
class HRNN(DistributedBuildMixin, ServingEndpointsMixin, TrainingGraphReleaseMixin, keras.Model):
    """Hierarchical recurrent network for personalized session-based recommendation.

    A session GRU reads the items of a session and scores the next item over the whole catalog.
    With `user_gru=True`, a user GRU takes the session GRU's final state whenever a session ends,
    and the next session's state starts as `tanh(W_init user_state + b)`; mode `"all"` also feeds the
    user state to the session GRU at every step, and `user_to_output` to the output layer.
    `user_gru=False` is plain session-based GRU4Rec, the baseline, in the same code.

    Training follows GRU4Rec's session-parallel mini-batches (`kerasts.data.SessionParallelBatches`):
    each of `num_slots` batch rows runs one user's sessions in order; the hidden states of every
    slot persist across batches in non-trainable variables, and the `session_start` / `user_start`
    flags reset a slot's state at the step where its next session or user begins, and only there.
    Calls with `training=False` start from zero states (every flag at the first step decides), so
    inference and export do not depend on what was trained last.

    The model owns its item vocabulary (`model.items`, a `kerasts.data.IdVocabulary`, saved with
    it): item indices run 1..N in `item_ids` order, 0 is padding and unknown items.

    With `item_features` (HRNN-metadata), an item's vector is its embedding plus its metadata
    (`FeatureGroups` over `item_feature_values`, projected to `embedding_dim`): the session GRU reads
    it, and with `tie_embeddings` the catalog is scored by it. The metadata of the whole catalog goes
    through `FeatureGroups` once per call and is gathered per step (`item_vectors`).

    Args:
        item_ids: the catalog's item ids, in index order.
        units: session GRU size.
        user_units: user GRU size (default `units`).
        mode: `"init"` or `"all"` (see above).
        user_gru: `False` for session-only GRU4Rec.
        user_to_output: also feed the user state to the output layer.
        embedding_dim: item embedding size.
        tie_embeddings: score with the input item embeddings (GRU4Rec's shared embedding).
        num_slots: parallel sessions per training batch (the training batch size).
        dropout: dropout on the session GRU's input (GRU4Rec's `dropout_p_embed`).
        hidden_dropout: dropout on the session GRU's output where the output layer reads it
            (GRU4Rec's `dropout_p_hidden`); the carried state is not dropped.
        user_dropout: dropout on the user state where the session uses it (initialisation, and the
            session GRU's input and the output layer where those take it), as the HRNN paper
            regularises the user representation.
        item_features: `FeatureGroups` specs (name -> spec) of the item metadata, or None.
        item_feature_values: name -> one value per item of `item_ids` (strings for the categorical
            features, numbers for the numeric ones); `kerasts.data.item_metadata_features` makes both
            from an Items table.

    Call arguments:
        inputs: dict with `"items"` (batch, steps) int, `"session_start"` and `"user_start"`
            (batch, steps) 0/1 flags.
        training: training calls continue (and update) the slots' stored states.

    Returns logits (batch, steps, num_items + 1) over the catalog for the next item. Item indices
    outside 1..num_items are read as unknown (0).

    Example:
        >>> model = HRNN(sorted(train_sessions["ITEM_ID"].unique()), num_slots=32)
        >>> batches = SessionParallelBatches(train_sessions, model.items, num_slots=32, steps=10)
        >>> model.compile("adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        >>> model.fit(batches.dataset(), epochs=5, shuffle=False)

    Reference:
        Quadrana, Karatzoglou, Hidasi and Cremonesi, "Personalizing Session-based
        Recommendations with Hierarchical Recurrent Neural Networks", RecSys 2017; Hidasi et al.,
        "Session-based Recommendations with Recurrent Neural Networks", ICLR 2016.
    """

    def __init__(self, item_ids, units=100, user_units=None, mode="init", user_gru=True, user_to_output=False,
                 embedding_dim=64, tie_embeddings=False, num_slots=32, dropout=0.0, hidden_dropout=0.0,
                 user_dropout=0.0, item_features=None, item_feature_values=None, **kwargs):
        super().__init__(**kwargs)
        if mode not in MODES:
            raise ValueError(f"`mode` must be one of {MODES}, got {mode!r}.")
        if mode == "all" and not user_gru:
            raise ValueError("mode='all' feeds the user state to the session GRU: it needs user_gru=True.")
        self.items = IdVocabulary(item_ids)
        if len(self.items) != len(item_ids) or not len(self.items):
            raise ValueError(f"`item_ids` must list each catalog item once; got {len(item_ids)} ids of which "
                             f"{len(self.items)} are distinct.")
        self.units = check_positive_int("units", units)
        self.user_units = int(user_units or units)
        self.mode, self.user_gru, self.user_to_output = mode, bool(user_gru), bool(user_to_output)
        self.embedding_dim, self.tie_embeddings = int(embedding_dim), bool(tie_embeddings)
        self.num_slots, self.dropout, self.user_dropout = int(num_slots), float(dropout), float(user_dropout)
        self.hidden_dropout = float(hidden_dropout)
        if self.user_dropout and not self.user_gru:
            raise ValueError("`user_dropout` acts on the user state: it needs user_gru=True.")
        self.item_lookup = self.items.lookup_layer(name="item_lookup")
        self.item_embedding = keras.layers.Embedding(self.num_items + 1, self.embedding_dim, name="item_embedding")
        self.input_dropout = keras.layers.Dropout(self.dropout)
        self.output_dropout = keras.layers.Dropout(self.hidden_dropout)
        self.user_state_dropout = keras.layers.Dropout(self.user_dropout)
        self.session_cell = keras.layers.GRUCell(self.units, name="session_gru")
        if self.user_gru:
            self.user_cell = keras.layers.GRUCell(self.user_units, name="user_gru")
            self.session_init = keras.layers.Dense(self.units, activation="tanh", name="session_init")
        self.readout = (keras.layers.Dense(self.embedding_dim, name="readout") if self.tie_embeddings
                        else keras.layers.Dense(self.num_items + 1, name="readout"))
        self.item_features, self.item_feature_values = _checked_metadata(item_features, item_feature_values,
                                                                         self.items.ids)
        if self.item_features:
            self.item_metadata = FeatureGroups(self.item_features, name="item_metadata")
            self.metadata_projection = keras.layers.Dense(self.embedding_dim, use_bias=False,
                                                          name="metadata_projection")

    def build(self, input_shape=None):
        self.item_embedding.build((None,))
        if self.item_features:
            self.item_metadata.build()
            self.metadata_projection.build((None, self.item_metadata.output_dim))
        session_input = self.embedding_dim + (self.user_units if self.mode == "all" else 0)
        self.session_cell.build((None, session_input))
        if self.user_gru:
            self.user_cell.build((None, self.units))
            self.session_init.build((None, self.user_units))
        self.readout.build((None, self.units + (self.user_units if self.user_to_output else 0)))
        if self.tie_embeddings:
            self.output_bias = self.add_weight(shape=(self.num_items + 1,), initializer="zeros", name="output_bias")
        # Under a tf.distribute strategy each replica runs its share of the slots: the states are
        # per-replica (on-read) variables of that share.
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        if self.num_slots % replicas:
            raise ValueError(f"`num_slots` ({self.num_slots}) must divide evenly over {replicas} replicas.")
        slots = self.num_slots // replicas
        self.session_state = self._slot_states(slots, self.units, "session_state")
        self.user_state = self._slot_states(slots, self.user_units, "user_state")
        self.built = True

    def item_axes(self):
        """The variables indexed by catalog item (index 0 padding) -> their item axis, for warm starts."""
        if self.tie_embeddings:
            return {"item_embedding/embeddings": 0, "output_bias": 0}
        return {"item_embedding/embeddings": 0, "readout/kernel": 1, "readout/bias": 0}

    @property
    def num_items(self):
        return len(self.items)

    @staticmethod
    def _slot_states(slots, units, name):
        with keras.name_scope(name):
            return keras.Variable(keras.initializers.Zeros()((slots, units)), trainable=False, name=name,
                                  synchronization="on_read", aggregation="only_first_replica")

    def zero_states(self, batch_size):
        return (keras.ops.zeros((batch_size, self.units)), keras.ops.zeros((batch_size, self.user_units)))

    def item_vectors(self):
        """Every item's input vector, (num_items + 1, embedding_dim): its embedding, plus its projected
        metadata with `item_features` (row 0, padding and unknown items, has no metadata)."""
        vectors = self.item_embedding.embeddings
        if not self.item_features:
            return vectors
        metadata = self.metadata_projection(self.item_metadata_features())
        return vectors + keras.ops.concatenate([keras.ops.zeros((1, self.embedding_dim)), metadata], axis=0)

    def item_metadata_features(self):
        """The catalog's metadata as `FeatureGroups` reads it, (num_items, output_dim), before the projection
        (item index i + 1 in row i); requires `item_features`."""
        return self.item_metadata({name: tf.constant(values) for name, values in self.item_feature_values.items()})

    def step(self, items, session_start, user_start, session_state, user_state, training=False, item_vectors=None):
        """One event per row: resets by the flags, advances the GRUs, scores the catalog. `item_vectors`
        (from `item_vectors()`) saves computing them again when steps run in a loop.

        Returns `(logits (batch, num_items + 1), session_state, user_state)`.
        """
        item_vectors = self.item_vectors() if item_vectors is None else item_vectors
        readout, session_state, user_state = self.advance(items, session_start, user_start, session_state,
                                                          user_state, training=training, item_vectors=item_vectors)
        return self.catalog_scores(readout, item_vectors), session_state, user_state

    def advance(self, items, session_start, user_start, session_state, user_state, training=False,
                item_vectors=None):
        """`step` without the catalog scores: `(readout, session_state, user_state)`, the readout being
        what the output layer reads (`catalog_scores(readout)` scores it). Item indices outside
        1..num_items are read as unknown (0)."""
        if keras.backend.standardize_dtype(getattr(items, "dtype", "int32")) == "string":
            raise TypeError("HRNN steps take item indices (model.items.encode(ids)); the exported `step` "
                            "endpoint and SessionRecommender take item ids.")
        items = keras.ops.cast(items, "int32")
        items = keras.ops.where((items < 0) | (items > self.num_items), keras.ops.zeros_like(items), items)
        session_start = keras.ops.cast(keras.ops.reshape(session_start, (-1, 1)), "float32")
        user_start = keras.ops.cast(keras.ops.reshape(user_start, (-1, 1)), "float32")
        if self.user_gru:
            # The previous session of the same user ended here: it updates the user state.
            ended = session_start * (1.0 - user_start)
            updated_user, _ = self.user_cell(session_state, [user_state])
            user_state = (1.0 - user_start) * (ended * updated_user + (1.0 - ended) * user_state)
            user_seen = self.user_state_dropout(user_state, training=training)
            initial = self.session_init(user_seen)
        else:
            user_seen, initial = user_state, keras.ops.zeros_like(session_state)
        session_state = session_start * initial + (1.0 - session_start) * session_state
        item_vectors = self.item_vectors() if item_vectors is None else item_vectors
        features = self.input_dropout(keras.ops.take(item_vectors, items, axis=0), training=training)
        if self.mode == "all":
            features = keras.ops.concatenate([features, user_seen], axis=-1)
        output, states = self.session_cell(features, [session_state], training=training)
        session_state = states[0] if isinstance(states, (list, tuple)) else states
        output = self.output_dropout(output, training=training)
        readout = keras.ops.concatenate([output, user_seen], axis=-1) if self.user_to_output else output
        return readout, session_state, user_state

    def catalog_scores(self, readout, item_vectors=None):
        """Logits over the catalog (index 0 included) from the output layer's input."""
        projected = self.readout(readout)
        if not self.tie_embeddings:
            return projected
        item_vectors = self.item_vectors() if item_vectors is None else item_vectors
        return keras.ops.matmul(projected, keras.ops.transpose(item_vectors)) + self.output_bias

    def run(self, inputs, session_state, user_state, training=False):
        """All steps of `inputs` from the given states: `(logits, session_state, user_state)`.

        The recurrence is a `tf.scan` over the steps (so the number of steps may vary between calls
        and exports); the catalog is scored once for all steps after it, one large product instead of
        one per step inside the loop.
        """
        item_vectors = self.item_vectors()
        readouts, session_state, user_state = self.readouts(inputs, session_state, user_state, training=training,
                                                            item_vectors=item_vectors)
        return self.catalog_scores(readouts, item_vectors), session_state, user_state

    def read(self, inputs, session_state, user_state):
        """`run` scoring only the last step: `(readout, session_state, user_state)` after all steps
        (the logits of every step would be steps x catalog floats per row)."""
        readouts, session_state, user_state = self.readouts(inputs, session_state, user_state)
        return readouts[:, -1], session_state, user_state

    def readouts(self, inputs, session_state, user_state, training=False, item_vectors=None):
        """`run` without the catalog scores: `(readouts (batch, steps, width), session_state, user_state)`,
        what the output layer reads at every step (`catalog_scores` scores the ones wanted)."""
        by_step = [tf.transpose(inputs[name]) for name in ("items", "session_start", "user_start")]
        item_vectors = self.item_vectors() if item_vectors is None else item_vectors

        def advance(carry, step_inputs):
            _, session, user = carry
            return self.advance(*step_inputs, session, user, training=training, item_vectors=item_vectors)

        batch = tf.shape(by_step[0])[1]
        width = self.units + (self.user_units if self.user_to_output else 0)
        readouts, session_states, user_states = tf.scan(advance, by_step,
                                                        (tf.zeros((batch, width)), session_state, user_state))
        return tf.transpose(readouts, (1, 0, 2)), session_states[-1], user_states[-1]

    def serving_signature(self):
        return {"items": tf.TensorSpec((None, None), tf.int32, name="items"),
                "session_start": tf.TensorSpec((None, None), tf.float32, name="session_start"),
                "user_start": tf.TensorSpec((None, None), tf.float32, name="user_start")}

    def call(self, inputs, training=False):
        if training:
            slots = self.session_state.shape[0]
            rows = inputs["items"].shape[0]
            if rows is not None and rows != slots:
                raise ValueError(f"Training batches must have num_slots={slots} rows per replica (the slots whose "
                                 f"states persist), got {rows}: use SessionParallelBatches with num_slots="
                                 f"{self.num_slots}.")
            logits, session_state, user_state = self.run(inputs, self.session_state, self.user_state, training=True)
            self.session_state.assign(session_state)
            self.user_state.assign(user_state)
            return logits
        batch = keras.ops.shape(inputs["items"])[0]
        return self.run(inputs, *self.zero_states(batch))[0]

    def serving_endpoints(self, k=20):
        """`serve` (every step of `call`, from zero states) and `step`, for `export` (see
        `kerasts.export`): one event per row, by the catalog's string ids, and the next items.

        `step` takes `item_ids` (batch,) strings, `session_start` and `user_start` (batch,) 0/1,
        `session_state` (batch, units) and `user_state` (batch, user_units), and returns the top-`k`
        `item_ids` and `scores` for the next item and the new states. A row whose item the
        vocabulary does not know keeps its states, as `SessionRecommender` skips such events.
        """
        endpoints = super().serving_endpoints()
        top = min(int(k), self.num_items)

        def step(item_ids, session_start, user_start, session_state, user_state):
            items = tf.cast(self.item_lookup(item_ids), tf.int32)
            logits, new_session, new_user = self.step(items, session_start, user_start, session_state, user_state)
            known = (items > 0)[:, None]
            best = tf.math.top_k(logits[:, 1:], k=top)  # index 0 is padding
            return {"item_ids": tf.gather(tf.constant(self.items.ids), best.indices), "scores": best.values,
                    "session_state": tf.where(known, new_session, session_state),
                    "user_state": tf.where(known, new_user, user_state)}

        endpoints["step"] = Endpoint(step, [tf.TensorSpec((None,), tf.string, name="item_ids"),
                                            tf.TensorSpec((None,), tf.float32, name="session_start"),
                                            tf.TensorSpec((None,), tf.float32, name="user_start"),
                                            tf.TensorSpec((None, self.units), tf.float32, name="session_state"),
                                            tf.TensorSpec((None, self.user_units), tf.float32, name="user_state")])
        return endpoints

    def litert_endpoints(self):
        """The endpoints `export(format="litert")` converts by default: `step` (`serve` scans the steps
        with TensorFlow's list operators, which LiteRT lacks)."""
        return ["step"]

    def stored_states(self):
        """The slots' stored `(session_states, user_states)` as numpy arrays (num_slots, units), slot
        order kept (replicas' shares concatenated under a distribution strategy)."""
        def gather(variable):
            parts = tf.distribute.get_strategy().experimental_local_results(getattr(variable, "_value", variable))
            return np.concatenate([np.asarray(part) for part in parts])

        return gather(self.session_state), gather(self.user_state)

    def reset_states(self):
        """Zeroes the slots' stored states (e.g. before another pass over the training data)."""
        self.session_state.assign(keras.ops.zeros_like(self.session_state))
        self.user_state.assign(keras.ops.zeros_like(self.user_state))

    def get_config(self):
        return {**super().get_config(), "item_ids": list(self.items.ids), "units": self.units,
                "user_units": self.user_units, "mode": self.mode, "user_gru": self.user_gru,
                "user_to_output": self.user_to_output, "embedding_dim": self.embedding_dim,
                "tie_embeddings": self.tie_embeddings, "num_slots": self.num_slots, "dropout": self.dropout,
                "hidden_dropout": self.hidden_dropout, "user_dropout": self.user_dropout,
                "item_features": self.item_features, "item_feature_values": self.item_feature_values}


def _checked_metadata(item_features, item_feature_values, item_ids):
    """`(item_features, item_feature_values)` checked against each other and the catalog, the values as
    plain strings and floats (what `get_config` saves)."""
    if not item_features:
        if item_feature_values:
            raise ValueError("`item_feature_values` were given without `item_features` to read them.")
        return None, None
    if not isinstance(item_feature_values, dict):
        raise ValueError("`item_features` needs `item_feature_values`: a dict of feature name -> one value per "
                         "catalog item (kerasts.data.item_metadata_features makes both).")
    features, values = {}, {}
    for name, spec in item_features.items():
        if name not in item_feature_values:
            raise ValueError(f"`item_feature_values` lacks item feature {name!r}.")
        column = list(item_feature_values[name])
        if len(column) != len(item_ids):
            raise ValueError(f"Item feature {name!r} has {len(column)} values for {len(item_ids)} catalog items.")
        if isinstance(spec, dict) and spec.get("type") == "numeric":
            numbers = np.asarray(column, dtype="float64")
            if not np.isfinite(numbers).all():
                raise ValueError(f"Item feature {name!r} holds a value that is not a finite number (item "
                                 f"{item_ids[int(np.flatnonzero(~np.isfinite(numbers))[0])]!r}).")
            values[name] = [float(number) for number in numbers]
        else:
            values[name] = [str(value) for value in column]
        features[name] = dict(spec)
    return features, values
