"""Amazon Personalize's filter expressions, parsed once and applied inside the ranking.

The forms supported (Personalize's common ones), chained with `|`:

    EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("purchase")
    INCLUDE ItemID WHERE Items.GENRE IN ($GENRES) AND Items.PRICE <= 100
    EXCLUDE ItemID WHERE Items.PRICE > 100 OR Items.BRAND = "acme"
    EXCLUDE ItemID WHERE Items.RATING IN ("R") IF CurrentUser.AGE < 18
    INCLUDE ItemID WHERE Items.PRICE < CurrentItem.PRICE AND Items.GENRE IN CurrentItem.GENRE

`Items.FIELD` conditions test the items table (a multi-valued `a|b` field matches when any value does);
`Interactions.FIELD` conditions select the items the requesting user has events of that kind on (event
types, as Personalize matches them, ignore case, and `"*"` stands for every type). An expression may end
with `IF` and `CurrentUser.FIELD` conditions joined by `AND` (Personalize's user-metadata conditions):
the expression applies only to a user whose row of the users table meets them all, and to no one else (a
user without a row or without a value of the field, or a request with no user). Operators: `IN`, `NOT
IN`, `=`, `!=`, `<`, `<=`, `>`, `>=`; values are quoted strings, numbers or `$PARAMETERS` given at
request time (`filter_values={"GENRES": '"comedy","drama"'}` as Personalize passes them, or a list). An
item passes when every INCLUDE expression selects it and no EXCLUDE expression does. `CurrentItem.FIELD` in
place of a value (or of a parenthesized list after `IN`) is that field of the item a related-items request is
for (all its `a|b` values); a condition whose current item has no value there selects nothing.
"""

import dataclasses
import re

import numpy as np
import pandas as pd

from kerasts.data.interactions import split_multi_value
from kerasts.data.item_metadata import rows_by_id

_TOKEN = re.compile(r"""\s*(?:(?P<string>"[^"]*")|(?P<number>-?\d+(?:\.\d+)?)
                        |(?P<parameter>\$[A-Za-z_][A-Za-z0-9_]*)|(?P<operator><=|>=|!=|=|<|>)
                        |(?P<punct>[(),|.])|(?P<word>[A-Za-z_][A-Za-z0-9_]*))""", re.VERBOSE)
_COMPARISONS = {"=", "!=", "<", "<=", ">", ">="}


@dataclasses.dataclass(frozen=True)
class Condition:
    dataset: str  # "Items", "Interactions" or "CurrentUser"
    field: str
    operator: str  # IN, NOT IN, =, !=, <, <=, >, >=
    values: tuple  # literals and "$PARAMETER" names


@dataclasses.dataclass(frozen=True)
class CurrentItemField:
    """A value read from the field of the item the request is for (`CurrentItem.FIELD`)."""
    field: str


@dataclasses.dataclass(frozen=True)
class Expression:
    action: str  # INCLUDE or EXCLUDE
    conditions: tuple  # Conditions
    joins: tuple  # "AND" / "OR" between consecutive conditions
    user_conditions: tuple = ()  # CurrentUser Conditions after IF, all to hold


def _tokens(text):
    tokens, position = [], 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None:
            position += len(text[position:]) - len(text[position:].lstrip())
            raise ValueError(f"Filter expression: unexpected character {text[position]!r} at position {position}.")
        kind = match.lastgroup
        tokens.append((kind, match.group(kind), match.start(kind)))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, text):
        self.text, self.tokens, self.index = text, _tokens(text), 0

    def peek(self):
        return self.tokens[self.index] if self.index < len(self.tokens) else ("end", "", len(self.text))

    def fail(self, expected):
        kind, value, position = self.peek()
        found = "the end" if kind == "end" else repr(value)
        raise ValueError(f"Filter expression: expected {expected} at position {position}, found {found}.")

    def word(self, *values):
        kind, value, _ = self.peek()
        if kind != "word" or (values and value.upper() not in values):
            self.fail(" or ".join(values) if values else "a name")
        self.index += 1
        return value.upper() if values else value

    def value(self):
        kind, value, _ = self.peek()
        if kind == "string":
            self.index += 1
            return value[1:-1]
        if kind == "number":
            self.index += 1
            return float(value)
        if kind == "parameter":
            self.index += 1
            return value
        if kind == "word" and value.upper() == "CURRENTITEM":
            return self.current_item()
        self.fail('a value ("text", a number, $PARAMETER or CurrentItem.FIELD)')

    def current_item(self):
        self.word("CURRENTITEM")
        if self.peek()[1] != ".":
            self.fail("'.'")
        self.index += 1
        return CurrentItemField(self.word())

    def expressions(self):
        expressions = [self.expression()]
        while self.peek()[1] == "|":
            self.index += 1
            expressions.append(self.expression())
        if self.peek()[0] != "end":
            self.fail("'|' or the end")
        return expressions

    def expression(self):
        action = self.word("INCLUDE", "EXCLUDE")
        self.word("ITEMID")
        self.word("WHERE")
        conditions, joins = [self.condition()], []
        while self.peek()[0] == "word" and self.peek()[1].upper() in ("AND", "OR"):
            joins.append(self.word("AND", "OR"))
            conditions.append(self.condition())
        user_conditions = []
        if self.peek()[0] == "word" and self.peek()[1].upper() == "IF":
            self.index += 1
            user_conditions.append(self.condition("CURRENTUSER"))
            while self.peek()[0] == "word" and self.peek()[1].upper() == "AND":
                self.index += 1
                user_conditions.append(self.condition("CURRENTUSER"))
        return Expression(action, tuple(conditions), tuple(joins), tuple(user_conditions))

    def condition(self, *datasets):
        dataset = self.word(*(datasets or ("ITEMS", "INTERACTIONS")))
        dataset = {"ITEMS": "Items", "INTERACTIONS": "Interactions", "CURRENTUSER": "CurrentUser"}[dataset]
        if self.peek()[1] != ".":
            self.fail("'.'")
        self.index += 1
        field = self.word()
        kind, value, _ = self.peek()
        if kind == "operator":
            self.index += 1
            return Condition(dataset, field, value, (self.value(),))
        operator = self.word("IN", "NOT")
        if operator == "NOT":
            self.word("IN")
            operator = "NOT IN"
        if self.peek()[0] == "word" and self.peek()[1].upper() == "CURRENTITEM":
            return Condition(dataset, field, operator, (self.current_item(),))
        if self.peek()[1] != "(":
            self.fail("'(' or CurrentItem.FIELD")
        self.index += 1
        values = [self.value()]
        while self.peek()[1] == ",":
            self.index += 1
            values.append(self.value())
        if self.peek()[1] != ")":
            self.fail("',' or ')'")
        self.index += 1
        return Condition(dataset, field, operator, tuple(values))


class Filter:
    """A parsed filter expression (see the module docstring), checked against the dataset's fields.

    Args:
        expression: the filter text.
        items: the items table (ITEM_ID and metadata) or None.
        interactions: the interactions table the solution version was trained on.
        user_interactions: `user_id -> ` that user's rows of the table (default: read from `interactions`);
            a solution version passes its own, which adds the events put since training.
        users: the users table (USER_ID and metadata) or None, for `IF CurrentUser.FIELD` conditions (a
            user's last row counts).
        user_row: `user_id -> ` that user's fields (a dict) or None (default: their row of `users`); a solution
            version passes its own, which reads the users put since training.
    """

    def __init__(self, expression, items, interactions, item_column="ITEM_ID", user_column="USER_ID",
                 user_interactions=None, users=None, user_row=None):
        if not isinstance(expression, str) or not expression.strip():
            raise ValueError(f"A filter expression must be non-empty text, got {expression!r}.")
        self.expression = expression
        self.expressions = _Parser(expression).expressions()
        self.items, self.interactions = items, interactions
        self.item_column, self.user_column = item_column, user_column
        self._items_selections = {}
        self._user_interactions = user_interactions or (
            lambda user_id: interactions[interactions[user_column] == str(user_id)])
        self._user_row = user_row or (lambda user_id: self._table_user_rows().get(user_id))
        self.users, self._user_rows, self._item_rows = users, None, None
        tables = {"Items": (items, item_column), "Interactions": (interactions, item_column),
                  "CurrentUser": (users, user_column)}
        for expression_ in self.expressions:
            for condition in expression_.conditions + expression_.user_conditions:
                table, key = tables[condition.dataset]
                source = "Users" if condition.dataset == "CurrentUser" else condition.dataset
                if table is None:
                    raise ValueError(f"The filter tests {condition.dataset}.{condition.field}, but the dataset group "
                                     f"has no {source} table.")
                if condition.field not in table.columns:
                    fields = [column for column in table.columns if column != key]
                    raise ValueError(f"The filter tests {condition.dataset}.{condition.field}, which the dataset "
                                     f"group lacks; {source} has {fields}.")
                for value in condition.values:
                    if isinstance(value, CurrentItemField) and (items is None or value.field not in items.columns):
                        fields = [] if items is None else [column for column in items.columns if column != item_column]
                        raise ValueError(f"The filter reads CurrentItem.{value.field}, which the dataset group lacks; "
                                         f"Items has {fields or 'no table'}.")

    def _values(self, condition, filter_values, current_item):
        resolved = []
        for value in condition.values:
            if isinstance(value, CurrentItemField):
                resolved += self._current_item_values(value.field, current_item)
            elif isinstance(value, str) and value.startswith("$"):
                name = value[1:]
                if name not in filter_values:
                    raise ValueError(f"The filter needs a value for ${name}: give it in `filter_values` "
                                     f"(`filterValues` in a request or batch input line, `--filter-value {name}=...` "
                                     "on the CLI).")
                given = filter_values[name]
                if isinstance(given, str):  # Personalize's form: '"comedy","drama"'
                    given = [part.strip().strip('"') for part in given.split(",")]
                resolved += list(given) if isinstance(given, (list, tuple)) else [given]
            else:
                resolved.append(value)
        return resolved

    def _current_item_values(self, field, item_id):
        """The values of the current item's `field`: a number, or its text's `a|b` parts; none where it has none."""
        if item_id is None:
            raise ValueError(f"The filter reads CurrentItem.{field}, the field of the item a related-items request is "
                             "for: give `item_id` (`itemId` in a request or batch input line, `--item` on the CLI).")
        if self._item_rows is None:  # made at the first request that needs it: item id -> its last row
            self._item_rows = rows_by_id(self.items, self.item_column)
        value = self._item_rows.get(str(item_id), {}).get(field)
        if value is None or pd.isna(value):
            return []
        return [float(value)] if isinstance(value, (int, float)) else split_multi_value([value])[0]

    def _matches(self, condition, column, filter_values, current_item=None):
        """A boolean per row of `column` (a Series of raw values)."""
        values = self._values(condition, filter_values, current_item)
        if not values and any(isinstance(value, CurrentItemField) for value in condition.values):
            return np.zeros(len(column), dtype=bool)  # a current item without a value there: selects nothing
        if condition.operator in ("IN", "NOT IN", "=", "!=") and not all(isinstance(v, float) for v in values):
            wanted = {str(value) for value in values}
            parts = split_multi_value(column)
            if (condition.dataset, condition.field) == ("Interactions", "EVENT_TYPE"):
                # As Personalize matches event types: case ignored, and "*" stands for every type.
                wanted = {value.lower() for value in wanted}
                parts = [{part.lower() for part in row} | ({"*"} if row and "*" in wanted else set()) for row in parts]
            hit = np.array([bool(wanted & set(row)) for row in parts], dtype=bool)
            return ~hit if condition.operator in ("NOT IN", "!=") else hit
        numbers = pd.to_numeric(column, errors="coerce").to_numpy(dtype="float64")
        if condition.operator in ("IN", "NOT IN", "=", "!="):
            hit = np.isin(numbers, np.asarray(values, dtype="float64"))
            return ~hit if condition.operator in ("NOT IN", "!=") else hit
        if len(values) != 1:
            raise ValueError(f"{condition.dataset}.{condition.field} {condition.operator} compares one value.")
        try:
            bound = float(values[0])
        except (TypeError, ValueError):
            raise ValueError(f"{condition.dataset}.{condition.field} {condition.operator} compares a number, got "
                             f"{values[0]!r}.") from None
        return {"<": numbers < bound, "<=": numbers <= bound, ">": numbers > bound, ">=": numbers >= bound}[
            condition.operator]

    def _selected(self, expression, user_id, filter_values, current_item):
        """The item ids an expression selects (an Items-only one without CurrentItem is the same for every
        request with these values: kept)."""
        items_only = all(condition.dataset == "Items" and not any(isinstance(value, CurrentItemField)
                                                                  for value in condition.values)
                         for condition in expression.conditions)
        key = (expression, tuple(sorted((name, str(value)) for name, value in filter_values.items())))
        if items_only and key in self._items_selections:
            return self._items_selections[key]
        selected = None
        for position, condition in enumerate(expression.conditions):
            if condition.dataset == "Items":
                table = self.items
            else:
                table = self._user_interactions(user_id) if user_id is not None else self.interactions.iloc[:0]
            ids = set(table[self.item_column][self._matches(condition, table[condition.field], filter_values,
                                                            current_item)])
            if selected is None:
                selected = ids
            elif expression.joins[position - 1] == "AND":
                selected &= ids
            else:
                selected |= ids
        if items_only:
            self._items_selections[key] = selected
        return selected

    def _applies(self, expression, user_id, filter_values, current_item):
        """Whether the expression's `IF CurrentUser` conditions hold for the user (no conditions: always)."""
        if not expression.user_conditions:
            return True
        row = None if user_id is None else self._user_row(str(user_id))
        return row is not None and all(
            row.get(condition.field) is not None and not pd.isna(row[condition.field])
            and bool(self._matches(condition, pd.Series([row[condition.field]]), filter_values, current_item)[0])
            for condition in expression.user_conditions)

    def _table_user_rows(self):
        if self._user_rows is None:  # made at the first request that needs it: user id -> their last row
            self._user_rows = rows_by_id(self.users, self.user_column)
        return self._user_rows

    def allowed(self, item_ids, user_id=None, filter_values=None, item_id=None):
        """A boolean per id of `item_ids`: whether the filter lets it through for this user (and for the item
        a related-items request is for, which `CurrentItem.FIELD` reads)."""
        filter_values = dict(filter_values or {})
        ids = np.asarray(item_ids, dtype=object)
        allowed = np.ones(len(ids), dtype=bool)
        for expression in self.expressions:
            if not self._applies(expression, user_id, filter_values, item_id):
                continue
            selected = np.isin(ids, list(self._selected(expression, user_id, filter_values, item_id)))
            allowed &= selected if expression.action == "INCLUDE" else ~selected
        return allowed
