"""What the interaction-count recommenders share: the user-item matrix, popularity order,
top-N neighbour lists and ranking a history with a popularity fallback.

Item indices follow the item vocabulary, which is sorted by id, so ties break by id and no
result depends on the row order of the interactions table.
"""

import numpy as np
import pandas as pd
import scipy.sparse as sparse

from kerasts._checks import check_columns, check_positive_int
from kerasts.data.vocabulary import IdVocabulary
from kerasts.protocols.recommender import Recommender


def user_item_matrix(interactions, user_column, item_column, weight_column=None, items=None):
    """(users x items) CSR matrix of 1 per interacting pair, or the pair's highest weight.

    Returns `(matrix, items)`; `items` is the `IdVocabulary` of the columns (built sorted from
    the table unless one is given, in which case unknown items are dropped).
    """
    if not isinstance(interactions, pd.DataFrame):
        raise TypeError(f"`interactions` must be a pandas DataFrame, got {type(interactions).__name__}.")
    needed = [user_column, item_column] + ([weight_column] if weight_column is not None else [])
    check_columns(interactions, needed, "`interactions`")
    if interactions.empty:
        raise ValueError("`interactions` is empty: there is nothing to count.")
    if items is None:
        items = IdVocabulary.fit(interactions[item_column])
    columns = items.encode(interactions[item_column]) - 1
    known = columns >= 0
    rows, _ = pd.factorize(interactions[user_column])
    values = (np.ones(len(interactions)) if weight_column is None
              else pd.to_numeric(interactions[weight_column], errors="coerce").to_numpy(dtype="float64"))
    if np.isnan(values).any() or (values <= 0).any():
        raise ValueError(f"`interactions` column {weight_column!r} must hold positive numbers.")
    pairs = pd.DataFrame({"row": rows[known], "column": columns[known], "value": values[known]})
    pairs = pairs.groupby(["row", "column"], sort=False)["value"].max().reset_index()
    matrix = sparse.csr_matrix((pairs["value"].to_numpy(), (pairs["row"].to_numpy(), pairs["column"].to_numpy())),
                               shape=(rows.max() + 1, len(items)))
    return matrix, items


def popularity_order(matrix):
    """Item indices from most to least popular (column sums), ties by id."""
    popularity = np.asarray(matrix.sum(axis=0)).ravel()
    return np.lexsort((np.arange(popularity.size), -popularity))


class ItemSimilarityRecommender(Recommender):
    """Base of the item-to-item recommenders: subclasses give `_similarity(interactions, matrix)`,
    a sparse (items x items) matrix of non-negative scores, from which each item keeps its
    `max_neighbours` best neighbours.

    A context's items score the sum of their similarities to them; items no context item is
    similar to score 0, so popular items fill what co-occurrence cannot (unknown or sparse items
    still get `k` results): ties break by popularity.
    """

    def __init__(self, max_neighbours, user_column, item_column, weight_column):
        super().__init__(user_column, item_column)
        self.max_neighbours = check_positive_int("max_neighbours", max_neighbours)
        self.weight_column = weight_column

    def fit(self, interactions):
        matrix, self.items = user_item_matrix(interactions, self.user_column, self.item_column, self.weight_column)
        self._popular = popularity_order(matrix)
        self._popularity_rank = np.empty_like(self._popular)
        self._popularity_rank[self._popular] = np.arange(self._popular.size)
        similarity = sparse.csr_matrix(self._similarity(interactions, matrix))
        self._neighbours, self._neighbour_scores = self._top_neighbours(similarity)
        self.remember_histories(interactions)
        return self

    def _top_neighbours(self, similarity):
        """Per item, the best `max_neighbours` others (ties by popularity), padded with the
        index `len(items)` and score 0."""
        count = len(self.items)
        neighbours = np.full((count, self.max_neighbours), count, dtype="int64")
        scores = np.zeros((count, self.max_neighbours))
        for item in range(count):
            span = slice(similarity.indptr[item], similarity.indptr[item + 1])
            others, values = similarity.indices[span], similarity.data[span]
            useful = (values > 0) & (others != item)
            others, values = others[useful], values[useful]
            if values.size > self.max_neighbours:
                # All items tied with the last kept score stay in the running, so ties break by rank.
                threshold = np.partition(values, values.size - self.max_neighbours)[values.size - self.max_neighbours]
                others, values = others[values >= threshold], values[values >= threshold]
            order = np.lexsort((self._popularity_rank[others], -values))[:self.max_neighbours]
            neighbours[item, :order.size] = others[order]
            scores[item, :order.size] = values[order]
        return neighbours, scores

    def similar_items(self, item, k=None):
        """The stored neighbours of `item`, best first: `(item ids, scores)`; empty for unknown items."""
        self.check_fitted()
        index = self.items.encode([item])[0] - 1
        if index < 0:
            return np.array([], dtype=object), np.array([])
        keep = self._neighbour_scores[index] > 0
        ids = np.array(self.items.ids + [None], dtype=object)[self._neighbours[index][keep]]
        return ids[:k], self._neighbour_scores[index][keep][:k]

    def tie_breaking_rank(self):
        return self._popularity_rank

    def score_items(self, contexts):
        self.check_fitted()
        count = len(self.items)
        scores = np.zeros((len(contexts), count + 1))  # the last column collects the padding
        for row, context in enumerate(contexts):
            known = self.items.encode(context) - 1
            known = known[known >= 0]
            np.add.at(scores[row], self._neighbours[known].ravel(), self._neighbour_scores[known].ravel())
        return scores[:, :count]
