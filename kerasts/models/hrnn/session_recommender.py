"""HRNN's training recipe and live use, as a `kerasts.protocols.Recommender`."""

import inspect
import json
import os
import warnings
import zipfile

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from kerasts._checks import check_positive_int
from kerasts._files import replaced_atomically
from kerasts.data.item_metadata import CREATION_TIMESTAMP, item_metadata_features, item_metadata_values
from kerasts.data.session_batches import SessionParallelBatches
from kerasts.data.sessions import SESSION_COLUMN, sessionize
from kerasts.data.vocabulary import IdVocabulary
from kerasts.losses.session_ranking import BPRMax, SampledCrossEntropy, TOP1Max
from kerasts.models.hrnn.cold_items import map_item_rows
from kerasts.models.hrnn.hrnn import HRNN
from kerasts.models.warm_start import transfer_weights
from kerasts.optimizers import Adam
from kerasts.protocols.recommender import Recommender, check_distinct_users

LOSS_CLASSES = {"sampled": SampledCrossEntropy, "bpr_max": BPRMax, "top1_max": TOP1Max}
LOSSES = ("cross_entropy", *LOSS_CLASSES)
USER_STATES = ("everything_before", "train_history", "zero")
# Fewer optimizer updates than this in a fit draw a warning: on small data the epoch count users copy
# (from settings made for MovieLens) leaves the network barely trained.
FEW_UPDATES = 200


class SessionRecommender(Recommender):
    """HRNN trained on Personalize tables and used live, like Amazon Personalize's HRNN recipe with
    its event tracker.

    The recipe (`fit(interactions, items=None)`): sessions from `SESSION_ID` when the table has it, otherwise
    a new session after `session_gap_seconds` of inactivity (`sessionize`); an `HRNN` over the
    interactions' items with the `network` settings; GRU4Rec's session-parallel batches of
    `num_slots` x `steps`; Adam at `learning_rate` on `loss` (full-catalog cross-entropy, in-batch
    plus 256 negatives drawn by popularity with log-Q, or BPR-max or TOP1-max over in-batch plus 2,048
    negatives drawn by popularity ** 0.5, as GRU4Rec's) for `epochs`, after
    `keras.utils.set_random_seed(seed)`. The settings that led on MovieLens sessions are in
    benchmarks/RESULTS.md. With `item_features` (HRNN-metadata) the network also reads those columns
    of the `items` table (`kerasts.data.item_metadata_features`: numbers standardised, text as `a|b`
    values; an item missing from the table, or a missing value, falls back to no value or the mean).

    Live use: `put_events(user_id, items, session_id)` advances the user's state item by item (a
    new user starts from a zero user state; a new `session_id` first folds the previous session
    into the user state, as in training); items the model does not know are skipped and counted in
    `unknown_items` (with a warning), never an error. `recommend(user_id=...)` ranks the catalog for
    the user's current session; a user without live events is read from their known history (from
    `fit`) as one session, and `history` or `item_id` are read the same way. `save(path)` and
    `SessionRecommender.load(path, model)` keep the live states across restarts.

    Cold start (`cold_start_items=True`, HRNN-coldstart, with `item_features`): the Items table's items
    without training interactions join the catalog at the end of `fit`, and items put later join it
    through `add_items` (PutItems) without retraining: their embedding and output rows come from their
    metadata, mapped by a ridge regression onto the rows the network learned for items with
    interactions (`kerasts.models.hrnn.cold_items`). Exploration (`exploration_weight`, see
    `kerasts.protocols.Recommender`) then gives that share of each list's slots to the best of the new
    items for the user: those without training interactions, and those whose `CREATION_TIMESTAMP` is
    within `exploration_item_age_cut_off` days of the last training event.

    Args:
        model: a trained `HRNN` to use as it is (then `fit` is not needed; `fit` trains a new one).
        session_gap_seconds: inactivity that starts a new session, for tables without `SESSION_ID`.
        item_features: columns of the Items table the network reads as item metadata, or `"all"`
            (`kerasts.data.item_metadata_columns`: numbers, and text that groups items).
        cold_start_items: recommend items without interactions from their metadata (see above).
        exploration_weight: share of each list (0 to 1, rounded) given to the new items, as
            Personalize's; 0 lets them in by score alone.
        exploration_item_age_cut_off: days since creation within which an item counts as new.
        epochs, learning_rate, loss, num_slots, steps, seed: the training.
        loss_options: settings of the sampled, bpr_max or top1_max loss, e.g. GRU4Rec's `bpreg` and
            `sample_alpha` as `{"regularization": 1.95, "alpha": 0.4}` (see `kerasts.losses`; the
            items' popularity comes from the training data).
        verbose: Keras's progress display.
        **network: `HRNN` settings (`units`, `mode`, `user_gru`, `embedding_dim`, `dropout`,
            `hidden_dropout`, `user_dropout`, `tie_embeddings`, ...).

    Attributes:
        model: the `HRNN` (export it with `model.export(path, k=...)`).
        training_events: session-parallel steps per epoch of the last `fit`.
    """

    def __init__(self, model=None, session_gap_seconds=30 * 60, epochs=5, learning_rate=1e-3, loss="cross_entropy",
                 num_slots=32, steps=10, seed=0, verbose=0, user_column="USER_ID", item_column="ITEM_ID",
                 timestamp_column="TIMESTAMP", item_features=(), cold_start_items=False, exploration_weight=0.0,
                 exploration_item_age_cut_off=30.0, loss_options=None, **network):
        super().__init__(user_column, item_column)
        self.timestamp_column = timestamp_column
        if loss not in LOSSES:
            raise ValueError(f"`loss` must be one of {LOSSES}, got {loss!r}.")
        self.loss_options = dict(loss_options or {})
        if self.loss_options:
            if loss == "cross_entropy":
                raise ValueError("`loss_options` set the sampled, bpr_max and top1_max losses; cross_entropy takes "
                                 "none.")
            accepted = set(inspect.signature(LOSS_CLASSES[loss]).parameters) - {"item_popularity", "name", "kwargs"}
            unknown = sorted(set(self.loss_options) - accepted)
            if unknown:
                raise ValueError(f"`loss_options` {unknown} are not settings of the {loss} loss "
                                 f"({LOSS_CLASSES[loss].__name__} takes {sorted(accepted)}).")
        if session_gap_seconds <= 0:
            raise ValueError(f"`session_gap_seconds` must be positive, got {session_gap_seconds!r}.")
        self.session_gap_seconds = session_gap_seconds
        self.epochs = check_positive_int("epochs", epochs)
        self.learning_rate, self.loss, self.seed, self.verbose = learning_rate, loss, seed, verbose
        self.num_slots = check_positive_int("num_slots", num_slots)
        self.steps = check_positive_int("steps", steps)
        self.item_features = item_features if isinstance(item_features, str) else tuple(item_features)
        if isinstance(item_features, str) and item_features != "all":
            raise ValueError(f"`item_features` must be a list of Items columns or 'all', got {item_features!r}.")
        if cold_start_items and not self.item_features:
            raise ValueError("cold_start_items scores items without interactions from their metadata: give "
                             "`item_features` too.")
        if not 0.0 <= exploration_weight <= 1.0:
            raise ValueError(f"`exploration_weight` must be in [0, 1], got {exploration_weight!r}.")
        if exploration_weight and not cold_start_items:
            raise ValueError("`exploration_weight` gives slots to new items: it needs cold_start_items=True.")
        if not exploration_item_age_cut_off > 0:
            raise ValueError(f"`exploration_item_age_cut_off` must be a positive number of days, got "
                             f"{exploration_item_age_cut_off!r}.")
        self.cold_start_items = bool(cold_start_items)
        self.exploration_weight = float(exploration_weight)
        self.exploration_item_age_cut_off = float(exploration_item_age_cut_off)
        self._explored = None
        self.network = network
        self.model = model
        self.items = None if model is None else model.items
        self.users = {}
        self._history_readouts = {}
        self.unknown_items = 0

    # The recipe.

    def build_model(self, item_ids, sessions=None, items=None):
        """A compiled `HRNN` over `item_ids` with the recipe's settings (`sessions`, the training
        data, give the sampled loss its item popularity; `items`, the Items table, the metadata)."""
        metadata = {}
        if self.item_features:
            if items is None:
                raise ValueError(f"`item_features` {self.item_features!r} are read from the Items table: pass "
                                 "`items` to fit.")
            metadata = dict(zip(("item_features", "item_feature_values"), item_metadata_features(
                items, self.item_features, item_ids, self.item_column)))
        model = HRNN(item_ids, num_slots=self.num_slots, **self.network, **metadata)
        model.build()  # the slot states now, in the caller's strategy scope: Keras's distributed build cannot
        model.compile(Adam(self.learning_rate), loss=self._loss(model.items, sessions))
        return model

    def _loss(self, items, sessions):
        if self.loss == "cross_entropy":
            return keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        if sessions is None:
            raise ValueError(f"The {self.loss} loss draws negatives by popularity: build_model needs the sessions.")
        counts = np.bincount(items.encode(sessions[self.item_column]), minlength=len(items) + 1).astype("float64")
        counts[0] = 0.0  # padding is never drawn
        defaults = {"num_negatives": 256} if self.loss == "sampled" else {}
        return LOSS_CLASSES[self.loss](item_popularity=counts.tolist(), **{**defaults, **self.loss_options})

    def sessions(self, interactions):
        """The table with `SESSION_ID`: its own, or cut by `session_gap_seconds`."""
        if SESSION_COLUMN in interactions.columns:
            return self.with_users(interactions)
        sessions = sessionize(interactions, self.session_gap_seconds, self.user_column, self.timestamp_column)
        if not sessions[SESSION_COLUMN].duplicated().any():
            gaps = sessions.groupby(self.user_column)[self.timestamp_column].diff().dropna()
            typical = f" (a user's events are a median {gaps.median():,.0f} s apart)" if len(gaps) else ""
            raise ValueError(f"With session_gap_seconds={self.session_gap_seconds:,}, no session has two events"
                             f"{typical}: there is no next item to learn. Give a longer session_gap_seconds.")
        return sessions

    def with_users(self, sessions):
        """`sessions` with the user column: their own, or, for a session-only network (`user_gru=False`),
        each session its own user (a copy: the table given is left as it is)."""
        if self.user_column in sessions.columns:
            return sessions
        user_gru = self.model.user_gru if self.model is not None else self.network.get("user_gru", True)
        if user_gru:
            raise ValueError(f"The table has no {self.user_column!r} column: HRNN's user state follows each user "
                             "across sessions. A session-only network (user_gru=False) reads SESSION_ID alone.")
        return sessions.assign(**{self.user_column: sessions[SESSION_COLUMN]})

    def train(self, model, sessions, callbacks=None, **fit_kwargs):
        """Fits `model` on session-parallel batches of `sessions` (slots continue across batches, so
        never shuffled). Returns Keras's `History`."""
        batches = SessionParallelBatches(sessions, model.items, self.num_slots, self.steps, self.user_column,
                                         self.item_column)
        self.training_events = batches.num_steps
        fit_kwargs.setdefault("epochs", self.epochs)
        updates = len(batches) * fit_kwargs["epochs"]
        if updates < FEW_UPDATES:
            warnings.warn(f"{len(batches)} batches per epoch x {fit_kwargs['epochs']} epochs = {updates} updates: "
                          f"the network will likely under-fit (the MovieLens settings make about 3,400). Give more "
                          "epochs, or fewer num_slots or steps for data this small.", stacklevel=3)
        fit_kwargs.setdefault("verbose", self.verbose)
        return model.fit(batches.dataset(), shuffle=False, callbacks=list(callbacks or []), **fit_kwargs)

    def fit(self, interactions, items=None, callbacks=None, warm_start=None):
        """The recipe (see the class docstring). `items`: the Items table, for `item_features`.
        `warm_start`: a fitted `SessionRecommender` with the same network settings whose weights the new
        model starts from, rows matched by item id (items new to the catalog start fresh; item features
        must keep their values), e.g. to update on new events with fewer epochs."""
        sessions = self.sessions(interactions)
        if self.seed is not None:
            keras.utils.set_random_seed(self.seed)
        model = self.build_model(IdVocabulary.fit(sessions[self.item_column]).ids, sessions, items)
        if warm_start is not None:
            warm_start.check_fitted()
            transfer_weights(model, model.items.ids, warm_start.model, warm_start.model.items.ids, model.item_axes())
        self.history = self.train(model, sessions, callbacks)
        self.model, self.items, self.users, self.unknown_items = model, model.items, {}, 0
        self.remember_histories(sessions)
        if self.cold_start_items:
            self.add_items(items)
        return self

    def add_items(self, items):
        """HRNN-coldstart: the `items` table's items the catalog lacks join it, their rows mapped from their
        metadata (nothing is retrained), and the items exploration favours are found again (see the class
        docstring). Items already in the catalog keep their rows and metadata."""
        self.check_fitted()
        if not self.cold_start_items:
            raise ValueError("Items join a trained catalog only with cold_start_items=True (HRNN-coldstart).")
        if items is None or self.item_column not in getattr(items, "columns", ()):
            raise ValueError(f"HRNN-coldstart reads new items from the Items table: pass a DataFrame with "
                             f"{self.item_column!r}.")
        known = set(self.items.ids)
        new = list(dict.fromkeys(str(item) for item in items[self.item_column] if str(item) not in known))
        if new:
            old = self.model
            added = item_metadata_values(items, old.item_features, new, self.item_column)
            values = {name: list(values) + added[name] for name, values in old.item_feature_values.items()}
            model = HRNN.from_config({**old.get_config(), "item_ids": list(old.items.ids) + new,
                                      "item_feature_values": values})
            model.build()
            transfer_weights(model, model.items.ids, old, old.items.ids, model.item_axes())
            map_item_rows(model, np.flatnonzero(self._interaction_counts > 0) + 1,
                          np.arange(len(old.items), len(model.items)) + 1)
            self.model, self.items = model, model.items
            self._set_popularity(np.concatenate([self._interaction_counts, np.zeros(len(new), "int64")]))
        explored = self._interaction_counts == 0
        if CREATION_TIMESTAMP in items.columns and self._last_event is not None:
            created = (items.assign(**{self.item_column: items[self.item_column].astype(str)})
                       .drop_duplicates(self.item_column, keep="last").set_index(self.item_column)[CREATION_TIMESTAMP])
            created = pd.to_numeric(created.reindex(self.items.ids), errors="coerce").to_numpy()
            with np.errstate(invalid="ignore"):
                explored |= created >= self._last_event - self.exploration_item_age_cut_off * 86400
        self._explored = np.flatnonzero(explored)

    def exploration_indices(self):
        return self._explored

    def restore(self, model, interactions, items=None):
        """This recipe over a trained `model` and the `interactions` (and `items` table) it was trained on,
        as `fit` left it, without training again. Returns self."""
        self.model, self.items = model, model.items
        self.remember_histories(self.sessions(interactions))
        if self.cold_start_items:
            self.add_items(items)  # the exploration set, from the Items table
        return self

    # The recommender protocol.

    def remember_histories(self, interactions):
        super().remember_histories(interactions)
        self._history_readouts = {}  # user id -> readout of their history (None: nothing known)
        self._set_popularity(np.bincount(self.items.encode(interactions[self.item_column]),
                                         minlength=len(self.items) + 1)[1:])
        self._last_event = (float(interactions[self.timestamp_column].max())
                            if self.timestamp_column in interactions.columns and len(interactions) else None)

    def _set_popularity(self, counts):
        self._interaction_counts = counts
        self._popularity_rank = np.argsort(np.argsort(-counts, kind="stable"), kind="stable")

    def tie_breaking_rank(self):
        """Equal scores (e.g. a user with no events, read as no preference) rank by the training
        events' popularity, so a cold user gets the most popular items."""
        return getattr(self, "_popularity_rank", None)

    def logits(self, scores):
        """The network's scores are its output layer's logits over the catalog (a context with no known item
        scores 0 everywhere: every item equally likely)."""
        return scores

    def score_items(self, contexts):
        """Each context read as one session of a new user, from zero states."""
        self.check_fitted()
        readout, empty = self._readouts(contexts)
        scores = np.array(self._traced("catalog_scores")(readout))[:, 1:]
        scores[empty] = 0.0  # nothing read: no preference
        return scores

    def _readouts(self, contexts):
        """What the output layer reads after each context run as one session from zero states, and which
        contexts hold no known item."""
        codes = [index[index > 0] for index in (self.items.encode(context) for context in contexts)]
        length = max([len(code) for code in codes] + [1])
        items = np.zeros((len(codes), length), "int32")
        starts = np.zeros((len(codes), length), "float32")
        for row, code in enumerate(codes):
            items[row, length - len(code):] = code  # right-aligned: the state resets at the first real event
            starts[row, length - max(len(code), 1)] = 1.0
        readout, _, _ = self._traced("read")({"items": items, "session_start": starts, "user_start": starts},
                                             *self.model.zero_states(len(codes)))
        return np.asarray(readout), np.array([not len(code) for code in codes])

    def _traced(self, name):
        """The model's method `name` as one traced TensorFlow function: run step by step eagerly, a
        long history costs a kernel launch per operation and step (hundreds of ms, measured)."""
        model, functions = getattr(self, "_traced_functions", (None, None))
        if model is not self.model:
            model, functions = self._traced_functions = (self.model, {})
        if name not in functions:
            # Shapes left open, so each model traces each function once however many rows and steps it reads.
            steps = {key: tf.TensorSpec((None, None), tf.int32 if key == "items" else tf.float32, name=key)
                     for key in ("items", "session_start", "user_start")}
            states = [tf.TensorSpec((None, model.units), tf.float32), tf.TensorSpec((None, model.user_units), tf.float32)]
            width = model.units + (model.user_units if model.user_to_output else 0)
            signature = [tf.TensorSpec((None, width), tf.float32)] if name == "catalog_scores" else [steps, *states]
            functions[name] = tf.function(getattr(model, name), input_signature=signature)
        return functions[name]

    def queries_scores(self, queries):
        """A user's query (no `item_id` or `history`) is scored from their live state, or from their history
        read once; the other queries as `score_items` reads contexts. One catalog call for the users."""
        scores = np.zeros((len(queries), len(self.items)))
        readouts, users = [], []
        for row, query in enumerate(queries):
            if query["item_id"] is not None or query["history"] is not None:
                continue
            readout = self._user_readout(query["user_id"])
            if readout is not None:  # None: nothing known, no preference (popularity breaks the ties)
                readouts.append(readout)
                users.append(row)
        if readouts:
            scores[users] = np.asarray(self._traced("catalog_scores")(np.concatenate(readouts)))[:, 1:]
        others = [row for row, query in enumerate(queries) if query["item_id"] is not None
                  or query["history"] is not None]
        if others:
            scores[others] = super().queries_scores([queries[row] for row in others])
        return scores

    def _user_readout(self, user_id):
        """What the output layer reads for a user, (1, width): their live state, else their history's
        readout; None for a user with neither."""
        state = self.users.get(user_id)
        if state is None:
            return self._history_readout(user_id)
        readout = state["session_state"][None]
        if self.model.user_to_output:
            readout = np.concatenate([readout, state["user_state"][None]], axis=-1)
        return readout

    def _history_readout(self, user_id):
        """The readout after a user's known history read as one session (as `score_items` reads it),
        kept once read: it changes only through put_events, which gives the user a live state."""
        if user_id not in self._history_readouts:
            readout, empty = self._readouts([self.user_history(user_id)])
            self._history_readouts[user_id] = None if empty[0] else readout
        return self._history_readouts[user_id]

    def put_events(self, user_id, items, session_id=None):
        """Feeds the user's new events (item ids, in time order; one id alone is one event) of session
        `session_id`. A session the user has left cannot be continued: its events went into the user
        state when the next one started."""
        self.put_events_batch([(user_id, items, session_id)])

    def put_events_batch(self, calls):
        """`put_events` for several users at once, `(user_id, items, session_id)` each, every user at most
        once: the calls with the same number of known events are read in one traced scan, as training
        reads them (a campaign's concurrent PutEvents calls cost about one call's scan)."""
        self.check_fitted()
        check_distinct_users(calls)
        for user_id, items, session_id in calls:
            self.check_events(user_id, session_id)
        known_calls = []
        for user_id, items, session_id in calls:
            items = [items] if np.ndim(items) == 0 else list(items)
            codes = self.items.encode(items)
            for item in np.asarray(items, dtype=object)[codes == 0]:
                self.unknown_items += 1
                warnings.warn(f"Item {item!r} is unknown to the model; event skipped.", stacklevel=3)
            if (codes > 0).any():
                known_calls.append((user_id, codes[codes > 0], session_id))
        for length in sorted({codes.size for _, codes, _ in known_calls}):
            self._read_events([call for call in known_calls if call[1].size == length])

    def _read_events(self, calls):
        """Advances the states of `calls` (users with the same number of events) in one scan; a state is
        replaced only once the scan has run."""
        rows, length = len(calls), calls[0][1].size
        session_state = np.zeros((rows, self.model.units), "float32")
        user_state = np.zeros((rows, self.model.user_units), "float32")
        session_start, user_start = np.zeros((rows, length), "float32"), np.zeros((rows, length), "float32")
        for row, (user_id, _, session_id) in enumerate(calls):
            state = self.users.get(user_id)
            if state is not None:
                session_state[row], user_state[row] = state["session_state"], state["user_state"]
            user_start[row, 0] = float(state is None)
            session_start[row, 0] = float(state is None or state["session_id"] != session_id)
        items = np.stack([codes for _, codes, _ in calls]).astype("int32")
        _, session_state, user_state = self._traced("read")(
            {"items": items, "session_start": session_start, "user_start": user_start}, session_state, user_state)
        session_state, user_state = np.asarray(session_state), np.asarray(user_state)
        for row, (user_id, codes, session_id) in enumerate(calls):
            state = self.users.get(user_id)
            if state is None:
                state = self.users[user_id] = {"past_sessions": []}
                self._history_readouts.pop(user_id, None)
                state["session_items"] = []
            elif state["session_id"] != session_id:
                state["past_sessions"].append(state["session_id"])
                state["session_items"] = []
            state.update(session_id=session_id, session_state=session_state[row], user_state=user_state[row])
            known = [self.items.ids[code - 1] for code in codes]
            state["session_items"].extend(known)
            super().put_events(user_id, known)

    def check_events(self, user_id, session_id=None):
        state = self.users.get(user_id)
        if state is not None and session_id != state["session_id"] and session_id in state["past_sessions"]:
            raise ValueError(f"User {user_id!r} already left session {session_id!r} (the current one is "
                             f"{state['session_id']!r}): events of a new visit need a new session id.")

    def session_items(self, user_id):
        """The items of the user's current live session (e.g. `recommend(..., exclude=...)` of them only)."""
        state = self.users.get(user_id)
        return [] if state is None else list(state["session_items"])

    def next_item_scores(self, sessions, history=None, last_item_only=False, user_state="everything_before",
                         chunk_steps=32):
        """The test sessions run session-parallel through the network, each after what `user_state` says
        its user state reads first:

        - `"everything_before"`: the user's `history` and their earlier test sessions, in time order, as
          a live campaign would have read them;
        - `"train_history"`: the user's `history` only, so every test session is scored as if it were
          the user's first after training;
        - `"zero"`: nothing; every test session starts from a zero user state.
        """
        self.check_fitted()
        if last_item_only:
            raise ValueError("HRNN reads the whole session (and the user's history); last_item_only does not apply.")
        if user_state not in USER_STATES:
            raise ValueError(f"`user_state` must be one of {USER_STATES}, got {user_state!r}.")
        if not self.model.user_gru:
            user_state = "zero"  # a session-only network carries nothing across sessions: no replay changes a score
        test = self.with_users(sessions).assign(_test_row=np.arange(len(sessions)))
        if user_state == "everything_before":
            test = test.assign(_replay=None)  # one replay per user, through all their test sessions in order
        else:
            test = test.assign(_replay=test[SESSION_COLUMN])  # one replay per test session
        earlier = test.iloc[:0].drop(columns=["_test_row", "_replay"])  # no history
        if history is not None and user_state != "zero":
            earlier = self.with_users(history)
            earlier = earlier[earlier[self.user_column].isin(test[self.user_column].unique())]
        replays = test[[self.user_column, "_replay"]].drop_duplicates()
        earlier = earlier.merge(replays, on=self.user_column, how="inner", sort=False).assign(_test_row=-1)
        combined = pd.concat([earlier, test], ignore_index=True)
        combined["_replayed_user"] = combined.groupby([self.user_column, "_replay"], sort=False,
                                                      dropna=False).ngroup()
        # Each replay in time order where the tables have timestamps, else as given (history first).
        order = ["_replayed_user"] + ([self.timestamp_column] if self.timestamp_column in combined else [])
        combined = combined.sort_values(order, kind="stable").reset_index(drop=True)
        # As few slots as the longest replay allows, packed as training packs them: every slot pays each step.
        lengths = combined.groupby("_replayed_user").size()
        batches = SessionParallelBatches(combined, self.items, num_slots=int(np.ceil(lengths.sum() / lengths.max())),
                                         steps=chunk_steps, user_column="_replayed_user", item_column=self.item_column,
                                         allow_unknown_items=True)
        test_rows = np.append(combined["_test_row"].to_numpy(), -1)
        session_carry, user_carry = self.model.zero_states(batches.num_slots)
        readouts, catalog_scores = self._traced("readouts"), self._traced("catalog_scores")
        for chunk in range(len(batches)):
            span = slice(chunk * chunk_steps, (chunk + 1) * chunk_steps)
            inputs = {"items": batches.items[:, span].astype("int32"), "session_start": batches.session_start[:, span],
                      "user_start": batches.user_start[:, span]}
            readout, session_carry, user_carry = readouts(inputs, session_carry, user_carry)
            rows = test_rows[batches.rows[:, span]]
            scored = (batches.valid[:, span] > 0) & (rows >= 0)
            if scored.any():  # only the targets' steps are scored over the catalog
                yield rows[scored], np.asarray(catalog_scores(np.asarray(readout)[scored]))[:, 1:]  # 0: padding

    def save(self, path):
        """Writes every live user's state to `path` (a .npz file), atomically: the file is written
        beside it and renamed, so an interrupted save leaves the previous one whole."""
        path = os.fspath(path)
        if not path.endswith(".npz"):
            raise ValueError(f"SessionRecommender.save writes one .npz file; got {path!r}.")
        directory = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(directory):
            raise ValueError(f"There is no directory {directory!r} to save {os.path.basename(path)!r} in.")
        users = list(self.users)
        meta = {"item_ids": self.items.ids, "users": users,
                "sessions": [self.users[user]["session_id"] for user in users],
                "past_sessions": [self.users[user]["past_sessions"] for user in users],
                "session_items": [self.users[user]["session_items"] for user in users],
                "histories": [self.user_history(user) for user in users], "unknown_items": self.unknown_items}
        with replaced_atomically(path) as partial, open(partial, "wb") as stream:
            np.savez(stream, meta=np.array(json.dumps(meta, default=str)),
                     session_states=np.stack([self.users[user]["session_state"] for user in users]) if users
                     else np.zeros((0, self.model.units)),
                     user_states=np.stack([self.users[user]["user_state"] for user in users]) if users
                     else np.zeros((0, self.model.user_units)))

    @classmethod
    def load(cls, path, model):
        """The live states `save` wrote, over the trained `model` (whose catalog must be the one saved)."""
        recommender = cls(model)
        try:
            with np.load(path) as saved:
                meta = json.loads(str(saved["meta"]))
                session_states, user_states = saved["session_states"], saved["user_states"]
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
            raise ValueError(f"{os.fspath(path)!r} is not a SessionRecommender save (or it is damaged): "
                             f"{error}") from error
        if meta.get("item_ids") != model.items.ids:
            raise ValueError(f"{os.fspath(path)!r} was saved over another catalog than the model's (its item ids "
                             "differ or are in another order): load it with the model it was saved with.")
        for position, user in enumerate(meta["users"]):
            recommender.users[user] = {"session_id": meta["sessions"][position],
                                       "past_sessions": meta["past_sessions"][position],
                                       "session_state": session_states[position],
                                       "user_state": user_states[position],
                                       "session_items": meta["session_items"][position]}
            recommender._histories[user] = meta["histories"][position]
        recommender.unknown_items = meta["unknown_items"]
        return recommender
