"""Session-parallel mini-batches (GRU4Rec) that keep each user's sessions in order (HRNN)."""

import numpy as np
import pandas as pd
import tensorflow as tf

from kerasts._checks import check_positive_int
from kerasts.data.vocabulary import IdVocabulary

from kerasts.data.sessions import SESSION_COLUMN


class SessionParallelBatches:
    """Cuts sessionized interactions into the session-parallel batches of GRU4Rec/HRNN.

    Each of `num_slots` slots runs one user's sessions in time order, then the next user's, and so
    on (users go to slots longest first, each to the least-loaded one, so slots end at about the same
    time). A step feeds one
    event per slot and asks for the next event of the same session; the last event of a session is
    only a target, so sessions of one event give no step and are left out. Flags mark, per slot,
    the step where a new session (`session_start`) or a new user (`user_start`) begins: a model
    resets that slot's state at that step only. Slots that run out are padded with `valid = 0`.

    Args:
        sessions: interactions with `SESSION_ID` (see `sessionize`), sorted by user and time.
        items: the `kerasts.data.IdVocabulary` of the catalog (indices 1..N; 0, for padding and
            unknown items, is never a target). An `HRNN` carries its own: `model.items`.
        num_slots: parallel slots (the batch size).
        steps: events per slot in one batch (truncated back-propagation length).
        allow_unknown_items: read items the vocabulary lacks as unknown (0) instead of refusing them
            (evaluation does, for test events on new items).

    Attributes:
        items, targets, session_start, user_start, valid: arrays (num_slots, total_steps).
        rows: per step, the position in `sessions` of its input event (-1 for padding).
    """

    def __init__(self, sessions, items, num_slots=32, steps=10, user_column="USER_ID", item_column="ITEM_ID",
                 allow_unknown_items=False):
        if SESSION_COLUMN not in sessions.columns:
            raise ValueError("SessionParallelBatches needs a SESSION_ID column: call sessionize() first.")
        self.num_slots, self.steps = check_positive_int("num_slots", num_slots), check_positive_int("steps", steps)
        if not isinstance(items, IdVocabulary):
            raise TypeError(f"`items` must be a kerasts.data.IdVocabulary (an HRNN's `model.items`), got "
                            f"{type(items).__name__}.")
        vocabulary, items = items, items.encode(sessions[item_column])
        if not allow_unknown_items and (items == 0).any():
            unknown = pd.unique(sessions[item_column][items == 0])
            raise ValueError(f"{int((items == 0).sum())} events are on {unknown.size} item(s) the vocabulary of "
                             f"{len(vocabulary)} lacks (e.g. {list(unknown[:3])}): they would train as padding. Build "
                             "the model from these sessions' items or drop those events.")
        session_ids = sessions[SESSION_COLUMN].to_numpy()
        users = sessions[user_column].to_numpy()
        has_next = np.append(session_ids[1:] == session_ids[:-1], False)
        starts = np.append(True, session_ids[1:] != session_ids[:-1])
        user_starts = np.append(True, users[1:] != users[:-1])
        step_rows = np.flatnonzero(has_next)
        if step_rows.size == 0:
            raise ValueError("No session has two or more events: there is no next item to learn.")
        # Per user, the rows that make steps; a user's first step starts the user.
        step_users = users[step_rows]
        boundaries = np.flatnonzero(np.append(True, step_users[1:] != step_users[:-1]))
        per_user = np.split(step_rows, boundaries[1:])
        # Longest users first, each to the least-loaded slot, so slots end together (taken in table order,
        # a long user drawn late left 40% of MovieLens's slot-steps padding); a slot then runs its users in
        # table order.
        loads = np.zeros(self.num_slots, dtype="int64")
        assigned = [[] for _ in range(self.num_slots)]
        for user in np.argsort([-rows.size for rows in per_user], kind="stable"):
            slot = int(np.argmin(loads))
            assigned[slot].append(user)
            loads[slot] += per_user[user].size
        assigned = [[per_user[user] for user in sorted(users)] for users in assigned]
        total = int(-(-loads.max() // self.steps) * self.steps)
        shape = (self.num_slots, total)
        self.items, self.targets = np.zeros(shape, "int64"), np.zeros(shape, "int64")
        self.session_start, self.user_start, self.valid = (np.zeros(shape, "float32") for _ in range(3))
        self.rows = np.full(shape, -1, "int64")
        for slot, groups in enumerate(assigned):
            if not groups:
                continue
            rows = np.concatenate(groups)
            first_of_user = np.zeros(rows.size, bool)
            first_of_user[np.cumsum([0] + [group.size for group in groups[:-1]])] = True
            span = slice(0, rows.size)
            self.items[slot, span], self.targets[slot, span] = items[rows], items[rows + 1]
            # A step starts a session when its row does; sessions of one event never appear.
            self.session_start[slot, span] = starts[rows] | first_of_user
            self.user_start[slot, span] = user_starts[rows] | first_of_user
            self.valid[slot, span] = 1.0
            self.rows[slot, span] = rows
        self.num_steps = int(self.valid.sum())

    def __len__(self):
        """Batches per pass over the data."""
        return self.items.shape[1] // self.steps

    def dataset(self):
        """`(inputs, targets, weights)` batches in order (slots continue across batches: never shuffle).

        `weights` are 0 at padded steps and, at real ones, all steps over real steps in the whole pass,
        so every real step weighs the same and a loss averaged over each batch (Keras's default
        reduction) averages, over the epoch, to its mean over real steps: padding neither dilutes the
        reported loss nor shrinks the gradient (were each batch scaled by its own real steps instead,
        the last batches, where a few long users' slots still run, would count as much as full ones)."""
        def cut(array):
            return array.reshape(self.num_slots, len(self), self.steps).transpose(1, 0, 2)

        weights = self.valid * (self.valid.size / self.num_steps)
        inputs = {"items": cut(self.items), "session_start": cut(self.session_start),
                  "user_start": cut(self.user_start)}
        return tf.data.Dataset.from_tensor_slices((inputs, cut(self.targets), cut(weights)))
