"""Item metadata for networks that read it: an Items table's columns as `FeatureGroups` specs and one value
per catalog item."""

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


def check_item_rows(items, rows, item_column="ITEM_ID"):
    """New rows for the Items table `items` (dicts of fields, as PutItems gives them) as a table, or a
    `ValueError` naming the item and the field: a row without its id, a field the table lacks, a number
    column given anything but a finite number, a true/false column anything but a boolean, a text column
    anything but text, `CREATION_TIMESTAMP` anything but epoch seconds. Any field may be missing (None)."""
    for position, row in enumerate(rows):
        if row.get(item_column) is None:
            raise ValueError(f"Every item needs its {item_column}; item {position} has none.")
        unknown = sorted(set(row) - set(items.columns))
        if unknown:
            raise ValueError(f"The Items table has no field(s) {unknown}; its fields are {list(items.columns)}.")
        for name, value in row.items():
            if name == item_column or value is None:
                continue
            field = f"{name} of item {row[item_column]!r}"
            if name == CREATION_TIMESTAMP:
                epoch_seconds(value, field)
            elif pd.api.types.is_bool_dtype(items[name]):
                if not isinstance(value, bool):
                    raise ValueError(f"{field} must be true or false, as in the Items table, got {value!r}.")
            elif pd.api.types.is_numeric_dtype(items[name]):
                finite_number(value, field)
            elif not isinstance(value, str):
                raise ValueError(f"{field} must be text, as in the Items table, got {value!r}.")
    return pd.DataFrame(rows)


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
