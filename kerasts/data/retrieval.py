"""Training examples for two-tower retrieval from Personalize-layout interactions.

The query side of each example is the user's history before the event (the item ids of their
previous events, `|`-separated, newest last), so users unseen in training are served from their
history alone; the candidate side is the item and its metadata.
"""

import numpy as np
import pandas as pd

from kerasts._checks import check_columns, check_positive_int
from kerasts.data.interactions import MULTI_VALUE_SEPARATOR

HISTORY_FEATURE = "HISTORY"
SAMPLING_PROBABILITY = "candidate_sampling_probability"


def joined(items):
    return MULTI_VALUE_SEPARATOR.join(str(item) for item in items)


def history_before_each_event(interactions, history_length=50, user_column="USER_ID", item_column="ITEM_ID"):
    """Per row of a table sorted by user and time: the user's previous `history_length` items."""
    check_positive_int("history_length", history_length)
    users = interactions[user_column].to_numpy()
    items = interactions[item_column].to_numpy()
    histories, start = [], 0
    for row in range(len(items)):
        if row and users[row] != users[row - 1]:
            start = row
        histories.append(joined(items[max(start, row - history_length):row]))
    return np.array(histories, dtype=object)


def latest_histories(interactions, history_length=50, user_column="USER_ID", item_column="ITEM_ID"):
    """Per user, their last `history_length` items: the query feature for recommending next."""
    newest = interactions.groupby(user_column, sort=False)[item_column]
    return newest.agg(lambda items: joined(items.iloc[-history_length:]))


def check_sorted_by_user_and_time(interactions, user_column="USER_ID", timestamp_column="TIMESTAMP"):
    """Refuses a table whose rows are not grouped by user and in time order within each (histories
    read the rows in order); `validate_interactions` returns tables in that order."""
    users = interactions[user_column].to_numpy()
    changes = np.append(True, users[1:] != users[:-1])
    if changes.sum() != pd.unique(users).size:
        raise ValueError(f"`interactions` must be sorted by {user_column!r} (then time): the rows of a user are "
                         "not together. validate_interactions returns them sorted.")
    if timestamp_column in interactions.columns:
        times = interactions[timestamp_column].to_numpy()
        backwards = np.flatnonzero(~changes[1:] & (times[1:] < times[:-1]))
        if backwards.size:
            raise ValueError(f"`interactions` must be in time order within each user: row position "
                             f"{backwards[0] + 1} is earlier than the row before it. validate_interactions "
                             "returns them sorted.")


def retrieval_examples(interactions, items=None, item_features=(), history_length=50, user_column="USER_ID",
                       item_column="ITEM_ID", timestamp_column="TIMESTAMP"):
    """Positive (query, candidate) pairs for `kerasts.models.TwoTower`, one per event.

    Args:
        interactions: validated interactions (sorted by user and time, see `validate_interactions`).
        items: optional item metadata table with `item_column`.
        item_features: columns of `items` added to the candidate side (missing values become "").
        history_length: previous items kept in the query's `HISTORY` feature.

    Returns:
        `{"query": {"HISTORY"}, "candidate": {item_column, *item_features},
        "candidate_sampling_probability"}` as numpy arrays (strings as objects). The probability
        is the item's share of all events: how likely it fills an in-batch negative slot.
    """
    check_columns(interactions, (user_column, item_column), "`interactions`")
    if interactions.empty:
        raise ValueError("`interactions` is empty: there are no examples to make.")
    check_sorted_by_user_and_time(interactions, user_column, timestamp_column)
    candidate = {item_column: interactions[item_column].astype(str).to_numpy(dtype=object)}
    if item_features:
        if items is None or item_column not in items.columns:
            raise ValueError(f"`item_features` needs an `items` table with column {item_column!r}.")
        absent = [column for column in item_features if column not in items.columns]
        if absent:
            raise ValueError(f"`items` lacks feature column(s) {absent}; it has {list(items.columns)}.")
        metadata = items.assign(**{item_column: items[item_column].astype(str)}).set_index(item_column)
        for column in item_features:
            candidate[column] = (metadata[column].reindex(candidate[item_column]).fillna("").astype(str)
                                 .to_numpy(dtype=object))
    frequency = pd.Series(candidate[item_column]).map(pd.Series(candidate[item_column]).value_counts(normalize=True))
    return {
        "query": {HISTORY_FEATURE: history_before_each_event(interactions, history_length, user_column, item_column)},
        "candidate": candidate,
        SAMPLING_PROBABILITY: frequency.to_numpy(dtype="float32"),
    }


def retrieval_dataset(examples, batch_size, shuffle=True, seed=0):
    """`retrieval_examples` as a `tf.data.Dataset` of batches for `TwoTower.fit`, reshuffled every
    epoch when `shuffle` (fit it with `shuffle=False`: the shuffling is here)."""
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices(examples)
    if shuffle:
        dataset = dataset.shuffle(len(examples[SAMPLING_PROBABILITY]), seed=seed)
    return dataset.batch(check_positive_int("batch_size", batch_size)).prefetch(tf.data.AUTOTUNE)
