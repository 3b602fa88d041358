import numpy as np
import pandas as pd

from kerasts.evaluation.ties import check_ties, tie_keys
from kerasts.metrics.ranking import ranking_metrics
from kerasts.protocols.recommender import SCORING_CHUNK


def evaluate_recommender(recommender, split, ks=(5, 10, 25), catalog_size=None, user_column="USER_ID",
                         item_column="ITEM_ID", exclude_seen=True, ties="conservative"):
    """Personalize-style offline metrics of a fitted recommender on held-out users.

    Each test user's input events are their history; the recommender scores the catalog for them
    (`score_items`, as `recommend(history=...)` does), and their ground-truth items are the relevant
    ones. The lists are its top-K (without the history's items when `exclude_seen`), with items scored
    exactly as a relevant one placed as `ties` says (`kerasts.evaluation.ties`: by default every tie
    counts against the relevant item).

    Args:
        recommender: a `kerasts.protocols.Recommender` fitted on `split[0]`.
        split: `(train, test_input, test_truth)`, as `kerasts.data.personalize_split` returns.
        ks: cut-offs of the ranking metrics; the recommender is asked for `max(ks)` items.
        catalog_size: items coverage is measured against; by default the distinct items of the
            three tables (Personalize: the items in the data).
        exclude_seen: leave the user's input items out of their list.
        ties: `"conservative"`, `"optimistic"` or `"served"` (`kerasts.evaluation.ties`).

    Returns:
        The dict of `kerasts.metrics.ranking_metrics`: `precision_at_5`,
        `normalized_discounted_cumulative_gain_at_10`, `mean_reciprocal_rank_at_25`, ...,
        and `coverage`.
    """
    if not isinstance(split, (tuple, list)) or len(split) != 3:
        raise ValueError("`split` must be (train, test_input, test_truth), as personalize_split returns.")
    for name, table in zip(("train", "test_input", "test_truth"), split):
        if not isinstance(table, pd.DataFrame) or not {user_column, item_column} <= set(table.columns):
            raise ValueError(f"`split` part {name!r} must be a DataFrame with columns {user_column!r} and "
                             f"{item_column!r}.")
    check_ties(ties)
    recommender.check_fitted()
    train, test_input, test_truth = split
    if test_truth.empty:
        raise ValueError("`split` has no ground-truth events (test_truth is empty): nothing to score.")
    if catalog_size is None:
        catalog_size = pd.concat([table[item_column] for table in split]).nunique()
    histories = test_input.groupby(user_column)[item_column].agg(list)
    truths = test_truth.groupby(user_column)[item_column].agg(list)
    contexts, relevant = [histories.get(user, []) for user in truths.index], list(truths)
    recommended = []
    for start in range(0, len(contexts), SCORING_CHUNK):
        chunk = slice(start, start + SCORING_CHUNK)
        recommended += _top_lists(recommender, contexts[chunk], relevant[chunk], max(ks), exclude_seen, ties)
    return ranking_metrics(recommended, relevant, ks=ks, catalog_size=catalog_size)


def _top_lists(recommender, contexts, truths, k, exclude_seen, ties):
    """Each context's `k` best item ids, equal scores ordered by `ties` against its relevant items."""
    items = recommender.items
    scores = np.array(recommender.score_items(contexts), dtype="float64")
    allowed = np.ones(scores.shape, dtype=bool)
    relevant = np.zeros(scores.shape, dtype=bool)
    for row, (context, truth) in enumerate(zip(contexts, truths)):
        if exclude_seen:
            allowed[row, recommender.known_indices(context)] = False
        relevant[row, recommender.known_indices(truth)] = True
    keys = tie_keys(ties, relevant, recommender.tie_breaking_rank())
    order = np.lexsort((keys, -scores, ~allowed), axis=-1)[:, :k]
    return [items.id_array[ranked[allowed[row, ranked]]] for row, ranked in enumerate(order)]
