"""Sessions, filters and train/test splits over validated interaction tables.

Every function takes and returns DataFrames in Personalize's layout (after
`validate_interactions`: sorted by user and time) and never modifies its input.
"""

import numpy as np
import pandas as pd

SESSION_COLUMN = "SESSION_ID"


def _require_columns(table, columns, call):
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"{call} takes a pandas DataFrame of interactions, got {type(table).__name__}.")
    missing = [column for column in columns if column not in table.columns]
    if missing:
        raise ValueError(f"{call} needs column(s) {missing}; the table has {list(table.columns)}.")


def sessionize(interactions, gap_seconds=30 * 60, user_column="USER_ID", timestamp_column="TIMESTAMP"):
    """Adds `SESSION_ID`: a user's new session starts after more than `gap_seconds` of inactivity.

    Session ids are `"<user>:<n>"` with `n` counting the user's sessions from 0 in time order.
    """
    if gap_seconds <= 0:
        raise ValueError(f"`gap_seconds` must be positive, got {gap_seconds!r}.")
    _require_columns(interactions, [user_column, timestamp_column], "sessionize")
    if not pd.api.types.is_numeric_dtype(interactions[timestamp_column]):
        raise ValueError(f"sessionize needs {timestamp_column!r} in epoch seconds; it holds "
                         f"{interactions[timestamp_column].dtype} values: call validate_interactions first.")
    table = interactions.sort_values([user_column, timestamp_column], kind="stable").reset_index(drop=True)
    new_user = table[user_column].ne(table[user_column].shift())
    long_gap = table[timestamp_column].diff().gt(gap_seconds)
    starts = (new_user | long_gap).astype(int)
    number = starts.groupby(table[user_column]).cumsum() - 1
    return table.assign(**{SESSION_COLUMN: table[user_column].astype(str) + ":" + number.astype(str)})


def filter_interactions(interactions, min_item_support=1, min_session_length=1, min_sessions_per_user=1,
                        user_column="USER_ID", item_column="ITEM_ID"):
    """Drops rare items, short sessions and users with few sessions, repeating until all three hold
    (dropping one can break another). Session filters need `SESSION_ID` (see `sessionize`)."""
    table = interactions
    needs_sessions = min_session_length > 1 or min_sessions_per_user > 1
    if needs_sessions and SESSION_COLUMN not in table.columns:
        raise ValueError("Session filters need a SESSION_ID column: call sessionize() first.")
    while True:
        before = len(table)
        table = table[table.groupby(item_column)[item_column].transform("size") >= min_item_support]
        if needs_sessions:
            table = table[table.groupby(SESSION_COLUMN)[SESSION_COLUMN].transform("size") >= min_session_length]
            sessions_per_user = table.groupby(user_column)[SESSION_COLUMN].transform("nunique")
            table = table[sessions_per_user >= min_sessions_per_user]
        if len(table) == before:
            return table.reset_index(drop=True)


def held_out_users(interactions, fraction, seed=0, user_column="USER_ID"):
    """The users a split holds out of training: `fraction` of them (rounded; at least one, and at least one
    left to train on), drawn with `seed` among those with two or more events, whose events can be split in
    time. `personalize_split` holds them out to test; a recommender's early stopping, to validate."""
    counts = interactions.groupby(user_column).size()
    if len(counts) < 2:
        raise ValueError(f"Holding users out of training needs at least two users, got {len(counts)}.")
    eligible = counts.index[counts >= 2].to_numpy()
    if eligible.size == 0:
        raise ValueError("No user has two or more events, so none can be held out.")
    wanted = min(eligible.size, len(counts) - 1, max(1, round(fraction * len(counts))))
    return set(np.random.default_rng(seed).choice(eligible, size=wanted, replace=False))


def personalize_split(interactions, test_user_fraction=0.1, input_fraction=0.9, seed=0, user_column="USER_ID",
                      timestamp_column="TIMESTAMP"):
    """Amazon Personalize's split: hold out a fraction of users; of each held-out user's events the
    oldest `input_fraction` are the input and the newest the ground truth.

    Returns:
        `(train, test_input, test_truth)`. Train holds only the other users' events, so no
        held-out event is seen in training. Each held-out user keeps at least one input and one
        truth event (users with a single event go to training).
    """
    if not 0 < test_user_fraction < 1 or not 0 < input_fraction < 1:
        raise ValueError("`test_user_fraction` and `input_fraction` must lie strictly between 0 and 1.")
    _require_columns(interactions, [user_column, timestamp_column], "personalize_split")
    is_test = interactions[user_column].isin(held_out_users(interactions, test_user_fraction, seed, user_column))
    train = interactions[~is_test].reset_index(drop=True)
    test = interactions[is_test].sort_values([user_column, timestamp_column], kind="stable")
    position = test.groupby(user_column).cumcount()
    size = test.groupby(user_column)[user_column].transform("size")
    input_count = np.clip(np.floor(input_fraction * size).astype(int), 1, size - 1)
    return train, test[position < input_count].reset_index(drop=True), test[position >= input_count].reset_index(drop=True)


def leave_last_session_out(sessions, user_column="USER_ID", timestamp_column="TIMESTAMP", known_items_only=False,
                           item_column="ITEM_ID"):
    """HRNN's split: each user's last session is the test session, the earlier ones train.

    Users with a single session have nothing to learn from before their test session: they go
    to training whole. With `known_items_only`, test events on items absent from training are
    dropped, then test sessions left with fewer than two events (nothing to predict), as GRU4Rec
    prepares its test set. Returns `(train, test)`.
    """
    if SESSION_COLUMN not in sessions.columns:
        raise ValueError("leave_last_session_out needs a SESSION_ID column: call sessionize() first.")
    last_session = sessions.groupby(user_column)[SESSION_COLUMN].transform("last")
    session_count = sessions.groupby(user_column)[SESSION_COLUMN].transform("nunique")
    is_test = sessions[SESSION_COLUMN].eq(last_session) & session_count.gt(1)
    return _split(sessions, is_test, known_items_only, item_column)


def split_sessions_by_start(sessions, test_share=0.1, known_items_only=False, timestamp_column="TIMESTAMP",
                            item_column="ITEM_ID"):
    """GRU4Rec's split in time: sessions that start after the `1 - test_share` quantile of session start
    times are the test sessions, the earlier ones train (a user may have sessions in both).
    `known_items_only` as in `leave_last_session_out`. Returns `(train, test)`."""
    if SESSION_COLUMN not in sessions.columns:
        raise ValueError("split_sessions_by_start needs a SESSION_ID column: call sessionize() first.")
    if not 0 < test_share < 1:
        raise ValueError(f"`test_share` must be between 0 and 1, got {test_share!r}.")
    starts = sessions.groupby(SESSION_COLUMN, sort=False)[timestamp_column].transform("min")
    cutoff = sessions.groupby(SESSION_COLUMN)[timestamp_column].min().quantile(1 - test_share)
    return _split(sessions, starts > cutoff, known_items_only, item_column)


def _split(sessions, is_test, known_items_only, item_column):
    train, test = sessions[~is_test], sessions[is_test]
    if known_items_only:  # as GRU4Rec prepares its test set: nothing to learn about items training lacks
        test = test[test[item_column].isin(set(train[item_column]))]
        test = test[test.groupby(SESSION_COLUMN)[item_column].transform("size") >= 2]
    return train.reset_index(drop=True), test.reset_index(drop=True)


def time_cutoff_split(interactions, cutoff, timestamp_column="TIMESTAMP"):
    """Events before `cutoff` (epoch seconds) train, the rest test. Returns `(train, test)`."""
    is_train = interactions[timestamp_column] < cutoff
    return interactions[is_train].reset_index(drop=True), interactions[~is_train].reset_index(drop=True)
