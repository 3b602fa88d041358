from kerasts.metrics.ranking import ranking_metrics


def evaluate_recommender(recommender, test_input, test_truth, ks=(5, 10, 25), catalog_size=None,
                         user_column="USER_ID", item_column="ITEM_ID", exclude_seen=True):
    """Personalize-style offline metrics of a fitted recommender on held-out users.

    Each test user's input events are their history; the recommender ranks the catalog for them
    (`recommend(history, k, exclude_seen)`), and their ground-truth items are the relevant ones.

    Returns:
        The dict of `kerasts.metrics.ranking_metrics`: `precision_at_5`,
        `normalized_discounted_cumulative_gain_at_10`, `mean_reciprocal_rank_at_25`, ...,
        and `coverage` when `catalog_size` is given.
    """
    histories = test_input.groupby(user_column)[item_column].agg(list)
    truths = test_truth.groupby(user_column)[item_column].agg(set)
    users = truths.index
    recommended = [recommender.recommend(histories.get(user, []), max(ks), exclude_seen=exclude_seen)
                   for user in users]
    return ranking_metrics(recommended, list(truths), ks=ks, catalog_size=catalog_size)
