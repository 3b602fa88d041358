"""Next-item evaluation of session models, with the HRNN paper's protocol."""

import numpy as np
import pandas as pd

from kerasts.data.session_batches import SessionParallelBatches
from kerasts.data.sessions import SESSION_COLUMN


def _scores(ranks, ks, events_read=None, position_buckets=None):
    """Recall and MRR at each k; with `position_buckets`, also per bucket of `events_read` (how many events of
    the session the target's prediction had read)."""
    ranks = np.asarray(ranks, dtype="float64")
    results = {}
    for k in ks:
        hit = ranks <= k
        results[f"recall_at_{k}"] = float(hit.mean()) if ranks.size else 0.0
        results[f"mrr_at_{k}"] = float(np.where(hit, 1.0 / ranks, 0.0).mean()) if ranks.size else 0.0
    results["targets"] = int(ranks.size)
    if position_buckets is not None:
        events_read = np.asarray(events_read)
        results["by_position"] = {}
        bounds = list(position_buckets) + [np.inf]
        for first, following in zip(bounds, bounds[1:]):
            label = (f"{first}+" if following == np.inf else str(first) if following == first + 1
                     else f"{first}-{following - 1}")
            results["by_position"][label] = _scores(ranks[(events_read >= first) & (events_read < following)], ks)
    return results


def _checked_buckets(position_buckets):
    if position_buckets is None:
        return None
    buckets = [int(first) for first in position_buckets]
    if not buckets or buckets[0] < 1 or any(b <= a for a, b in zip(buckets, buckets[1:])):
        raise ValueError("`position_buckets` must be increasing numbers of events read, starting at 1 or more; "
                         f"got {position_buckets!r}.")
    return buckets


def evaluate_next_items(model, history, test, ks=(5, 20), chunk_steps=4, user_column="USER_ID",
                        item_column="ITEM_ID", timestamp_column="TIMESTAMP", position_buckets=None,
                        exclude_seen=False, warm_user_state=True):
    """Recall@K and MRR@K of an `HRNN` over the full catalog, as the HRNN paper measures them.

    Each test user's earlier sessions (`history`) are replayed first to warm the user state; then
    every event of their test session but the last is an input, and the next event the target.
    Targets unknown to the model's item vocabulary (`model.items`) are skipped (they cannot be ranked).

    `position_buckets`, e.g. `(1, 2, 4, 8)`, also scores the targets by how many events of the test
    session had been read when they were predicted: 1, 2-3, 4-7 and 8 or more.

    `exclude_seen=True` ranks only items the user has not interacted with yet (in `history` or earlier in
    the test session), as a filter of consumed items does in serving; a target the user had already
    interacted with then counts as a miss.

    `warm_user_state=False` starts each test session from a zero user state instead (the history still
    counts for `exclude_seen`): the difference to the default is what the user state adds.

    Returns:
        Dict with `recall_at_{k}`, `mrr_at_{k}` and `targets` (how many were ranked); with
        `position_buckets`, `by_position` maps each bucket's label ("1", "2-3", ..., "8+") to such a dict.
    """
    position_buckets = _checked_buckets(position_buckets)
    users = test[user_column].unique()
    combined = pd.concat([history[history[user_column].isin(users)].assign(_test=False), test.assign(_test=True)])
    combined = combined.sort_values([user_column, timestamp_column], kind="stable").reset_index(drop=True)
    batches = SessionParallelBatches(combined, model.items, num_slots=len(users), steps=chunk_steps,
                                     user_column=user_column, item_column=item_column)
    test_rows = combined["_test"].to_numpy()
    is_test = np.append(test_rows, False)
    user_start = batches.user_start
    if not warm_user_state:
        first_test_rows = test_rows & ~np.append(False, test_rows[:-1])  # a user's test rows follow their history
        user_start = np.maximum(user_start, np.append(first_test_rows, False)[batches.rows])
    read = np.append(combined.groupby(SESSION_COLUMN, sort=False).cumcount().to_numpy() + 1, 0)
    consumed = _ConsumedItems(combined, model.items, user_column, item_column) if exclude_seen else None
    session_state, user_state = model.zero_states(len(users))
    ranks, events_read = [], []
    for chunk in range(len(batches)):
        span = slice(chunk * chunk_steps, (chunk + 1) * chunk_steps)
        inputs = {"items": batches.items[:, span].astype("int32"), "session_start": batches.session_start[:, span],
                  "user_start": user_start[:, span]}
        logits, session_state, user_state = model.run(inputs, session_state, user_state)
        logits = np.array(logits)[..., 1:]  # index 0 is padding, never recommended
        if consumed is not None:
            logits[consumed.through(batches.rows[:, span])[..., 1:]] = -np.inf
        targets = batches.targets[:, span]
        scored = (batches.valid[:, span] > 0) & is_test[batches.rows[:, span]] & (targets > 0)
        target_scores = np.take_along_axis(logits, np.maximum(targets - 1, 0)[..., None], axis=-1)
        # A target excluded as already consumed is a miss, however few items remain.
        target_ranks = np.where(target_scores[..., 0] == -np.inf, np.inf, (logits > target_scores).sum(axis=-1) + 1)
        ranks.extend(target_ranks[scored])
        events_read.extend(read[batches.rows[:, span]][scored])
    return _scores(ranks, ks, events_read, position_buckets)


def evaluate_next_item_recommender(recommender, test, ks=(5, 20), last_item_only=False, user_column="USER_ID",
                                   item_column="ITEM_ID", position_buckets=None, exclude_seen=False, history=None):
    """The same targets for a baseline with `recommend(history, k, exclude_seen)`: at each step the
    history is the test session so far (or only its last item), repeats allowed; `position_buckets`
    and `exclude_seen` as in `evaluate_next_items` (the user's earlier items are those in `history`,
    when given, plus the test session so far)."""
    position_buckets = _checked_buckets(position_buckets)
    earlier = ({} if history is None or not exclude_seen
               else history.groupby(user_column)[item_column].agg(set).to_dict())
    ranks, events_read = [], []
    depth = max(ks)
    for _, session in test.groupby(SESSION_COLUMN, sort=False):
        items = session[item_column].tolist()
        consumed = set(earlier.get(session[user_column].iloc[0], ()))
        for position in range(1, len(items)):
            consumed.add(items[position - 1])
            excluded = consumed if exclude_seen else set()
            context = items[position - 1:position] if last_item_only else items[:position]
            recommended = [item for item in recommender.recommend(context, depth + len(excluded), exclude_seen=False)
                           if item not in excluded][:depth]
            ranks.append(recommended.index(items[position]) + 1 if items[position] in recommended else depth + 1)
            events_read.append(position)
    return _scores(ranks, ks, events_read, position_buckets)


class _ConsumedItems:
    """Which items each user has interacted with so far, as `evaluate_next_items` reads their rows in order."""

    def __init__(self, rows, items, user_column, item_column):
        self.users = pd.factorize(rows[user_column])[0]
        self.items = items.encode(rows[item_column])
        # Rows come sorted by user, so user codes count up and each user's first row follows the last one's.
        self.marked_through = np.flatnonzero(np.append(True, self.users[1:] != self.users[:-1])) - 1
        self.consumed = np.zeros((self.users.max() + 1, len(items) + 1), bool)

    def through(self, step_rows):
        """For rows (slots, steps) read in order (-1: padding), the items consumed up to each row, inclusive."""
        masks = np.zeros(step_rows.shape + (self.consumed.shape[1],), bool)
        for slot, step in zip(*np.nonzero(step_rows >= 0)):
            row = step_rows[slot, step]
            user = self.users[row]
            self.consumed[user, self.items[self.marked_through[user] + 1:row + 1]] = True
            self.marked_through[user] = row
            masks[slot, step] = self.consumed[user]
        return masks
