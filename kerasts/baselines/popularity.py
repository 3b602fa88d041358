import numpy as np


class Popularity:
    """Recommends the items with the most distinct users (Personalize's popularity-count).

    Call `fit(interactions)` then `recommend(history, k, exclude_seen=True)`, where `history`
    is the user's item ids (the interface every kerasts recommender shares).
    """

    def __init__(self, user_column="USER_ID", item_column="ITEM_ID"):
        self.user_column = user_column
        self.item_column = item_column
        self.ranked_items = None

    def fit(self, interactions):
        users_per_item = interactions.groupby(self.item_column)[self.user_column].nunique()
        # Ties broken by item id, so the ranking does not depend on row order.
        ordered = users_per_item.reset_index().sort_values([self.user_column, self.item_column],
                                                            ascending=[False, True])
        self.ranked_items = ordered[self.item_column].to_numpy()
        return self

    def recommend(self, history, k, exclude_seen=True):
        if self.ranked_items is None:
            raise ValueError("Popularity is not fitted: call fit(interactions) first.")
        if exclude_seen:
            seen = set(history)
            return np.array([item for item in self.ranked_items if item not in seen][:k], dtype=object)
        return self.ranked_items[:k]
