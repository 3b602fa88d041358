"""Next-item evaluation of any recommender on sessions, with the HRNN paper's protocol."""

import numpy as np

from kerasts.data.sessions import SESSION_COLUMN
from kerasts.evaluation.ties import check_ties, target_ranks
from kerasts.metrics.ranking import single_target_metrics
from kerasts.protocols.recommender import sessions_required


def _checked_buckets(position_buckets):
    if position_buckets is None:
        return None
    buckets = [int(first) for first in position_buckets]
    if not buckets or buckets[0] < 1 or any(b <= a for a, b in zip(buckets, buckets[1:])):
        raise ValueError("`position_buckets` must be increasing numbers of events read, starting at 1 or more; "
                         f"got {position_buckets!r}.")
    return buckets


def _by_position(ranks, events_read, buckets, ks):
    bounds = list(buckets) + [np.inf]
    results = {}
    for first, following in zip(bounds, bounds[1:]):
        label = (f"{first}+" if following == np.inf else str(first) if following == first + 1
                 else f"{first}-{following - 1}")
        inside = (events_read >= first) & (events_read < following)
        results[label] = {**single_target_metrics(ranks[inside], ks), "targets": int(inside.sum())}
    return results


def evaluate_next_items(recommender, test, history=None, ks=(5, 20), exclude_seen=False, position_buckets=None,
                        ties="conservative", user_column="USER_ID", item_column="ITEM_ID", **scoring_options):
    """Next-item metrics of a `kerasts.protocols.Recommender` over the full catalog, as the HRNN paper
    measures them: every event of a test session but the last is read, and the next one is the target.

    The recommender scores each target through `next_item_scores(test, history, **scoring_options)`:
    baselines from the session so far (`last_item_only=True`: from its last item), `SessionRecommender`
    with a user state warmed as its `user_state` option says (see `SessionRecommender.next_item_scores`).
    A target ranks after every item scored higher and, among items scored the same, as `ties` says
    (`kerasts.evaluation.ties`: by default every tie counts against it); targets the recommender's
    vocabulary does not know cannot be ranked and are counted in `skipped_targets`.

    Args:
        recommender: a fitted recommender.
        test: sessions to evaluate (`SESSION_ID`, in time order), e.g. `leave_last_session_out`'s.
        history: the users' earlier events, for the user state and for `exclude_seen`.
        ks: cut-offs.
        exclude_seen: rank only items the user has not interacted with yet (in `history` or earlier in
            the test session), as a filter of consumed items does in serving; a target the user had
            already interacted with then counts as a miss.
        position_buckets: e.g. `(1, 2, 4, 8)` also scores targets by how many events of the session
            had been read when they were predicted: 1, 2-3, 4-7 and 8 or more.
        ties: `"conservative"`, `"optimistic"` or `"served"` (`kerasts.evaluation.ties`).

    Returns:
        `kerasts.metrics.single_target_metrics` (Personalize's names: `recall_at_{k}`,
        `mean_reciprocal_rank_at_{k}`, ...), `targets` (how many were ranked) and `skipped_targets`;
        with `position_buckets`, `by_position` maps each bucket's label ("1", "2-3", ..., "8+") to such a dict.
    """
    test = sessions_required(test).reset_index(drop=True)
    buckets = _checked_buckets(position_buckets)
    check_ties(ties)
    recommender.check_fitted()
    items = recommender.items
    targets = np.append(items.encode(test[item_column].iloc[1:]), 0) - 1  # the next row's item, -1 unknown
    read = test.groupby(SESSION_COLUMN, sort=False).cumcount().to_numpy() + 1
    users = test[user_column].to_numpy() if exclude_seen else None
    earlier = ({} if history is None or not exclude_seen
               else history.groupby(user_column)[item_column].agg(list).to_dict())
    codes = items.encode(test[item_column]) - 1
    model_order = recommender.tie_breaking_rank()
    ranks, events_read, skipped = [], [], 0
    for rows, scores in recommender.next_item_scores(test, history=history, **scoring_options):
        scores = np.array(scores)  # a writable copy, in the precision the recommender scored in
        if exclude_seen:
            for position, row in enumerate(rows):
                first = row - read[row] + 1
                consumed = np.concatenate([items.encode(earlier.get(users[row], [])) - 1, codes[first:row + 1]])
                scores[position, consumed[consumed >= 0]] = -np.inf
        known = targets[rows] >= 0
        skipped += int((~known).sum())
        rows, scores, target = rows[known], scores[known], targets[rows][known]
        # A target excluded as already consumed is a miss, however few items remain.
        excluded = scores[np.arange(len(rows)), target] == -np.inf
        ranks.extend(np.where(excluded, np.inf, target_ranks(scores, target, ties, model_order)))
        events_read.extend(read[rows])
    ranks, events_read = np.asarray(ranks, dtype="float64"), np.asarray(events_read)
    if not ranks.size and skipped:
        raise ValueError(f"None of the {skipped} targets is in the recommender's catalog of {len(items)} items: "
                         "was it fitted on other data?")
    results = {**single_target_metrics(ranks, ks), "targets": int(ranks.size), "skipped_targets": skipped}
    if buckets is not None:
        results["by_position"] = _by_position(ranks, events_read, buckets, ks)
    return results
