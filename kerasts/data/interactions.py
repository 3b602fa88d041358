"""Amazon Personalize's tables: interactions, users, items; id vocabularies; MovieLens loaders.

Interactions: `USER_ID`, `ITEM_ID`, `TIMESTAMP` (epoch seconds), optional `EVENT_TYPE` and
`EVENT_VALUE`. Users and items: the id plus metadata; a categorical item field may hold several
values separated by `|` (e.g. `horror|comedy`). Column names are configurable.
"""

import os

import numpy as np
import pandas as pd

from kerasts._checks import check_columns
from kerasts.data.timestamps import to_epoch_seconds

MULTI_VALUE_SEPARATOR = "|"


def validate_interactions(table, user_column="USER_ID", item_column="ITEM_ID", timestamp_column="TIMESTAMP",
                          duplicates="keep"):
    """Checks an interactions table and returns a clean copy sorted by user and time.

    Args:
        table: the interactions DataFrame (left untouched).
        user_column, item_column, timestamp_column: column names.
        duplicates: `"keep"` keeps repeated (user, item, timestamp) events, `"drop"` keeps one.

    Returns:
        A copy with user and item ids as strings (so `7` and `"7"` are one id) and TIMESTAMP as int64
        epoch seconds, sorted by user and time.

    Raises:
        TypeError: not a DataFrame. ValueError: empty, missing columns, ids that are NaN, item ids
        holding `|` (it separates the items of a history), timestamps that are not epoch seconds
        (milliseconds and date strings are named as such), or an unknown `duplicates` option.
    """
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"`interactions` must be a pandas DataFrame, got {type(table).__name__}.")
    if table.empty:
        raise ValueError("`interactions` is empty.")
    check_columns(table, (user_column, item_column, timestamp_column), "`interactions`")
    if duplicates not in ("keep", "drop"):
        raise ValueError(f"`duplicates` must be 'keep' or 'drop', got {duplicates!r}.")
    for column in (user_column, item_column):
        if table[column].isna().any():
            raise ValueError(f"`interactions` column {column!r} holds missing ids (NaN) in "
                             f"{int(table[column].isna().sum())} rows.")
    separated = table[item_column].astype(str).str.contains(MULTI_VALUE_SEPARATOR, regex=False)
    if separated.any():
        raise ValueError(f"`interactions` column {item_column!r} holds ids with {MULTI_VALUE_SEPARATOR!r}, which "
                         f"separates the items of a history: row {separated.idxmax()!r} holds "
                         f"{table[item_column][separated.idxmax()]!r}.")
    clean = table.copy()
    # Ids compare as strings everywhere (IdVocabulary), so user 7 and user "7" are one user.
    for column in (user_column, item_column):
        clean[column] = table[column].astype(str)
    clean[timestamp_column] = to_epoch_seconds(table[timestamp_column], timestamp_column)
    if duplicates == "drop":
        clean = clean.drop_duplicates([user_column, item_column, timestamp_column])
    return clean.sort_values([user_column, timestamp_column], kind="stable").reset_index(drop=True)


def filter_events(interactions, event_types=None, min_event_value=None, event_type_column="EVENT_TYPE",
                  event_value_column="EVENT_VALUE", require_types=True):
    """Keeps the events a model should learn from, as Personalize's solution config does.

    Args:
        interactions: the interactions DataFrame (left untouched).
        event_types: event types to keep (e.g. `["purchase"]`); `None` keeps all.
        min_event_value: keep events whose value is at least this (e.g. ratings of 4 and
            up); `None` keeps all.
        require_types: refuse `event_types` the table does not hold (a typo, for a training table);
            False for a few live events, which hold what they hold.

    Raises:
        ValueError: a filter needs a column the table lacks, or names an event type the
        table does not hold.
    """
    keep = pd.Series(True, index=interactions.index)
    if event_types is not None:
        types = _required_column(interactions, event_type_column, "event_types")
        wanted = [event_types] if isinstance(event_types, str) else list(event_types)
        unknown = sorted(set(wanted) - set(types.unique()))
        if unknown and require_types:
            raise ValueError(f"`event_types` {unknown} do not occur in column {event_type_column!r}; it holds "
                             f"{sorted(types.unique())}.")
        keep &= types.isin(wanted)
    if min_event_value is not None:
        raw = _required_column(interactions, event_value_column, "min_event_value")
        values = pd.to_numeric(raw, errors="coerce")
        bad = values.isna() & raw.notna()
        if bad.any():
            raise ValueError(f"`min_event_value` compares numbers, but column {event_value_column!r} holds "
                             f"{int(bad.sum())} that are not, e.g. row {bad.idxmax()!r}: {raw[bad.idxmax()]!r}.")
        keep &= values.ge(min_event_value)
    return interactions[keep].reset_index(drop=True)


def weight_events(interactions, weights, event_type_column="EVENT_TYPE", weight_column="EVENT_WEIGHT"):
    """Adds `weight_column` from a mapping of event type to weight, e.g. `{"click": 1, "purchase": 5}`.

    Recommenders that take a `weight_column` (Popularity, SIMS) then count a user's
    interaction with an item at the highest weight among their events on it.

    Raises:
        ValueError: the table lacks the event-type column, holds types the mapping lacks, or
        a weight is not a positive number.
    """
    types = _required_column(interactions, event_type_column, "weights")
    missing = sorted(set(types.unique()) - set(weights))
    if missing:
        raise ValueError(f"`weights` has no weight for event type(s) {missing} in column {event_type_column!r}.")
    bad = {name: value for name, value in weights.items()
           if not isinstance(value, (int, float, np.integer, np.floating)) or not value > 0}
    if bad:
        raise ValueError(f"`weights` must be positive numbers; got {bad}.")
    return interactions.assign(**{weight_column: types.map(weights).astype("float64")})


def _required_column(table, column, argument):
    if column not in table.columns:
        raise ValueError(f"`{argument}` needs column {column!r}, which the interactions table lacks; "
                         f"it has {list(table.columns)}.")
    return table[column]


def split_multi_value(series, separator=MULTI_VALUE_SEPARATOR):
    """`"horror|comedy"` -> `["horror", "comedy"]` per row; missing values give `[]`."""
    return [[] if pd.isna(value) else [part for part in str(value).split(separator) if part] for value in series]


def load_movielens(path):
    """MovieLens from a local folder, in Personalize's layout.

    Reads `ratings.csv` + `movies.csv` (the ml-latest format) or `u.data` + `u.item` (ml-100k).
    MovieLens may not be redistributed, so nothing is downloaded: pass the folder you have.

    Returns:
        `(interactions, items)`: interactions with `USER_ID`, `ITEM_ID` (strings), `TIMESTAMP`,
        `EVENT_TYPE` ("rating") and `EVENT_VALUE` (the rating); items with `ITEM_ID`, `TITLE`
        and `GENRES` (`|`-separated).
    """
    if os.path.exists(os.path.join(path, "ratings.csv")):
        ratings = pd.read_csv(os.path.join(path, "ratings.csv"))
        movies = pd.read_csv(os.path.join(path, "movies.csv"))
        ratings.columns = ["USER_ID", "ITEM_ID", "EVENT_VALUE", "TIMESTAMP"]
        items = movies.rename(columns={"movieId": "ITEM_ID", "title": "TITLE", "genres": "GENRES"})
    elif os.path.exists(os.path.join(path, "u.data")):
        ratings = pd.read_csv(os.path.join(path, "u.data"), sep="\t", header=None,
                              names=["USER_ID", "ITEM_ID", "EVENT_VALUE", "TIMESTAMP"])
        raw = pd.read_csv(os.path.join(path, "u.item"), sep="|", header=None, encoding="latin-1")
        genre_names = ["unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
                       "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance",
                       "Sci-Fi", "Thriller", "War", "Western"]
        flags = raw.iloc[:, 5:5 + len(genre_names)].to_numpy().astype(bool)
        items = pd.DataFrame({"ITEM_ID": raw[0], "TITLE": raw[1],
                              "GENRES": ["|".join(np.array(genre_names)[row]) for row in flags]})
    else:
        raise ValueError(f"No MovieLens files in {path!r}: expected ratings.csv + movies.csv or u.data + u.item.")
    ratings["USER_ID"] = ratings["USER_ID"].astype(str)
    ratings["ITEM_ID"] = ratings["ITEM_ID"].astype(str)
    ratings["EVENT_TYPE"] = "rating"
    items["ITEM_ID"] = items["ITEM_ID"].astype(str)
    interactions = ratings[["USER_ID", "ITEM_ID", "TIMESTAMP", "EVENT_TYPE", "EVENT_VALUE"]]
    return validate_interactions(interactions), items[["ITEM_ID", "TITLE", "GENRES"]]
