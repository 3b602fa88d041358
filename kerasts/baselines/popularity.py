import numpy as np

from kerasts.baselines._item_similarity import user_item_matrix
from kerasts.protocols.recommender import Recommender


class Popularity(Recommender):
    """Recommends the items with the most distinct users (Personalize's popularity-count), ties by id.

    A `kerasts.protocols.Recommender`: `fit(interactions)`, then `recommend(...)` (the context only
    decides what is excluded).

    Args:
        user_column, item_column: column names of the interactions table.
        weight_column: optional per-event weights (see `kerasts.data.weight_events`): an item
            then scores the sum over users of their highest weight on it.
    """

    def __init__(self, user_column="USER_ID", item_column="ITEM_ID", weight_column=None):
        super().__init__(user_column, item_column)
        self.weight_column = weight_column

    def fit(self, interactions):
        matrix, self.items = user_item_matrix(interactions, self.user_column, self.item_column, self.weight_column)
        self.popularity = np.asarray(matrix.sum(axis=0)).ravel()
        self.remember_histories(interactions)
        return self

    def score_items(self, contexts):
        self.check_fitted()
        return np.tile(self.popularity, (len(contexts), 1))
