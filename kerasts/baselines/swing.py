import numpy as np
import scipy.sparse as sparse

from kerasts.baselines._item_similarity import ItemSimilarityRecommender, user_item_matrix

# User pairs Swing may build: each costs about 110 bytes at the peak (measured on MovieLens-latest-small: 2.9M
# pairs, 330 MiB), so this is about 5 GiB. Items with tens of thousands of users make the count quadratic.
MAX_USER_PAIRS = 50_000_000


class Swing(ItemSimilarityRecommender):
    """Swing item-to-item similarity (Yang et al. 2020), robust to one-off co-clicks.

    score(i, j) = sum over unordered user pairs {u, v} (u != v) who both interacted with i and j
    of `w_u * w_v / (alpha + |I_u ∩ I_v|)`, with `w_u = (|I_u| + alpha1) ** -beta` and `I_u` the
    set of u's items. Two users who share little besides i and j say more about i and j than
    two heavy users who share everything.

    Computed as one sparse product: every user pair that shares an item gets one row holding
    its shared items, and `rows.T @ diag(pair weights) @ rows` sums the weights per item pair.

    Args:
        alpha, alpha1, beta: the constants of the formula above (`beta=0.35`, the seed notebook's
            user weight; it ties 0.3 on MovieLens, benchmarks/RESULTS.md).
        max_items_per_user: keep each user's most recent items only (`None`: all).
        max_users_per_item: keep each item's most recent users only (`None`: all). Both caps
            bound the cost on heavy users and blockbuster items, as in the paper's system.
        max_neighbours: neighbours kept per item.
        user_column, item_column, timestamp_column: column names of the interactions table
            (the timestamp only orders events for the caps).

    Example:
        >>> model = Swing(max_items_per_user=500).fit(interactions)
        >>> model.recommend(user_history, k=10)

    Reference:
        Yang et al., "Large Scale Product Graph Construction for Recommendation in
        E-commerce", arXiv:2010.05525, 2020.
    """

    def __init__(self, alpha=1.0, alpha1=5.0, beta=0.35, max_items_per_user=None, max_users_per_item=None,
                 max_neighbours=100, user_column="USER_ID", item_column="ITEM_ID", timestamp_column="TIMESTAMP"):
        super().__init__(max_neighbours, user_column, item_column, weight_column=None)
        if alpha <= 0 or alpha1 < 0 or beta < 0:
            raise ValueError(f"Swing needs alpha > 0, alpha1 >= 0 and beta >= 0; got {alpha!r}, {alpha1!r}, {beta!r}.")
        for name, cap in (("max_items_per_user", max_items_per_user), ("max_users_per_item", max_users_per_item)):
            if cap is not None and (not isinstance(cap, (int, np.integer)) or cap < 2):
                raise ValueError(f"`{name}` must be None or an integer of at least 2, got {cap!r}.")
        self.alpha, self.alpha1, self.beta = alpha, alpha1, beta
        self.max_items_per_user = max_items_per_user
        self.max_users_per_item = max_users_per_item
        self.timestamp_column = timestamp_column

    def _capped(self, interactions):
        if self.max_items_per_user is None and self.max_users_per_item is None:
            return interactions
        if self.timestamp_column not in interactions.columns:
            raise ValueError(f"Swing's caps keep the most recent events, so `interactions` needs column "
                             f"{self.timestamp_column!r}; it has {list(interactions.columns)}.")
        pairs = (interactions.groupby([self.user_column, self.item_column])[self.timestamp_column].max()
                 .reset_index().sort_values(self.timestamp_column, ascending=False, kind="stable"))
        if self.max_items_per_user is not None:
            pairs = pairs.groupby(self.user_column).head(self.max_items_per_user)
        if self.max_users_per_item is not None:
            pairs = pairs.groupby(self.item_column).head(self.max_users_per_item)
        return pairs

    def _similarity(self, interactions, matrix):
        users_items, _ = user_item_matrix(self._capped(interactions), self.user_column, self.item_column,
                                          items=self.items)
        users_items.data[:] = 1.0
        item_users = users_items.tocsc()
        user_count, item_count = users_items.shape
        _check_pair_count(np.diff(item_users.indptr))
        first, second, shared_item = [], [], []
        for item in range(item_count):
            users = item_users.indices[item_users.indptr[item]:item_users.indptr[item + 1]]
            a, b = np.triu_indices(users.size, k=1)
            first.append(users[a])
            second.append(users[b])
            shared_item.append(np.full(a.size, item))
        pair_keys = np.concatenate(first).astype("int64") * user_count + np.concatenate(second)
        if pair_keys.size == 0:
            return sparse.csr_matrix((item_count, item_count))
        pairs, pair_row = np.unique(pair_keys, return_inverse=True)
        overlap = np.bincount(pair_row)  # |I_u ∩ I_v|: the pair's row holds one entry per shared item
        user_weight = (users_items.sum(axis=1).A1 + self.alpha1) ** -self.beta
        pair_weight = user_weight[pairs // user_count] * user_weight[pairs % user_count] / (self.alpha + overlap)
        shared = sparse.csr_matrix((np.ones(pair_row.size), (pair_row, np.concatenate(shared_item))),
                                   shape=(pairs.size, item_count))
        return shared.T @ sparse.diags(pair_weight) @ shared


def _pairs(users_per_item):
    return int((users_per_item * (users_per_item - 1) // 2).sum())


def _check_pair_count(users_per_item):
    """Refuses, before any is built, more user pairs than `MAX_USER_PAIRS`, naming the largest
    `max_users_per_item` that fits."""
    users_per_item = users_per_item.astype("int64")
    count = _pairs(users_per_item)
    if count <= MAX_USER_PAIRS:
        return
    low, high = 2, int(users_per_item.max())  # the largest cap whose pairs fit, by bisection
    while low < high:
        middle = (low + high + 1) // 2
        fits = _pairs(np.minimum(users_per_item, middle)) <= MAX_USER_PAIRS
        low, high = (middle, high) if fits else (low, middle - 1)
    raise ValueError(f"Swing would build {count:,} user pairs (about {count * 110 / 2 ** 30:,.0f} GiB; at most "
                     f"{MAX_USER_PAIRS:,}): an item with {int(users_per_item.max()):,} users alone makes "
                     f"{_pairs(users_per_item.max(keepdims=True)):,}. Give max_users_per_item={low} or less (each "
                     "item's most recent users), as the paper's system caps them.")
