"""Amazon Forecast's dataset group: the target, related and item-metadata tables of one forecasting job."""

import dataclasses
import json

import numpy as np
import pandas as pd

from kerasts._checks import check_columns, shown
from kerasts._files import user_table
from kerasts.data.cold_start import cold_start_histories
from kerasts.data.filling import check_filling, fill_target
from kerasts.data.forecast_tables import CategoryEncoder, align_related, align_target
from kerasts.frequencies import parse_frequency

# Forecast's dataset domains: the fields naming a series and its target in the target table, and the
# optional dimension the domain defines (https://docs.aws.amazon.com/forecast/latest/dg/howitworks-domains-ds-types.html).
DOMAINS = {
    "RETAIL": ("item_id", "demand"),
    "INVENTORY_PLANNING": ("item_id", "demand"),
    "EC2_CAPACITY": ("instance_type", "number_of_instances"),
    "WORK_FORCE": ("workforce_type", "workforce_demand"),
    "WEB_TRAFFIC": ("item_id", "value"),
    "METRICS": ("metric_name", "metric_value"),
    "CUSTOM": ("item_id", "target_value"),
}
TIMESTAMP = "timestamp"
SCHEMA_TYPES = ("string", "float", "integer", "timestamp", "geolocation")
RELATED_AGGREGATIONS = ("mean", "sum", "first", "last", "min", "max")
TABLES = ("target", "related", "item_metadata")


class DatasetGroup:
    """The tables of one forecasting job, in Amazon Forecast's layouts.

    - `target` (TARGET_TIME_SERIES): the domain's series field (`item_id` for RETAIL and CUSTOM,
      `instance_type`, `workforce_type`, `metric_name` for the others), `timestamp`, the domain's
      target field (`target_value`, `demand`, `value`, ...) and any `dimensions` (e.g. `store`).
    - `related` (RELATED_TIME_SERIES): the same keys and timestamps plus numeric covariates known
      into the future; aggregated to the frequency with `related_aggregation`. Columns named in
      `past_only_columns` are known only up to the forecast start (web traffic, yesterday's footfall):
      models read them over the context and need no future values.
    - `item_metadata` (ITEM_METADATA): the series field plus attributes, each a category (Forecast reads
      item metadata as categorical data): a number such as a pack size is a category by its text.

    Tables are DataFrames or CSV paths (read with every column as text, then converted as the
    schema or the data says); the user's DataFrames are copied, never changed. `schemas`, in
    Forecast's JSON form per table (`{"target": {"attributes": [{"attributeName": ...,
    "attributeType": "string"|"float"|"integer"|"timestamp"}]}, ...}`), are checked against the
    tables. Values of the target falling in one period of `frequency` are summed, as Forecast does.
    Series may start and end at different times: each is missing (NaN) outside its own range.

    Args:
        target, related, item_metadata: the tables.
        frequency: the forecast frequency (`"H"`, `"D"`, `"W"`, `"M"`, ...).
        domain: one of `DOMAINS`; it names the series and target fields.
        dimensions: further key columns of the target (and related) table.
        schemas: optional Forecast schemas by table name (`target`, `related`, `item_metadata`).
        related_aggregation: how related values in one period combine (mean, sum, first, last, min, max).
        past_only_columns: related columns known only up to the forecast start.
        item_column, target_column, timestamp_column: other names for the domain's fields.
    """

    def __init__(self, target, related=None, item_metadata=None, frequency="D", domain="CUSTOM", dimensions=(),
                 schemas=None, related_aggregation="mean", item_column=None, target_column=None,
                 timestamp_column=TIMESTAMP, past_only_columns=()):
        if domain not in DOMAINS:
            raise ValueError(f"Unknown dataset domain {domain!r}: expected one of {sorted(DOMAINS)}.")
        parse_frequency(frequency)
        if related_aggregation not in RELATED_AGGREGATIONS:
            raise ValueError(f"`related_aggregation` must be one of {RELATED_AGGREGATIONS}, got "
                             f"{related_aggregation!r}.")
        self.domain, self.frequency = domain, frequency
        self.item_column = item_column or DOMAINS[domain][0]
        self.target_column = target_column or DOMAINS[domain][1]
        self.timestamp_column = timestamp_column
        self.dimensions = tuple(dimensions)
        self.related_aggregation = related_aggregation
        self.tables = {name: user_table(value, name, dtype=str) for name, value in
                       zip(TABLES, (target, related, item_metadata))}
        if self.tables["target"] is None:
            raise ValueError("A dataset group needs a target table.")
        self.schemas = dict(schemas or {})
        unknown = sorted(set(self.schemas) - set(TABLES))
        if unknown:
            raise ValueError(f"`schemas` names table(s) {unknown}; the tables are {list(TABLES)}.")
        for name, schema in self.schemas.items():
            if self.tables[name] is None:
                raise ValueError(f"`schemas` has a schema for the {name} table, which the group does not have.")
            self.tables[name] = _apply_schema(self.tables[name], schema, name)
        for name, table in self.tables.items():
            if table is not None:
                self.tables[name] = self._ids_as_text(table, name)
        self._check_metadata()
        self._check_cold_start()
        self.past_only_columns = [past_only_columns] if isinstance(past_only_columns, str) else list(past_only_columns)
        unknown = sorted(set(self.past_only_columns) - set(self.related_columns()))
        if unknown:
            raise ValueError(f"`past_only_columns` names {unknown}, which are not covariate columns of the related "
                             f"table ({self.related_columns()}).")
        self._panels, self._length = {}, None

    def _ids_as_text(self, table, name):
        """Series keys compare as strings in every table (ids read from CSV are text), so `7` and "7"
        name one series."""
        keys = [self.item_column] if name == "item_metadata" else self.key_columns
        needed = keys + ([] if name == "item_metadata" else [self.timestamp_column]) + (
            [self.target_column] if name == "target" else [])
        fields = [("series", self.item_column, DOMAINS[self.domain][0])] + (
            [("target", self.target_column, DOMAINS[self.domain][1])] if name == "target" else []) + (
            [] if name == "item_metadata" else [("timestamp", self.timestamp_column, TIMESTAMP)])
        said = [f"the {field} {column!r}" + ("" if column == default else " as given") for field, column, default
                in fields]
        said = ", ".join(said[:-1]) + " and " + said[-1] if len(said) > 1 else said[0]
        check_columns(table, needed, f"The {name} table", f" (the {self.domain} domain's names unless given "
                                                          f"otherwise: {said})")
        for column in keys:
            table[column] = table[column].where(table[column].isna(), table[column].astype(str))
        return table

    @property
    def key_columns(self):
        return [self.item_column, *self.dimensions]

    def _check_metadata(self):
        metadata = self.tables["item_metadata"]
        if metadata is None:
            return
        repeated = metadata[self.item_column][metadata[self.item_column].duplicated()]
        if len(repeated):
            raise ValueError(f"The item_metadata table lists item {shown(repeated.iloc[0])!r} more than once.")

    def cold_start_items(self):
        """Items of the item metadata with no row in the target table: forecast from the items most like
        them (`kerasts.data.cold_start_histories`). None with `dimensions` (a new item has no store yet)."""
        metadata = self.tables["item_metadata"]
        if metadata is None or self.dimensions:
            return []
        return sorted(set(metadata[self.item_column]) - set(self.tables["target"][self.item_column]))

    def _check_cold_start(self):
        related = self.tables["related"]
        if related is None or self.dimensions:
            return
        known = set(self.tables["target"][self.item_column])
        if self.tables["item_metadata"] is not None:
            known |= set(self.tables["item_metadata"][self.item_column])
        strangers = sorted(set(related[self.item_column].dropna()) - known)
        if strangers:
            raise ValueError(f"The related table has items with no target history and no item metadata: {strangers[:5]}. "
                             "A cold-start item needs a row in the item metadata to be forecast from similar items.")

    def category_columns(self):
        """The item-metadata attributes, each used as a category: every column besides the series field."""
        metadata = self.tables["item_metadata"]
        if metadata is None:
            return []
        return [column for column in metadata.columns if column != self.item_column]

    def history_length(self):
        """Steps of the frequency's grid the target covers."""
        if self._length is None:
            self._length = align_target(self.tables["target"], self.frequency, self.item_column, self.dimensions,
                                        self.timestamp_column, self.target_column).target.shape[1]
        return self._length

    def related_columns(self):
        """The related table's covariate columns (all but the keys and timestamp)."""
        related = self.tables["related"]
        if related is None:
            return []
        return [column for column in related.columns if column not in self.key_columns + [self.timestamp_column]]

    def _cold_start_histories(self, panel, cold):
        """Cold items' histories from the items sharing most of their attributes, marked as filled in
        (inputs, never training targets or scored actuals, whatever `train_on_filled` says)."""
        if panel.static_categories is None:
            raise ValueError(f"Items {cold[:5]} have no target history, and the item metadata has no attribute "
                             "(e.g. a category) to find similar items by: add one, or give them target history.")
        rows = np.flatnonzero(panel.keys[self.item_column].isin(cold).to_numpy())
        bare = rows[(panel.static_categories[rows] == 0).all(axis=1)]
        if bare.size:
            raise ValueError(f"Cold-start items {panel.series_ids[bare][:5].tolist()} have no attribute value in the "
                             "item metadata: nothing says which items they are like.")
        target, filled = cold_start_histories(panel.target, panel.static_categories)
        return dataclasses.replace(panel, target=target,
                                   filled=filled if panel.filled is None else panel.filled | filled)

    def _related_options(self, filling):
        return self.item_column, self.dimensions, self.timestamp_column, self.related_aggregation, filling

    def check_filling(self, filling):
        """`filling` (attribute -> Forecast's filling parameters) checked against this group's target and
        related columns, with the target's defaults resolved (`kerasts.data.filling.check_filling`)."""
        return check_filling(filling, self.target_column, self.related_columns())

    def panel(self, forecast_horizon=0, filling=None, train_on_filled=False):
        """The target on the frequency's grid with the related series (covering `forecast_horizon`
        steps beyond the data) and the item attributes attached (`TimeSeriesPanel`).

        Missing values are filled as `filling` says (Forecast's filling featurization, see
        `kerasts.data.filling`; the target's defaults are zero middle and back fill, as Forecast's).
        Filled target steps are model inputs but not training targets or scored actuals
        (`TimeSeriesPanel.filled`); `train_on_filled=True` makes them plain data everywhere.
        """
        filling = self.check_filling(filling)
        key = (forecast_horizon, json.dumps(filling, sort_keys=True), bool(train_on_filled))
        if key not in self._panels:
            panel = align_target(self.tables["target"], self.frequency, self.item_column, self.dimensions,
                                 self.timestamp_column, self.target_column)
            target, filled = fill_target(panel.target, filling[self.target_column])
            panel = dataclasses.replace(panel, target=target, filled=None if train_on_filled else filled)
            cold = self.cold_start_items()
            if cold:
                panel = _with_series(panel, self.item_column, cold)
            related = self.tables["related"]
            known = [column for column in self.related_columns() if column not in self.past_only_columns]
            if known:
                values, names = align_related(related, panel, forecast_horizon, known, *self._related_options(filling))
                panel = panel.with_related(covariates=values, covariate_names=names)
            if self.past_only_columns:  # no future steps: only the history is needed
                values, names = align_related(related, panel, 0, self.past_only_columns,
                                              *self._related_options(filling))
                panel = panel.with_related(past_covariates=values, past_covariate_names=names)
            columns = self.category_columns()
            if columns:
                metadata = self.tables["item_metadata"]
                encoder = CategoryEncoder.fit(metadata, columns, self.item_column)
                panel = panel.with_related(static_categories=encoder.encode(metadata, panel.keys[self.item_column],
                                                                            self.item_column),
                                           cardinalities=encoder.cardinalities, category_names=columns,
                                           category_vocabularies=list(encoder.vocabularies.values()))
            if cold:
                panel = self._cold_start_histories(panel, cold)
            self._panels[key] = panel
        return self._panels[key]


def _with_series(panel, item_column, items):
    """The panel with rows for `items` (never observed) added, series kept sorted by key."""
    keys = pd.concat([panel.keys, pd.DataFrame({item_column: items})], ignore_index=True)
    order = np.argsort(keys[item_column].to_numpy(dtype=str), kind="stable")
    target = np.vstack([panel.target, np.full((len(items), panel.target.shape[1]), np.nan)])
    filled = None if panel.filled is None else np.vstack([panel.filled, np.zeros((len(items),) + panel.filled.shape[1:],
                                                                               dtype=bool)])[order]
    return dataclasses.replace(panel, keys=keys.iloc[order].reset_index(drop=True), target=target[order],
                               filled=filled)


def _apply_schema(table, schema, name):
    """The table with each attribute converted to its schema type; the schema and the table must
    name the same columns."""
    attributes = schema.get("attributes") if isinstance(schema, dict) else None
    if not isinstance(attributes, list) or not attributes:
        raise ValueError(f"The {name} schema must be {{'attributes': [{{'attributeName': ..., 'attributeType': "
                         f"...}}, ...]}}, got {schema!r}.")
    named = {}
    for attribute in attributes:
        if not isinstance(attribute, dict) or set(attribute) != {"attributeName", "attributeType"}:
            raise ValueError(f"Each attribute of the {name} schema needs attributeName and attributeType, got "
                             f"{attribute!r}.")
        if attribute["attributeType"] not in SCHEMA_TYPES:
            raise ValueError(f"The {name} schema gives {attribute['attributeName']!r} the type "
                             f"{attribute['attributeType']!r}; Forecast's types are {list(SCHEMA_TYPES)}.")
        named[attribute["attributeName"]] = attribute["attributeType"]
    missing, extra = sorted(set(named) - set(table.columns)), sorted(set(table.columns) - set(named))
    if missing or extra:
        raise ValueError(f"The {name} schema and table disagree: the table lacks {missing} and the schema lacks "
                         f"{extra}.")
    table = table.copy()
    for column, kind in named.items():
        if kind in ("float", "integer"):
            values = pd.to_numeric(table[column], errors="coerce")
            bad = values.isna() & table[column].notna()
            if bad.any():
                raise ValueError(f"The {name} schema says {column!r} is {kind}, but row {bad.idxmax()!r} holds "
                                 f"{table[column][bad.idxmax()]!r}.")
            if kind == "integer" and not np.all(np.equal(np.mod(values.dropna(), 1), 0)):
                raise ValueError(f"The {name} schema says {column!r} is integer, but it holds fractions.")
            table[column] = values
        elif kind == "string":
            table[column] = table[column].where(table[column].isna(), table[column].astype(str))
    return table
