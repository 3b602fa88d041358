import pandas as pd

from kerasts.metrics.ranking import ranking_metrics


def evaluate_recommender(recommender, split, ks=(5, 10, 25), catalog_size=None, user_column="USER_ID",
                         item_column="ITEM_ID", exclude_seen=True):
    """Personalize-style offline metrics of a fitted recommender on held-out users.

    Each test user's input events are their history; the recommender ranks the catalog for them
    (`recommend(history=..., k=..., exclude_seen=...)`), and their ground-truth items are the
    relevant ones.

    Args:
        recommender: a `kerasts.protocols.Recommender` fitted on `split[0]`.
        split: `(train, test_input, test_truth)`, as `kerasts.data.personalize_split` returns.
        ks: cut-offs of the ranking metrics; the recommender is asked for `max(ks)` items.
        catalog_size: items coverage is measured against; by default the distinct items of the
            three tables (Personalize: the items in the data).

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
    train, test_input, test_truth = split
    if test_truth.empty:
        raise ValueError("`split` has no ground-truth events (test_truth is empty): nothing to score.")
    if catalog_size is None:
        catalog_size = pd.concat([table[item_column] for table in split]).nunique()
    histories = test_input.groupby(user_column)[item_column].agg(list)
    truths = test_truth.groupby(user_column)[item_column].agg(set)
    recommended = [recommender.recommend(history=histories.get(user, []), k=max(ks),
                                         exclude_seen=exclude_seen).item_ids for user in truths.index]
    return ranking_metrics(recommended, list(truths), ks=ks, catalog_size=catalog_size)
