"""Amazon Personalize's dataset group: the Interactions, Users and Items tables, checked once."""

import pandas as pd

from kerasts._checks import check_columns
from kerasts._files import user_table
from kerasts.data.interactions import filter_events, validate_interactions
from kerasts.data.item_metadata import CREATION_TIMESTAMP
from kerasts.data.timestamps import epoch_seconds_column

USER_COLUMN, ITEM_COLUMN, TIMESTAMP_COLUMN = "USER_ID", "ITEM_ID", "TIMESTAMP"
_IDS_AS_TEXT = {USER_COLUMN: str, ITEM_COLUMN: str}  # a CSV's ids stay as written ("007", not 7)
_AVRO_NUMBERS = {"int", "long", "float", "double"}
_AVRO_TYPES = _AVRO_NUMBERS | {"string", "boolean"}


def _check_schema(table, schema, name):
    """Personalize's Avro schema (`{"type": "record", "fields": [{"name", "type"}, ...]}`) against a table."""
    if not isinstance(schema, dict) or not isinstance(schema.get("fields"), list):
        raise ValueError(f"The {name} schema must be Avro JSON with a 'fields' list, got {schema!r}.")
    declared = {}
    for field in schema["fields"]:
        if not isinstance(field, dict) or "name" not in field or "type" not in field:
            raise ValueError(f"The {name} schema's fields need a 'name' and a 'type', got {field!r}.")
        kinds = field["type"] if isinstance(field["type"], list) else [field["type"]]
        unknown = [kind for kind in kinds if kind not in _AVRO_TYPES | {"null"}]
        if unknown:
            raise ValueError(f"The {name} schema's field {field['name']!r} has type {unknown[0]!r}; Personalize's "
                             f"types are {sorted(_AVRO_TYPES)} and 'null'.")
        declared[field["name"]] = kinds
    undeclared = [column for column in table.columns if column not in declared]
    missing = [field for field, kinds in declared.items() if field not in table.columns and "null" not in kinds]
    if undeclared or missing:
        raise ValueError(f"The {name} table and its schema disagree: columns not in the schema {undeclared}, "
                         f"required schema fields missing from the table {missing}.")
    for field, kinds in declared.items():
        if field in table.columns and set(kinds) - {"null"} <= _AVRO_NUMBERS:
            values = pd.to_numeric(table[field], errors="coerce")
            bad = values.isna() & table[field].notna()
            if bad.any():
                raise ValueError(f"The {name} schema types {field!r} as {kinds}, but row {bad.idxmax()!r} holds "
                                 f"{table[field][bad.idxmax()]!r}.")


class DatasetGroup:
    """Personalize's Interactions, Users and Items tables (DataFrames or CSV paths), checked.

    Interactions: `USER_ID`, `ITEM_ID`, `TIMESTAMP` (epoch seconds), optional `EVENT_TYPE`,
    `EVENT_VALUE` and context fields. Users: `USER_ID` and metadata; Items: `ITEM_ID` and metadata,
    a categorical field holding several values as `a|b`. `schemas={"interactions": avro, "users":
    ..., "items": ...}` are checked against the tables. Ids are read as text; the tables given are
    not changed.
    """

    def __init__(self, interactions, users=None, items=None, schemas=None):
        tables = {name: user_table(table, name, dtype=_IDS_AS_TEXT)
                  for name, table in (("interactions", interactions), ("users", users), ("items", items))}
        if tables["interactions"] is None:
            raise ValueError("A dataset group needs an interactions table.")
        schemas = dict(schemas or {})
        unknown = sorted(set(schemas) - set(tables))
        if unknown:
            raise ValueError(f"`schemas` names unknown table(s) {unknown}; the tables are {sorted(tables)}.")
        for name, schema in schemas.items():
            if tables[name] is None:
                raise ValueError(f"`schemas` has a schema for the {name} table, which was not given.")
            _check_schema(tables[name], schema, name)
        self.interactions = validate_interactions(tables["interactions"], USER_COLUMN, ITEM_COLUMN, TIMESTAMP_COLUMN)
        self.users = self._metadata(tables["users"], USER_COLUMN, "users")
        self.items = self._metadata(tables["items"], ITEM_COLUMN, "items")

    @staticmethod
    def _metadata(table, key, name):
        if table is None:
            return None
        check_columns(table, [key], f"The {name} table")
        clean = table.copy()
        clean[key] = table[key].astype(str)
        repeated = clean[key][clean[key].duplicated()]
        if not repeated.empty:
            raise ValueError(f"The {name} table repeats {key} {repeated.iloc[0]!r}: one row per id.")
        if CREATION_TIMESTAMP in clean.columns:  # how new an item is, beside the interactions' epoch seconds
            epoch_seconds_column(clean[CREATION_TIMESTAMP], f"`{name}` column {CREATION_TIMESTAMP!r}", missing=True)
        return clean.reset_index(drop=True)

    def events(self, event_type=None, event_value_threshold=None):
        """The interactions a solution trains on: of `event_type` only, with `EVENT_VALUE` at least
        `event_value_threshold` (Personalize's solution config)."""
        return filter_events(self.interactions, event_types=event_type, min_event_value=event_value_threshold)
