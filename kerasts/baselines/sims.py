import scipy.sparse as sparse

from kerasts.baselines._item_similarity import ItemSimilarityRecommender


class SIMS(ItemSimilarityRecommender):
    """Item-to-item co-occurrence with a popularity discount, like Amazon Personalize's SIMS.

    Two items co-occur when one user interacted with both. The similarity of item j to item i
    is their co-occurrence (weighted when `weight_column` is given) divided by
    `popularity(j) ** popularity_discount`, kept only when at least `min_cointeractions`
    users share them. `recommend` sums the similarities of the history's items and fills the
    remaining slots with popular items, so unknown or sparse items still get `k` results.

    Args:
        popularity_discount: 0 ranks by raw co-occurrence (popular items everywhere), 0.5 is
            cosine-like, 1 ranks by the share of j's users that also have i.
        min_cointeractions: fewest users two items must share to be neighbours.
        max_neighbours: neighbours kept per item.
        user_column, item_column: column names of the interactions table.
        weight_column: optional per-event weights (see `kerasts.data.weight_events`).

    Example:
        >>> model = SIMS(min_cointeractions=2).fit(interactions)
        >>> model.recommend("item-42", k=10)            # items like this one
        >>> model.recommend(user_history, k=10)         # items like those the user had

    Reference:
        Linden, Smith and York, "Amazon.com recommendations: item-to-item collaborative
        filtering", IEEE Internet Computing 2003.
    """

    def __init__(self, popularity_discount=0.5, min_cointeractions=2, max_neighbours=100, user_column="USER_ID",
                 item_column="ITEM_ID", weight_column=None):
        super().__init__(max_neighbours, user_column, item_column, weight_column)
        if not 0 <= popularity_discount <= 1:
            raise ValueError(f"`popularity_discount` must lie in [0, 1], got {popularity_discount!r}.")
        if min_cointeractions < 1:
            raise ValueError(f"`min_cointeractions` must be at least 1, got {min_cointeractions!r}.")
        self.popularity_discount = popularity_discount
        self.min_cointeractions = min_cointeractions

    def _similarity(self, interactions, matrix):
        shared_users = matrix.copy()
        shared_users.data[:] = 1.0
        shared_users = (shared_users.T @ shared_users).tocsr()
        cooccurrence = (matrix.T @ matrix).multiply(shared_users >= self.min_cointeractions)
        popularity = matrix.sum(axis=0).A1
        return sparse.csr_matrix(cooccurrence) @ sparse.diags(popularity ** -self.popularity_discount)
