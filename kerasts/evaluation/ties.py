"""Where evaluation places a relevant item among items scored exactly as it is.

A recommender that orders equal scores by a rule of its own (`tie_breaking_rank()`, e.g. SIMS and
Swing fill with popular items) is ranked by that rule, since its lists show it. Equal scores that
nothing orders are ties, and `ties` decides them:

- `"conservative"` (the default, as GRU4Rec's published figures): every tied item ranks ahead of the
  relevant one, so a model that scores everything alike gains nothing;
- `"optimistic"` (GRU4Rec's `"standard"`): the relevant item ranks ahead of every tied one;
- `"served"`: as a top-K list shows them, by the vocabulary's order (item ids sorted).

`tie_keys` orders whole lists (`evaluate_recommender`); `target_ranks` counts the same ranks for one
target a row (`evaluate_next_items`), a test checking that both agree.
"""

import numpy as np

TIES = ("conservative", "optimistic", "served")


def check_ties(ties):
    if ties not in TIES:
        raise ValueError(f"`ties` must be one of {TIES}, got {ties!r}.")
    return ties


def tie_keys(ties, relevant, model_order=None):
    """`(rows, items)` keys that order equal scores, lower first, each row's keys distinct.

    Args:
        ties: one of `TIES`.
        relevant: `(rows, items)` bool, the items each row's ranking is scored on.
        model_order: the recommender's `tie_breaking_rank()`, or None where it has no rule.
    """
    if model_order is not None:
        return np.broadcast_to(np.asarray(model_order), relevant.shape)
    count = relevant.shape[-1]
    index = np.arange(count)
    if ties == "served":
        return np.broadcast_to(index, relevant.shape)
    behind = relevant if ties == "conservative" else ~relevant
    return index + count * behind


def target_ranks(scores, targets, ties, model_order=None):
    """1-based rank of each row's target (`targets[i]` indexes `scores[i]`) among that row's scores, ties
    as `ties` says: the counting form of `tie_keys` for one relevant item a row (next-item evaluation
    ranks thousands of them)."""
    rows = np.arange(len(targets))
    target_scores = scores[rows, targets][:, None]
    if model_order is None and ties == "conservative":
        return (scores >= target_scores).sum(axis=1)  # the target and everything scored as high
    ahead = (scores > target_scores).sum(axis=1) + 1
    if model_order is None and ties == "optimistic":
        return ahead
    order = np.arange(scores.shape[1]) if model_order is None else np.asarray(model_order)
    return ahead + ((scores == target_scores) & (order[None] < order[targets][:, None])).sum(axis=1)
