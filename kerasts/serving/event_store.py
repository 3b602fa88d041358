"""Where a campaign keeps what it acknowledged: event trackers, PutEvents' events, PutUsers' users and
PutItems' items. One small interface (`EventStore`) opened by a database URL; SQLite, in the standard
library, is the default, and another database is one registered class (`register_event_store`)."""

import contextlib
import json
import os
import sqlite3
import threading
import urllib.parse
import uuid

from kerasts._registry import Registry

# What every event record holds, in this order (`sent_at` in epoch seconds, `properties` JSON text,
# `impression` the item ids shown, `|`-separated as Personalize's IMPRESSION field holds them).
EVENT_FIELDS = ("event_id", "tracking_id", "user_id", "session_id", "event_type", "item_id", "sent_at",
                "event_value", "properties", "impression", "recommendation_id")
# Columns later than the first event tables: added to a store made before them when it is opened.
ADDED_EVENT_COLUMNS = ("impression", "recommendation_id")
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


class SQLEventStore(EventStore):
    """The one SQL implementation of `EventStore`, over a DB-API connection in autocommit mode (each write
    an explicit transaction): four tables, `trackers`, `events` (a sequence number in commit order, a
    unique `event_id`), `users` and `items` (each row's fields as JSON). One connection used under a lock:
    a campaign commits concurrent requests together. `SQLiteEventStore` and `PostgreSQLEventStore` give
    the connection and their dialect (`placeholder`, `sequence`, `begin`)."""

    placeholder = "?"
    sequence = "INTEGER PRIMARY KEY AUTOINCREMENT"
    begin = "BEGIN"

    def __init__(self, connection):
        self._connection = connection
        self._lock = threading.Lock()
        with self._transaction() as cursor:
            cursor.execute("CREATE TABLE IF NOT EXISTS trackers (tracking_id TEXT PRIMARY KEY)")
            cursor.execute(f"CREATE TABLE IF NOT EXISTS events (sequence {self.sequence}, "
                           "event_id TEXT NOT NULL UNIQUE, tracking_id TEXT NOT NULL, user_id TEXT NOT NULL, "
                           "session_id TEXT NOT NULL, event_type TEXT NOT NULL, item_id TEXT, "
                           "sent_at DOUBLE PRECISION NOT NULL, event_value DOUBLE PRECISION, properties TEXT, "
                           "impression TEXT, recommendation_id TEXT)")
            cursor.execute("SELECT * FROM events WHERE 1 = 0")
            present = {column[0] for column in cursor.description}
            for name in ADDED_EVENT_COLUMNS:
                if name not in present:  # a store made by an earlier kerasts: its events have none
                    cursor.execute(f"ALTER TABLE events ADD COLUMN {name} TEXT")
            for kind in ROW_KINDS:
                cursor.execute(f"CREATE TABLE IF NOT EXISTS {kind} (sequence {self.sequence}, fields TEXT NOT NULL)")

    @contextlib.contextmanager
    def _transaction(self):
        with self._lock:
            cursor = self._connection.cursor()
            cursor.execute(self.begin)
            try:
                yield cursor
            except BaseException:
                cursor.execute("ROLLBACK")
                raise
            cursor.execute("COMMIT")

    def _read(self, query):
        with self._lock:
            cursor = self._connection.cursor()
            cursor.execute(query)
            return cursor.fetchall()

    def create_tracker(self):
        tracking_id = uuid.uuid4().hex
        with self._transaction() as cursor:
            cursor.execute(f"INSERT INTO trackers VALUES ({self.placeholder})", (tracking_id,))
        return tracking_id

    def trackers(self):
        return {row[0] for row in self._read("SELECT tracking_id FROM trackers")}

    def add_events(self, records):
        placeholders = ", ".join([self.placeholder] * len(EVENT_FIELDS))
        added = []
        with self._transaction() as cursor:
            for record in records:
                cursor.execute(f"INSERT INTO events ({', '.join(EVENT_FIELDS)}) VALUES ({placeholders}) "
                               "ON CONFLICT (event_id) DO NOTHING", tuple(record[field] for field in EVENT_FIELDS))
                added.append(cursor.rowcount == 1)
        return added

    def events(self):
        rows = self._read(f"SELECT {', '.join(EVENT_FIELDS)} FROM events ORDER BY sequence")
        return [dict(zip(EVENT_FIELDS, row)) for row in rows]

    def add_rows(self, kind, rows):
        _check_kind(kind)
        with self._transaction() as cursor:
            cursor.executemany(f"INSERT INTO {kind} (fields) VALUES ({self.placeholder})",
                               [(json.dumps(row),) for row in rows])

    def rows(self, kind):
        _check_kind(kind)
        return [json.loads(row[0]) for row in self._read(f"SELECT fields FROM {kind} ORDER BY sequence")]

    def close(self):
        with self._lock:
            self._connection.close()


class SQLiteEventStore(SQLEventStore):
    """The embedded default: one SQLite file in WAL mode with `synchronous=FULL`, so a commit has reached
    the disk when it returns and a crash loses no acknowledged write.

    Args:
        path: the database file (created with its tables when missing).
    """

    begin = "BEGIN IMMEDIATE"  # the write lock at the start, not at the first write

    def __init__(self, path):
        path = os.fspath(path)
        directory = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(directory):
            raise ValueError(f"There is no directory {directory!r} for the event database {path!r}.")
        self.path = path
        try:
            connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=FULL")
            super().__init__(connection)
        except sqlite3.DatabaseError as error:
            raise ValueError(f"{path!r} is not a usable event database: {error}.") from error


class PostgreSQLEventStore(SQLEventStore):
    """A PostgreSQL database (`pip install 'kerasts[postgresql]'`, psycopg 3), for a campaign whose events
    live in a managed database: its commits are durable with PostgreSQL's default `synchronous_commit=on`.
    The store owns the tables `trackers`, `events`, `users` and `items` of the database the URL names
    (give it a database of its own).

    Args:
        url: `postgresql://user:password@host:port/database` (libpq's connection URI; `postgres://` too).
    """

    placeholder = "%s"
    sequence = "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"

    def __init__(self, url):
        try:
            import psycopg
        except ImportError as error:
            raise ImportError("A PostgreSQL event store needs psycopg: pip install 'kerasts[postgresql]'.") from error
        self.url = url
        try:
            connection = psycopg.connect(url, autocommit=True)
        except psycopg.Error as error:
            raise ValueError(f"Could not connect to the event database {_without_password(url)!r}: "
                             f"{error}".strip()) from error
        super().__init__(connection)


def _without_password(url):
    """`url` with its password, if any, starred: it goes into error messages and logs."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


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
register_event_store("postgresql", PostgreSQLEventStore)
register_event_store("postgres", PostgreSQLEventStore)


def open_event_store(url):
    """The store at `url`: `sqlite:///path/events.db` or a plain file path (SQLite), or `scheme://...` of a
    registered store."""
    url = os.fspath(url)
    scheme = url.split("://", 1)[0] if "://" in url else "sqlite"
    if scheme not in EVENT_STORES.names():
        raise ValueError(f"No event store for {scheme!r} URLs: the stores are {EVENT_STORES.names()}; add one with "
                         "kerasts.serving.register_event_store.")
    return EVENT_STORES.create(scheme, url)
