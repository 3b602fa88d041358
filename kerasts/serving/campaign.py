"""Amazon Personalize's campaign and event tracker: a solution version answering live, its events durable."""

import json
import re
import threading
import uuid

import pandas as pd

from kerasts._checks import finite_number, json_object
from kerasts.data.item_metadata import with_rows
from kerasts.data.timestamps import epoch_seconds
from kerasts.personalize.dataset_group import ITEM_COLUMN, USER_COLUMN, DatasetGroup
from kerasts.serving.event_store import EventStore, open_event_store
from kerasts.personalize.solution import SolutionVersion

# Personalize's limits: events per PutEvents call, users or items per PutUsers / PutItems call.
MAX_EVENTS, MAX_ROWS = 10, 10
MAX_ID_LENGTH = 256


class Campaign:
    """A deployed `SolutionVersion`: GetRecommendations and GetPersonalizedRanking answered from its live
    state while PutEvents, PutUsers and PutItems change it, each write committed to an `EventStore`
    before it is acknowledged.

    An event changes its user's next recommendations at once (`SolutionVersion.put_events`). Events whose
    `sentAt` is after the version's training cut-off (the latest TIMESTAMP it learned) are applied; earlier
    ones are stored for the next training only, the same live and on replay. At start the stored users
    and items are put again and the stored events replayed in commit order, so a restarted campaign
    answers as the one before it did. `stored_interactions()` gives the events in the Interactions
    layout, to train the next version on.

    Requests are answered in batches (`answer`), one batch at a time: concurrent PutEvents calls are
    committed in one transaction (one disk flush for all) and then applied, and concurrent
    GetRecommendations scored in one model call. A server hands it whatever requests are waiting
    (`kerasts.serving.RequestBatcher`); the methods below answer one request as a batch of one. Within a
    batch the writes come first (PutEvents, then PutUsers and PutItems in order), so every answer reflects
    every write acknowledged before it was asked.

    Args:
        version: the `SolutionVersion` to serve.
        store: an `EventStore`, or a database URL for `open_event_store` (e.g. `"events.db"`).

    Example:

    ```python
    campaign = Campaign(load_solution_version("solution/"), "events.db")
    tracking_id = campaign.create_event_tracker()
    campaign.put_events(tracking_id, "u1", "s1", [{"eventType": "click", "itemId": "42", "sentAt": 1.7e9}])
    campaign.get_recommendations(user_id="u1")
    ```
    """

    def __init__(self, version, store):
        if not isinstance(version, SolutionVersion):
            raise TypeError(f"`version` must be a kerasts.personalize.SolutionVersion (load_solution_version(...)), "
                            f"got {type(version).__name__}.")
        self.version = version
        self.store = store if isinstance(store, EventStore) else open_event_store(store)
        self.cutoff = float(version.training_events()["TIMESTAMP"].max())
        self.users = {}  # PutUsers' rows by user id
        self._lock = threading.Lock()  # one batch at a time
        self._trackers = self.store.trackers()
        self._replay()

    # Start.

    def _replay(self):
        users, items = self.store.rows("users"), self.store.rows("items")
        self.users.update({row[USER_COLUMN]: row for row in users})
        if users and self.version.user_fields is not None:
            self.version.put_users(users)
        if items:
            self.version.put_items(items)
        pending = []  # consecutive events of one user and session are applied together
        for record in self.store.events():
            if record["sent_at"] <= self.cutoff:
                continue
            if pending and (pending[-1]["user_id"], pending[-1]["session_id"]) != (record["user_id"],
                                                                                   record["session_id"]):
                self._apply([pending])
                pending = []
            pending.append(record)
        if pending:
            self._apply([pending])

    def _apply(self, calls):
        """Applies calls' event records (each call one user's, every user at most once) in one batch."""
        if not calls:  # every event a duplicate or from before the cut-off: nothing to read
            return
        fields = _property_fields(self.version.interactions.columns)
        self.version.put_events_batch([(records[0]["user_id"], [_interaction(record, fields) for record in records],
                                        records[0]["session_id"]) for records in calls])

    # Requests.

    def answer(self, requests):
        """Answers a batch of requests, each `(operation, keyword arguments)` of one of the methods below
        (`"put_events"`, `"put_users"`, `"put_items"`, `"get_recommendations"`, `"get_personalized_ranking"`).

        Returns:
            Per request, its answer, or in its place the ValueError or TypeError it raised (nothing of a
            refused write is stored).
        """
        for operation, _ in requests:
            if operation not in _OPERATIONS:
                raise ValueError(f"Unknown campaign operation {operation!r}; the operations are {_OPERATIONS}.")
        answers = [None] * len(requests)
        positions = {operation: [position for position, (asked, _) in enumerate(requests) if asked == operation]
                     for operation in _OPERATIONS}
        with self._lock:
            self._put_events(positions["put_events"], requests, answers)
            for position in positions["put_users"] + positions["put_items"] + positions["get_personalized_ranking"]:
                operation, arguments = requests[position]
                try:
                    answers[position] = getattr(self, f"_{operation}")(**arguments)
                except (ValueError, TypeError) as error:
                    answers[position] = error
            recommendations = positions["get_recommendations"]
            batch = self.version.get_recommendations_batch([requests[position][1] for position in recommendations])
            for position, answer in zip(recommendations, batch):
                answers[position] = answer
        return answers

    def _one(self, operation, arguments):
        answer, = self.answer([(operation, arguments)])
        if isinstance(answer, Exception):
            raise answer
        return answer

    def create_event_tracker(self):
        """A new tracking id for PutEvents (stored: it stays valid across restarts)."""
        tracking_id = self.store.create_tracker()
        self._trackers.add(tracking_id)
        return tracking_id

    def _check_tracker(self, tracking_id):
        if not isinstance(tracking_id, str) or tracking_id not in self._trackers:
            self._trackers = self.store.trackers()  # one may have been made by another process (the CLI)
            if tracking_id not in self._trackers:
                raise ValueError(f"trackingId: no event tracker {tracking_id!r}; create one with "
                                 "`kerasts personalize create-event-tracker`.")

    def put_events(self, tracking_id, user_id, session_id, events):
        """PutEvents: `events` (at most `MAX_EVENTS` dicts of `eventType`, `sentAt` in epoch seconds,
        `itemId`, optional `eventId`, `eventValue`, `properties`) of a user's session, checked whole,
        committed in one transaction, then applied. A user id may be None (an anonymous visitor, known
        by the session id). An `eventId` already stored is not stored again, so a retried call is
        harmless; give event ids for that (one is made up when missing).

        Returns:
            `{"stored": n, "duplicates": n}`.

        Raises:
            ValueError naming the field (e.g. `eventList[2].sentAt`) for anything malformed; nothing is
            stored then.
        """
        return self._one("put_events", {"tracking_id": tracking_id, "user_id": user_id, "session_id": session_id,
                                        "events": events})

    def _put_events(self, positions, requests, answers):
        """The batch's PutEvents: each checked, then committed together and applied in order, in rounds in
        which a user appears once (a user's later call is checked against the state their earlier one left)."""
        checked = {}
        for position in positions:
            try:
                checked[position] = self._event_records(**requests[position][1])
            except (ValueError, TypeError) as error:
                answers[position] = error
        while checked:
            this_round, users = [], set()
            for position, records in checked.items():
                if records[0]["user_id"] not in users:
                    users.add(records[0]["user_id"])
                    this_round.append(position)
            admitted = []
            for position in this_round:
                records = checked.pop(position)
                try:
                    self.version.check_events(records[0]["user_id"], records[0]["session_id"])
                    admitted.append((position, records))
                except ValueError as error:
                    answers[position] = error
            if not admitted:
                continue
            stored = iter(self.store.add_events([record for _, records in admitted for record in records]))
            applied = []
            for position, records in admitted:
                new = [next(stored) for _ in records]
                applied.append([record for record, is_new in zip(records, new)
                                if is_new and record["sent_at"] > self.cutoff])
                answers[position] = {"stored": sum(new), "duplicates": len(records) - sum(new)}
            self._apply([records for records in applied if records])

    def _event_records(self, tracking_id, user_id, session_id, events):
        self._check_tracker(tracking_id)
        session_id = _identifier("sessionId", session_id)
        user_id = session_id if user_id is None else _identifier("userId", user_id)
        if not isinstance(events, list) or not 1 <= len(events) <= MAX_EVENTS:
            raise ValueError(f"eventList must be a list of 1 to {MAX_EVENTS} events, got "
                             f"{len(events) if isinstance(events, list) else type(events).__name__}.")
        records = [_event_record(f"eventList[{position}]", event, tracking_id, user_id, session_id)
                   for position, event in enumerate(events)]
        if len({record["event_id"] for record in records}) < len(records):
            raise ValueError("eventList: two events share an eventId.")
        return records

    def put_users(self, users):
        """PutUsers: `users` (at most `MAX_ROWS` dicts with `userId` and `properties`, a JSON object or
        its text), checked against the Users table where the version has one, stored and kept in `users`
        (and put into the version: filters' `IF CurrentUser` conditions read them at once)."""
        return self._one("put_users", {"users": users})

    def _put_users(self, users):
        fields = self.version.user_fields
        rows = [{USER_COLUMN: _identifier(f"users[{position}].userId", user.get("userId")),
                 **schema_fields(_properties(f"users[{position}].properties", user.get("properties")), fields or ())}
                for position, user in enumerate(_rows("users", users))]
        if fields is not None:
            rows = self.version.check_users(rows)
        self.store.add_rows("users", rows)
        if fields is not None:
            self.version.put_users(rows)
        self.users.update({row[USER_COLUMN]: row for row in rows})
        return {}

    def put_items(self, items):
        """PutItems: `items` (at most `MAX_ROWS` dicts with `itemId` and `properties`, fields of the Items
        table), checked against the table, stored and put into the version (filters see them; the
        two-tower with item features recommends them)."""
        return self._one("put_items", {"items": items})

    def _put_items(self, items):
        fields = () if self.version.items is None else self.version.items.columns
        rows = [{ITEM_COLUMN: _identifier(f"items[{position}].itemId", item.get("itemId")),
                 **schema_fields(_properties(f"items[{position}].properties", item.get("properties")), fields)}
                for position, item in enumerate(_rows("items", items))]
        rows = self.version.check_items(rows)
        self.store.add_rows("items", rows)
        self.version.put_items(rows)
        return {}

    def get_recommendations(self, user_id=None, item_id=None, **options):
        """`SolutionVersion.get_recommendations` on the live state."""
        return self._one("get_recommendations", {"user_id": user_id, "item_id": item_id, **options})

    def get_personalized_ranking(self, user_id, input_list, **options):
        """`SolutionVersion.get_personalized_ranking` on the live state."""
        return self._one("get_personalized_ranking", {"user_id": user_id, "input_list": input_list, **options})

    def _get_personalized_ranking(self, **arguments):
        return self.version.get_personalized_ranking(**arguments)

    def stored_interactions(self):
        """Every stored event as an Interactions table with the version's Interactions fields:
        `stored_interactions(self.store, fields)`."""
        return stored_interactions(self.store, _property_fields(self.version.interactions.columns))

    def close(self):
        self.store.close()


def stored_interactions(store, fields=()):
    """Every event a campaign stored in `store` (an `EventStore`) as an Interactions table (USER_ID, ITEM_ID,
    TIMESTAMP, EVENT_TYPE, EVENT_VALUE, SESSION_ID, then `fields`: further Interactions fields, IMPRESSION and
    RECOMMENDATION_ID from the events' own, the others from their properties as `schema_fields` matches them,
    missing where an event has none), in commit order: the new events of the next training."""
    rows = [{USER_COLUMN: record["user_id"], **_interaction(record, fields), "SESSION_ID": record["session_id"]}
            for record in store.events()]
    columns = [USER_COLUMN, ITEM_COLUMN, "TIMESTAMP", *_BASE_FIELDS, "SESSION_ID", *fields]
    return pd.DataFrame(rows, columns=columns).astype({"TIMESTAMP": "int64"})


def with_stored_data(group, store):
    """`group` (a Personalize `DatasetGroup`) with what a campaign stored in `store` (an `EventStore` or a
    database URL) added, as Personalize's event tracker adds PutEvents' events to the Interactions dataset and
    PutItems' items to the Items one: the tables to train the next version on, FULL or UPDATE.

    Stored events join the Interactions table in its own columns (a table without SESSION_ID or EVENT_TYPE
    does not gain one half empty; its further fields, such as a DEVICE, from the events' properties, which
    Personalize's clients send in camelCase: `device`), except those whose (USER_ID, ITEM_ID, TIMESTAMP) it
    already holds: a version trained on this store before has them. Stored items replace the Items rows with
    their ITEM_ID, and stored users the Users rows with their USER_ID (the latest put wins; a group without
    a Users table gains none: PutUsers' rows then had no schema to be checked against).

    Returns:
        A new `DatasetGroup`; `group` is left as it is.
    """
    opened = not isinstance(store, EventStore)
    store = open_event_store(store) if opened else store
    try:
        events = stored_interactions(store, _property_fields(group.interactions.columns))
        items, users = store.rows("items"), store.rows("users")
    finally:
        if opened:
            store.close()
    keys = [USER_COLUMN, ITEM_COLUMN, "TIMESTAMP"]
    known = pd.MultiIndex.from_frame(group.interactions[keys])
    new = events[~pd.MultiIndex.from_frame(events[keys]).isin(known)]
    interactions = pd.concat([group.interactions, new[[column for column in group.interactions.columns
                                                      if column in new.columns]]], ignore_index=True)
    if items and group.items is None:
        raise ValueError(f"The event store holds {len(items)} PutItems row(s), but the dataset group has no Items "
                         "table to add them to: give the Items table the campaign's solution was trained with.")
    return DatasetGroup(interactions, users=None if group.users is None else with_rows(group.users, users, USER_COLUMN),
                        items=with_rows(group.items, items, ITEM_COLUMN))


_OPERATIONS = ("put_events", "put_users", "put_items", "get_recommendations", "get_personalized_ranking")


_BASE_FIELDS = ("EVENT_TYPE", "EVENT_VALUE")


def _property_fields(columns):
    """The Interactions fields an event's properties fill: every column but the ids, time, type, value and session."""
    return [column for column in columns
            if column not in (USER_COLUMN, ITEM_COLUMN, "TIMESTAMP", *_BASE_FIELDS, "SESSION_ID")]


def _interaction(record, fields=()):
    """A stored event record in the Interactions layout, with the `fields` it gives: Personalize's IMPRESSION and
    RECOMMENDATION_ID from the event's own, the others from its properties."""
    interaction = {ITEM_COLUMN: record["item_id"], "TIMESTAMP": int(record["sent_at"]),
                   "EVENT_TYPE": record["event_type"], "EVENT_VALUE": record["event_value"]}
    if not fields:  # the common table: no properties to read (a live PutEvents applies every event this way)
        return interaction
    properties = schema_fields(json.loads(record["properties"]) if record["properties"] else {}, fields)
    for name, value in (("IMPRESSION", record["impression"]), ("RECOMMENDATION_ID", record["recommendation_id"])):
        if value is not None:
            properties[name] = value
    return {**interaction, **{field: properties.get(field) for field in fields}}


def schema_fields(properties, fields):
    """Properties (of PutEvents, PutUsers, PutItems) keyed by the table's `fields`: Personalize's clients name
    a field in camelCase (`numberOfRatings` for NUMBER_OF_RATINGS, `creationTimestamp` for
    CREATION_TIMESTAMP); a key that is a field as it stands, or that matches none, is kept as given (so a
    check can name it)."""
    fields, named, keys = set(fields), {}, {}
    for key, value in properties.items():
        snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", key).upper()
        name = key if key in fields or snake not in fields else snake
        if name in named:
            raise ValueError(f"properties name the field {name!r} twice: as {keys[name]!r} and as {key!r}.")
        named[name], keys[name] = value, key
    return named


def _identifier(field, value):
    if not isinstance(value, str) or not value or len(value) > MAX_ID_LENGTH:
        raise ValueError(f"{field} must be a non-empty string of at most {MAX_ID_LENGTH} characters, got {value!r}.")
    return value


def _properties(field, value):
    """Personalize sends properties as JSON text; an object is taken too. NaN and Infinity, which Python's
    JSON reads but standard JSON has not, are refused: they would be stored as text no other reader takes."""
    if value is None:
        return {}
    if isinstance(value, str):
        value = json_object(value, field)
    if not isinstance(value, dict):
        raise ValueError(f"{field} must be a JSON object, got {type(value).__name__}.")
    try:
        json.dumps(value, allow_nan=False)
    except ValueError:
        raise ValueError(f"{field} must hold finite numbers (JSON has no NaN or Infinity).") from None
    return value


def _rows(field, rows):
    if not isinstance(rows, list) or not 1 <= len(rows) <= MAX_ROWS:
        raise ValueError(f"{field} must be a list of 1 to {MAX_ROWS} entries.")
    for position, row in enumerate(rows):
        if not isinstance(row, dict):
            raise ValueError(f"{field}[{position}] must be an object, got {type(row).__name__}.")
    return rows


def _event_record(field, event, tracking_id, user_id, session_id):
    if not isinstance(event, dict):
        raise ValueError(f"{field} must be an object, got {type(event).__name__}.")
    known = {"eventId", "eventType", "sentAt", "itemId", "eventValue", "properties", "impression",
             "recommendationId"}
    unknown = sorted(set(event) - known)
    if unknown:
        raise ValueError(f"{field} has unknown field(s) {unknown}; an event has {sorted(known)}.")
    sent_at = epoch_seconds(event.get("sentAt"), f"{field}.sentAt")
    value = event.get("eventValue")
    properties = _properties(f"{field}.properties", event.get("properties"))
    impression, recommendation = event.get("impression"), event.get("recommendationId")
    return {"event_id": _identifier(f"{field}.eventId", event["eventId"]) if "eventId" in event else uuid.uuid4().hex,
            "tracking_id": tracking_id, "user_id": user_id, "session_id": session_id,
            "event_type": _identifier(f"{field}.eventType", event.get("eventType")),
            "item_id": _identifier(f"{field}.itemId", event.get("itemId")), "sent_at": sent_at,
            "event_value": None if value is None else finite_number(value, f"{field}.eventValue"),
            "properties": json.dumps(properties) if properties else None,
            "impression": None if impression is None else _impression(f"{field}.impression", impression),
            "recommendation_id": None if recommendation is None else _identifier(f"{field}.recommendationId",
                                                                                 recommendation)}


def _impression(field, items):
    """PutEvents' `impression` (the item ids shown) as Personalize's IMPRESSION field holds it: `a|b|c`."""
    if not isinstance(items, list) or not items:
        raise ValueError(f"{field} must be a non-empty list of item ids, got {items!r}.")
    return "|".join(_identifier(f"{field}[{position}]", item) for position, item in enumerate(items))
