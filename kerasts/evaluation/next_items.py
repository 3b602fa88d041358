"""Next-item evaluation of session models, with the HRNN paper's protocol."""

import numpy as np
import pandas as pd

from kerasts.data.session_batches import SessionParallelBatches
from kerasts.data.sessions import SESSION_COLUMN


def _scores(ranks, ks, seen=None, position_buckets=None):
    """Recall and MRR at each k; with `position_buckets`, also per bucket of `seen` (how many events of
    the session the target's prediction had read)."""
    ranks = np.asarray(ranks, dtype="float64")
    results = {}
    for k in ks:
        hit = ranks <= k
        results[f"recall_at_{k}"] = float(hit.mean()) if ranks.size else 0.0
        results[f"mrr_at_{k}"] = float(np.where(hit, 1.0 / ranks, 0.0).mean()) if ranks.size else 0.0
    results["targets"] = int(ranks.size)
    if position_buckets is not None:
        seen = np.asarray(seen)
        results["by_position"] = {}
        bounds = list(position_buckets) + [np.inf]
        for first, following in zip(bounds, bounds[1:]):
            label = (f"{first}+" if following == np.inf else str(first) if following == first + 1
                     else f"{first}-{following - 1}")
            results["by_position"][label] = _scores(ranks[(seen >= first) & (seen < following)], ks)
    return results


def _checked_buckets(position_buckets):
    if position_buckets is None:
        return None
    buckets = [int(first) for first in position_buckets]
    if not buckets or buckets[0] < 1 or any(b <= a for a, b in zip(buckets, buckets[1:])):
        raise ValueError("`position_buckets` must be increasing numbers of events read, starting at 1 or more; "
                         f"got {position_buckets!r}.")
    return buckets


def evaluate_next_items(model, history, test, item_index, ks=(5, 20), chunk_steps=4, user_column="USER_ID",
                        item_column="ITEM_ID", timestamp_column="TIMESTAMP", position_buckets=None):
    """Recall@K and MRR@K of an `HRNN` over the full catalog, as the HRNN paper measures them.

    Each test user's earlier sessions (`history`) are replayed first to warm the user state; then
    every event of their test session but the last is an input, and the next event the target.
    Targets unknown to `item_index` are skipped (they cannot be ranked).

    `position_buckets`, e.g. `(1, 2, 4, 8)`, also scores the targets by how many events of the test
    session had been read when they were predicted: 1, 2-3, 4-7 and 8 or more.

    Returns:
        Dict with `recall_at_{k}`, `mrr_at_{k}` and `targets` (how many were ranked); with
        `position_buckets`, `by_position` maps each bucket's label ("1", "2-3", ..., "8+") to such a dict.
    """
    position_buckets = _checked_buckets(position_buckets)
    users = test[user_column].unique()
    combined = pd.concat([history[history[user_column].isin(users)].assign(_test=False), test.assign(_test=True)])
    combined = combined.sort_values([user_column, timestamp_column], kind="stable").reset_index(drop=True)
    batches = SessionParallelBatches(combined, item_index, num_slots=len(users), steps=chunk_steps,
                                     user_column=user_column, item_column=item_column)
    is_test = np.append(combined["_test"].to_numpy(), False)
    read = np.append(combined.groupby(SESSION_COLUMN, sort=False).cumcount().to_numpy() + 1, 0)
    session_state, user_state = model.zero_states(len(users))
    ranks, seen = [], []
    for chunk in range(len(batches)):
        span = slice(chunk * chunk_steps, (chunk + 1) * chunk_steps)
        inputs = {"items": batches.items[:, span].astype("int32"), "session_start": batches.session_start[:, span],
                  "user_start": batches.user_start[:, span]}
        logits, session_state, user_state = model.run(inputs, session_state, user_state)
        logits = np.asarray(logits)[..., 1:]  # index 0 is padding, never recommended
        targets = batches.targets[:, span]
        scored = (batches.valid[:, span] > 0) & is_test[batches.rows[:, span]] & (targets > 0)
        target_scores = np.take_along_axis(logits, np.maximum(targets - 1, 0)[..., None], axis=-1)
        ranks.extend(((logits > target_scores).sum(axis=-1) + 1)[scored])
        seen.extend(read[batches.rows[:, span]][scored])
    return _scores(ranks, ks, seen, position_buckets)


def evaluate_next_item_recommender(recommender, test, ks=(5, 20), last_item_only=False, user_column="USER_ID",
                                   item_column="ITEM_ID", position_buckets=None):
    """The same targets for a baseline with `recommend(history, k, exclude_seen)`: at each step the
    history is the test session so far (or only its last item), repeats allowed; `position_buckets`
    as in `evaluate_next_items`."""
    position_buckets = _checked_buckets(position_buckets)
    ranks, seen = [], []
    depth = max(ks)
    for _, session in test.groupby(SESSION_COLUMN, sort=False):
        items = session[item_column].tolist()
        for position in range(1, len(items)):
            history = items[position - 1:position] if last_item_only else items[:position]
            recommended = list(recommender.recommend(history, depth, exclude_seen=False))
            ranks.append(recommended.index(items[position]) + 1 if items[position] in recommended else depth + 1)
            seen.append(position)
    return _scores(ranks, ks, seen, position_buckets)
