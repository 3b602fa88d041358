import json
import warnings

import numpy as np


class SessionRecommender:
    """Live use of a trained `HRNN`, like Amazon Personalize's event tracker: per-user state, new
    events fed through the networks without retraining, next items for the current session.

    `put_events(user_id, session_id, events)` advances the user's state item by item: a new user
    starts from a zero user state; a new `session_id` first folds the previous session into the
    user state, as in training. Items the model does not know are skipped and counted in
    `unknown_items` (with a warning), never an error. `recommend(user_id, k)` ranks the catalog
    for the user's current session; a user without events gets an empty list; `exclude_seen=True`
    leaves out every item the user has had here (as Personalize's filters of interacted items do, and
    as `evaluate_next_items(exclude_seen=True)` scores), `exclude_seen="session"` only the current
    session's. `save(path)` and
    `SessionRecommender.load(path, model)` keep the states across restarts.

    Args:
        model: a trained `HRNN` (its item vocabulary names the items).
    """

    def __init__(self, model):
        self.model = model
        self.users = {}
        self.unknown_items = 0

    def put_events(self, user_id, session_id, events):
        """Feeds the user's new events (item ids, in time order) of session `session_id`."""
        state = self.users.get(user_id)
        for item, index in zip(events, self.model.items.encode(events)):
            if index == 0:
                self.unknown_items += 1
                warnings.warn(f"Item {item!r} is unknown to the model; event skipped.", stacklevel=2)
                continue
            new_user = state is None
            new_session = new_user or state["session_id"] != session_id
            session_state, user_state = (self.model.zero_states(1) if new_user
                                         else (state["session_state"][None], state["user_state"][None]))
            _, session_state, user_state = self.model.step(np.array([index], "int32"), np.array([float(new_session)]),
                                                           np.array([float(new_user)]), session_state, user_state)
            # Updated in place once the step has run, so each event is applied whole or not at all.
            if new_user:
                state = self.users[user_id] = {"user_items": set()}
            if new_session:
                state["session_items"] = []
            state.update(session_id=session_id, session_state=np.asarray(session_state)[0],
                         user_state=np.asarray(user_state)[0])
            state["session_items"].append(index)
            state["user_items"].add(index)

    def recommend(self, user_id, k, exclude_seen=False):
        """The `k` best next items (ids) for the user's current session; `[]` for users without events.
        `exclude_seen`: False, True (every item the user has had) or "session" (this session's items)."""
        if exclude_seen not in (False, True, "session"):
            raise ValueError(f"`exclude_seen` must be False, True or 'session', got {exclude_seen!r}.")
        state = self.users.get(user_id)
        if state is None:
            return []
        readout = state["session_state"][None]
        if self.model.user_to_output:
            readout = np.concatenate([readout, state["user_state"][None]], axis=-1)
        scores = np.array(self.model.catalog_scores(readout))[0]  # a writable copy
        scores[0] = -np.inf
        if exclude_seen:
            scores[list(state["session_items" if exclude_seen == "session" else "user_items"])] = -np.inf
        best = np.argsort(-scores, kind="stable")[:k]
        return self.model.items.decode([index for index in best if np.isfinite(scores[index])])

    def save(self, path):
        """Writes every user's state to `path` (a .npz file)."""
        users = list(self.users)
        meta = {"users": users, "sessions": [self.users[user]["session_id"] for user in users],
                "session_items": [self.users[user]["session_items"] for user in users],
                "user_items": [sorted(self.users[user]["user_items"]) for user in users],
                "unknown_items": self.unknown_items}
        np.savez(path, meta=np.array(json.dumps(meta, default=int)),
                 session_states=np.stack([self.users[user]["session_state"] for user in users]) if users else [],
                 user_states=np.stack([self.users[user]["user_state"] for user in users]) if users else [])

    @classmethod
    def load(cls, path, model):
        recommender = cls(model)
        with np.load(path) as saved:
            meta = json.loads(str(saved["meta"]))
            for position, user in enumerate(meta["users"]):
                recommender.users[user] = {"session_id": meta["sessions"][position],
                                           "session_state": saved["session_states"][position],
                                           "user_state": saved["user_states"][position],
                                           "session_items": meta["session_items"][position],
                                           "user_items": set(meta["user_items"][position])}
        recommender.unknown_items = meta["unknown_items"]
        return recommender
