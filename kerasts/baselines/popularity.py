import numpy as np

from kerasts._checks import check_positive_int

from kerasts.baselines._item_similarity import (
    as_history, first_items, popularity_order, user_item_matrix,
)


class Popularity:
    """Recommends the items with the most distinct users (Personalize's popularity-count).

    Call `fit(interactions)` then `recommend(history, k, exclude_seen=True)`, where `history`
    is the user's item ids (the interface every kerasts recommender shares).

    Args:
        user_column, item_column: column names of the interactions table.
        weight_column: optional per-event weights (see `kerasts.data.weight_events`): an item
            then scores the sum over users of their highest weight on it.
    """

    def __init__(self, user_column="USER_ID", item_column="ITEM_ID", weight_column=None):
        self.user_column = user_column
        self.item_column = item_column
        self.weight_column = weight_column
        self.ranked_items = None

    def fit(self, interactions):
        matrix, items = user_item_matrix(interactions, self.user_column, self.item_column, self.weight_column)
        self._items = items
        self._order = popularity_order(matrix)
        self.ranked_items = np.array(items.ids, dtype=object)[self._order]
        return self

    def recommend(self, history, k, exclude_seen=True):
        if self.ranked_items is None:
            raise ValueError("Popularity is not fitted: call fit(interactions) first.")
        check_positive_int("k", k)
        excluded = np.zeros(len(self._items), dtype=bool)
        if exclude_seen:
            seen = self._items.encode(as_history(history)) - 1
            excluded[seen[seen >= 0]] = True
        return np.array(self._items.ids, dtype=object)[first_items(self._order, excluded, k)]
