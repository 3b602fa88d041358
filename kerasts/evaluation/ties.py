"""Where evaluation places a relevant item among items scored exactly as it is.

A recommender that orders equal scores by a rule of its own (`tie_breaking_rank()`, e.g. SIMS and
Swing fill with popular items) is ranked by that rule, since its lists show it. Equal scores that
nothing orders are ties, and `ties` decides them:

- `"conservative"` (the default, as GRU4Rec's published figures): every tied item ranks ahead of the
  relevant one, so a model that scores everything alike gains nothing;
- `"optimistic"` (GRU4Rec's `"standard"`): the relevant item ranks ahead of every tied one;
- `"served"`: as a top-K list shows them, by the vocabulary's order (item ids sorted).
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
