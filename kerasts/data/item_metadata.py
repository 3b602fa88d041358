"""Item metadata for networks that read it: an Items table's columns as `FeatureGroups` specs and one value
per catalog item; and the rows PutItems and PutUsers add to a metadata table (Items or Users), checked."""

import numpy as np
import pandas as pd

from kerasts._checks import finite_number, shown
from kerasts.data.interactions import MULTI_VALUE_SEPARATOR, split_multi_value
from kerasts.data.timestamps import epoch_seconds

# A text column with more distinct values than this share of its rows names items (an id, a title) rather
# than grouping them, so "all" columns leaves it out.
MAX_DISTINCT_SHARE = 0.5
# Personalize's reserved field of when an item was created: it says how new an item is (cold-start
# exploration), and as a feature every new item would lie beyond the training items' range.
CREATION_TIMESTAMP = "CREATION_TIMESTAMP"
# A number further than this many standard deviations from the catalog's mean is read at that distance, so
# an item put later with an extreme value cannot swamp its other features.
MAX_DEVIATIONS = 5.0


def check_metadata_rows(table, rows, id_column="ITEM_ID", kind="item"):
    """New rows for a metadata table (the Items table, `kind` "item", or the Users table, "user"; dicts of
    fields, as PutItems and PutUsers give them), checked: new dicts with a number column's value as a number
    (text such as "12" too: the calls' properties are a string map, and Personalize's own example sends
    `{"numberOfRatings": "12"}`), or a `ValueError` naming the row and the field: a row without its id, a
    field the table lacks, a number column given anything but a finite number, a true/false column anything
    but a boolean, a text column anything but text, `CREATION_TIMESTAMP` anything but epoch seconds. Any
    field may be missing (None)."""
    table_name = f"{kind.capitalize()}s table"
    checked = []
    for position, row in enumerate(rows):
        if row.get(id_column) is None:
            raise ValueError(f"Every {kind} needs its {id_column}; {kind} {position} has none.")
        unknown = sorted(set(row) - set(table.columns))
        if unknown:
            raise ValueError(f"The {table_name} has no field(s) {unknown}; its fields are {list(table.columns)}.")
        row = dict(row)
        for name, value in row.items():
            if name == id_column or value is None:
                continue
            field = f"{name} of {kind} {row[id_column]!r}"
            if name == CREATION_TIMESTAMP:
                epoch_seconds(value, field)
            elif pd.api.types.is_bool_dtype(table[name]):
                if not isinstance(value, bool):
                    raise ValueError(f"{field} must be true or false, as in the {table_name}, got {value!r}.")
            elif pd.api.types.is_numeric_dtype(table[name]):
                row[name] = finite_number(_number_in_text(value), field)
            elif not isinstance(value, str):
                raise ValueError(f"{field} must be text, as in the {table_name}, got {value!r}.")
        checked.append(row)
    return checked


def with_rows(table, rows, id_column="ITEM_ID"):
    """`table` with `rows` (dicts of its fields, as PutItems and PutUsers give them) in place of its rows of
    their ids, new ids added (of one id's rows, the last wins); `table` itself when there are none."""
    if not rows:
        return table
    put = pd.DataFrame(rows).astype({id_column: str}).drop_duplicates(id_column, keep="last")
    return pd.concat([table[~table[id_column].isin(put[id_column])], put], ignore_index=True)


def rows_by_id(table, id_column="ITEM_ID"):
    """Each id's row of `table` as a dict of its fields (of an id's rows, the last), keyed by the id as text."""
    return {str(row[id_column]): row for row in table.to_dict("records")}


def _number_in_text(value):
    """The number a text value spells ("12", "4.5"), else the value as it was (for the check to name)."""
    try:
        return float(value) if isinstance(value, str) else value
    except ValueError:
        return value


def item_metadata_columns(items, item_column="ITEM_ID"):
    """The Items table's columns a network reads when asked for "all": numbers, and text (or flags) whose
    values (split at `|`) group items (at most `MAX_DISTINCT_SHARE` of the rows distinct); not
    `CREATION_TIMESTAMP`."""
    columns = []
    for name in items.columns:
        if name in (item_column, CREATION_TIMESTAMP):
            continue
        values = items[name]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            columns.append(name)
        elif len({part for parts in split_multi_value(values) for part in parts}) <= MAX_DISTINCT_SHARE * len(items):
            columns.append(name)
    return columns


def item_metadata_features(items, columns, item_ids, item_column="ITEM_ID", embedding_dim=16):
    """`(specs, values)` for the `columns` of the `items` table over the catalog `item_ids`.

    Numeric columns become `numeric` features standardised by their catalog mean and deviation, a
    missing number read as the mean, one beyond `MAX_DEVIATIONS` deviations read at that distance; the others `multi_categorical` (`a|b`; one value is a list of one,
    empty parts are skipped), a missing value read as no value. Catalog items absent from the table get
    the same fall-backs, so every item has metadata.

    Returns:
        `specs` (name -> `FeatureGroups` spec) and `values` (name -> one value per item of `item_ids`).
    """
    if not isinstance(items, pd.DataFrame) or item_column not in items.columns:
        raise ValueError(f"Item metadata needs an Items table (a DataFrame with {item_column!r}).")
    columns = item_metadata_columns(items, item_column) if columns == "all" else list(columns)
    missing = [name for name in columns if name not in items.columns]
    if missing:
        raise ValueError(f"The Items table has no column(s) {missing} to read as item metadata; its columns are "
                         f"{list(items.columns)}.")
    if not columns:
        raise ValueError("No Items column to read as item metadata (numbers, or text grouping items).")
    catalog = _catalog_rows(items, item_ids, item_column)
    specs = {}
    for name in columns:
        column = catalog[name]
        if pd.api.types.is_numeric_dtype(items[name]) and not pd.api.types.is_bool_dtype(items[name]):
            numbers = pd.to_numeric(column).astype("float64")
            infinite = numbers[np.isinf(numbers)]
            if not infinite.empty:
                raise ValueError(f"Item feature {name!r} must hold finite numbers; item {infinite.index[0]!r} has "
                                 f"{shown(infinite.iloc[0])!r}.")
            mean = float(numbers.mean()) if numbers.notna().any() else 0.0
            deviation = float(numbers.std()) if numbers.notna().sum() > 1 else 0.0
            # A constant column's computed deviation can be rounding noise rather than 0: standardise it by 1.
            constant = deviation <= 1e-6 * max(1.0, abs(mean))
            specs[name] = {"type": "numeric", "mean": mean, "std": 1.0 if constant else deviation}
        else:
            vocabulary = sorted({part for row in split_multi_value(column) for part in row})
            if not vocabulary:
                raise ValueError(f"Item feature {name!r} has no value for any catalog item.")
            specs[name] = {"type": "multi_categorical", "embedding_dim": embedding_dim, "vocabulary": vocabulary,
                           "separator": MULTI_VALUE_SEPARATOR}
    return specs, item_metadata_values(items, specs, item_ids, item_column)


def item_metadata_values(items, specs, item_ids, item_column="ITEM_ID"):
    """One value per item of `item_ids` for each feature of `specs` (from `item_metadata_features`), read
    from the `items` table with the specs' fall-backs: a missing number is the spec's mean, missing text
    no value. For items that join a catalog after its specs were made (their vocabularies and statistics
    stay as they were: an unseen text value is out of vocabulary)."""
    missing = [name for name in specs if name not in items.columns]
    if missing:
        raise ValueError(f"The Items table has no column(s) {missing} to read as item metadata; its columns are "
                         f"{list(items.columns)}.")
    catalog = _catalog_rows(items, item_ids, item_column)
    values = {}
    for name, spec in specs.items():
        if spec["type"] == "numeric":
            reach = MAX_DEVIATIONS * spec["std"]
            values[name] = (pd.to_numeric(catalog[name]).astype("float64").fillna(spec["mean"])
                            .clip(spec["mean"] - reach, spec["mean"] + reach).tolist())
        else:
            values[name] = [MULTI_VALUE_SEPARATOR.join(row) for row in split_multi_value(catalog[name])]
    return values


def _catalog_rows(items, item_ids, item_column):
    """The table's rows (the last of an id listed twice) in `item_ids` order, empty rows for absent ids."""
    rows = (items.assign(**{item_column: items[item_column].astype(str)})
            .drop_duplicates(item_column, keep="last").set_index(item_column))
    return rows.reindex([str(item) for item in item_ids])
