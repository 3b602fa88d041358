import numpy as np
import scipy.sparse as sparse

from kerasts.baselines._item_similarity import ItemSimilarityRecommender, user_item_matrix

# Pair entries (a user pair and one item both hold) built at a time: each costs about 110 bytes at the peak
# (measured on MovieLens-latest-small), so about 0.5 GiB, whatever the table's size. Items with tens of
# thousands of users make the count quadratic: 756 million entries on a 1M-event retail table, uncapped.
PAIR_CHUNK = 5_000_000
# Alibaba PAI's Swing keeps at most 1,000 users of an item (`maxItemNumber`'s default).
DEFAULT_MAX_USERS_PER_ITEM = 1000


class Swing(ItemSimilarityRecommender):
    """Swing item-to-item similarity (Yang et al. 2020), robust to one-off co-clicks.

    score(i, j) = sum over unordered user pairs {u, v} (u != v) who both interacted with i and j
    of `w_u * w_v / (alpha + |I_u ∩ I_v|)`, with `w_u = (|I_u| + alpha1) ** -beta` and `I_u` the
    set of u's items. Two users who share little besides i and j say more about i and j than
    two heavy users who share everything.

    Computed as sparse products: every user pair that shares an item gets one row holding its
    shared items, and `rows.T @ diag(pair weights) @ rows` sums the weights per item pair. The
    rows are built `PAIR_CHUNK` entries at a time (a pair's rows together), so memory stays
    bounded; the time grows with the number of pairs, which the caps bound.

    Args:
        alpha, alpha1, beta: the constants of the formula above (`beta=0.35`, the seed notebook's
            user weight; it ties 0.3 on MovieLens, benchmarks/RESULTS.md).
        max_items_per_user: keep each user's most recent items only (`None`: all).
        max_users_per_item: keep each item's most recent users only (1,000, Alibaba PAI's default;
            `None`: all). Both caps bound the cost on heavy users and blockbuster items, as in the
            paper's system; where one cuts, the table needs `timestamp_column`.
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

    def __init__(self, alpha=1.0, alpha1=5.0, beta=0.35, max_items_per_user=None,
                 max_users_per_item=DEFAULT_MAX_USERS_PER_ITEM, max_neighbours=100, user_column="USER_ID",
                 item_column="ITEM_ID", timestamp_column="TIMESTAMP"):
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
        caps = {self.user_column: ("max_items_per_user", self.max_items_per_user),
                self.item_column: ("max_users_per_item", self.max_users_per_item)}
        pairs = interactions.drop_duplicates([self.user_column, self.item_column])
        largest = {column: pairs[column].value_counts().head(1) for column, (_, cap) in caps.items() if cap is not None}
        cutting = [column for column, counts in largest.items() if counts.iloc[0] > caps[column][1]]
        if not cutting:
            return interactions
        if self.timestamp_column not in interactions.columns:
            name, cap = caps[cutting[0]]
            counts = largest[cutting[0]]
            raise ValueError(f"Swing keeps the most recent {cap:,} of each {cutting[0]}'s interactions "
                             f"(`{name}`) and {counts.index[0]!r} has {counts.iloc[0]:,}, so `interactions` needs "
                             f"column {self.timestamp_column!r} to order them; it has {list(interactions.columns)}.")
        pairs = (interactions.groupby([self.user_column, self.item_column])[self.timestamp_column].max()
                 .reset_index().sort_values(self.timestamp_column, ascending=False, kind="stable"))
        for column, (_, cap) in caps.items():
            if cap is not None:
                pairs = pairs.groupby(column).head(cap)
        return pairs

    def _similarity(self, interactions, matrix):
        users_items, _ = user_item_matrix(self._capped(interactions), self.user_column, self.item_column,
                                          items=self.items)
        users_items.data[:] = 1.0
        user_weight = (users_items.sum(axis=1).A1 + self.alpha1) ** -self.beta
        item_users = users_items.tocsc()
        item_users.sort_indices()
        item_count = item_users.shape[1]
        # An item's users in index order: the one at each entry pairs, as the pair's first, with those after it.
        entry_item = np.repeat(np.arange(item_count), np.diff(item_users.indptr))
        after = item_users.indptr[entry_item + 1] - 1 - np.arange(item_users.nnz)
        entries_per_user = np.bincount(item_users.indices, weights=after, minlength=item_users.shape[0])
        # All of a pair's entries have its first user, so chunks of first users hold whole pairs.
        chunk_of_user = ((np.cumsum(entries_per_user) - entries_per_user) // PAIR_CHUNK).astype("int64")
        entry_chunk = np.where(after > 0, chunk_of_user[item_users.indices], -1)
        similarity = sparse.csr_matrix((item_count, item_count))
        for chunk in np.unique(entry_chunk[entry_chunk >= 0]):
            similarity += self._pair_rows_product(item_users, entry_item, after, np.flatnonzero(entry_chunk == chunk),
                                                  user_weight)
        return similarity

    def _pair_rows_product(self, item_users, entry_item, after, entries, user_weight):
        """`rows.T @ diag(pair weights) @ rows` over the pairs whose first user is at `entries`."""
        user_count, item_count = item_users.shape
        counts = after[entries]
        offsets = np.cumsum(counts) - counts
        second_entry = np.repeat(entries + 1 - offsets, counts) + np.arange(counts.sum())
        pair_keys = np.repeat(item_users.indices[entries].astype("int64"), counts) * user_count
        pair_keys += item_users.indices[second_entry]
        pairs, pair_row = np.unique(pair_keys, return_inverse=True)
        overlap = np.bincount(pair_row)  # |I_u ∩ I_v|: the pair's row holds one entry per shared item
        pair_weight = user_weight[pairs // user_count] * user_weight[pairs % user_count] / (self.alpha + overlap)
        shared = sparse.csr_matrix((np.ones(pair_row.size), (pair_row, np.repeat(entry_item[entries], counts))),
                                   shape=(pairs.size, item_count))
        return shared.T @ sparse.diags(pair_weight) @ shared
