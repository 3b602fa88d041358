"""Where a campaign keeps what it acknowledged: event trackers, PutEvents' events, PutUsers' users and
PutItems' items. One small interface (`EventStore`) opened by a database URL; SQLite, in the standard
library, is the default, and another database is one registered class (`register_event_store`)."""

import contextlib
import json
import os
import sqlite3
import threading
import uuid

from kerasts._registry import Registry

# What every event record holds, in this order (`sent_at` in epoch seconds, `properties` JSON text).
EVENT_FIELDS = ("event_id", "tracking_id", "user_id", "session_id", "event_type", "item_id", "sent_at",
                "event_value", "properties")
ROW_KINDS = ("users", "items")


class EventStore:
    """What a campaign needs of a database. Every write is one transaction, durable when it returns.

    Subclasses implement:

    - `create_tracker()` → a new tracking id, stored; `trackers()` → the set of them.
    - `add_events(records)`: stores event records (dicts of `EVENT_FIELDS`) in one transaction and returns,
      per record, whether it is new: a record whose `event_id` is already stored is left out, so a retried
      batch stores nothing twice.
    - `events()`: every stored record, in the order they were committed.
    - `add_rows(kind, rows)` / `rows(kind)`: PutUsers' and PutItems' rows (`kind` "users" or "items", each a
      dict of fields), in one transaction / in commit order.
    - `close()`.
    """

    def create_tracker(self):
        raise NotImplementedError

    def trackers(self):
        raise NotImplementedError

    def add_events(self, records):
        raise NotImplementedError

    def events(self):
        raise NotImplementedError

    def add_rows(self, kind, rows):
        raise NotImplementedError

    def rows(self, kind):
        raise NotImplementedError

    def close(self):
        pass


class SQLiteEventStore(EventStore):
    """The embedded default: one SQLite file in WAL mode with `synchronous=FULL`, so a commit has reached
    the disk when it returns and a crash loses no acknowledged write. One connection, used under a lock
    (SQLite writes one transaction at a time anyway; a campaign commits concurrent requests together).

    Args:
        path: the database file (created with its tables when missing).
    """

    def __init__(self, path):
        path = os.fspath(path)
        directory = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(directory):
            raise ValueError(f"There is no directory {directory!r} for the event database {path!r}.")
        self.path = path
        self._lock = threading.Lock()
        try:
            self._connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._connection.execute("PRAGMA journal_mode=WAL")
            self._connection.execute("PRAGMA synchronous=FULL")
            with self._transaction() as cursor:
                cursor.execute("CREATE TABLE IF NOT EXISTS trackers (tracking_id TEXT PRIMARY KEY)")
                cursor.execute("CREATE TABLE IF NOT EXISTS events (sequence INTEGER PRIMARY KEY AUTOINCREMENT, "
                               "event_id TEXT NOT NULL UNIQUE, tracking_id TEXT NOT NULL, user_id TEXT NOT NULL, "
                               "session_id TEXT NOT NULL, event_type TEXT NOT NULL, item_id TEXT, "
                               "sent_at REAL NOT NULL, event_value REAL, properties TEXT)")
                for kind in ROW_KINDS:
                    cursor.execute(f"CREATE TABLE IF NOT EXISTS {kind} (sequence INTEGER PRIMARY KEY "
                                   "AUTOINCREMENT, fields TEXT NOT NULL)")
        except sqlite3.DatabaseError as error:
            raise ValueError(f"{path!r} is not a usable event database: {error}.") from error

    @contextlib.contextmanager
    def _transaction(self):
        with self._lock:
            cursor = self._connection.cursor()
            cursor.execute("BEGIN IMMEDIATE")
            try:
                yield cursor
            except BaseException:
                cursor.execute("ROLLBACK")
                raise
            cursor.execute("COMMIT")

    def _read(self, query):
        with self._lock:
            return self._connection.execute(query).fetchall()

    def create_tracker(self):
        tracking_id = uuid.uuid4().hex
        with self._transaction() as cursor:
            cursor.execute("INSERT INTO trackers VALUES (?)", (tracking_id,))
        return tracking_id

    def trackers(self):
        return {row[0] for row in self._read("SELECT tracking_id FROM trackers")}

    def add_events(self, records):
        placeholders = ", ".join("?" * len(EVENT_FIELDS))
        added = []
        with self._transaction() as cursor:
            for record in records:
                cursor.execute(f"INSERT OR IGNORE INTO events ({', '.join(EVENT_FIELDS)}) VALUES ({placeholders})",
                               tuple(record[field] for field in EVENT_FIELDS))
                added.append(cursor.rowcount == 1)
        return added

    def events(self):
        rows = self._read(f"SELECT {', '.join(EVENT_FIELDS)} FROM events ORDER BY sequence")
        return [dict(zip(EVENT_FIELDS, row)) for row in rows]

    def add_rows(self, kind, rows):
        _check_kind(kind)
        with self._transaction() as cursor:
            cursor.executemany(f"INSERT INTO {kind} (fields) VALUES (?)", [(json.dumps(row),) for row in rows])

    def rows(self, kind):
        _check_kind(kind)
        return [json.loads(row[0]) for row in self._read(f"SELECT fields FROM {kind} ORDER BY sequence")]

    def close(self):
        with self._lock:
            self._connection.close()


def _check_kind(kind):
    if kind not in ROW_KINDS:
        raise ValueError(f"Stored rows are {ROW_KINDS}, got {kind!r}.")


EVENT_STORES = Registry("event store", "kerasts.serving.register_event_store")


def register_event_store(scheme, factory):
    """Adds a database: `factory(url)` → an `EventStore`, for URLs `scheme://...` (e.g. "postgresql")."""
    EVENT_STORES.register(scheme, factory)


def _sqlite_store(url):
    if url.startswith("sqlite:"):
        if not url.startswith("sqlite:///"):
            raise ValueError(f"A SQLite URL is sqlite:///relative/path.db or sqlite:////absolute/path.db, got {url!r}.")
        url = url.removeprefix("sqlite:///")
    return SQLiteEventStore(url)


register_event_store("sqlite", _sqlite_store)


def open_event_store(url):
    """The store at `url`: `sqlite:///path/events.db` or a plain file path (SQLite), or `scheme://...` of a
    registered store."""
    url = os.fspath(url)
    scheme = url.split("://", 1)[0] if "://" in url else "sqlite"
    if scheme not in EVENT_STORES.names():
        raise ValueError(f"No event store for {scheme!r} URLs: the stores are {EVENT_STORES.names()}; add one with "
                         "kerasts.serving.register_event_store.")
    return EVENT_STORES.create(scheme, url)
