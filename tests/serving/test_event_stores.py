"""Every event store keeps the same contract: SQLite (the default) and PostgreSQL, a real server started
here from the pgserver wheel (its own data directory, a Unix socket, stopped at the end)."""

import itertools
import sqlite3
import warnings

import pytest

from kerasts.serving.event_store import PostgreSQLEventStore, SQLiteEventStore, open_event_store

_databases = itertools.count()


@pytest.fixture(scope="module")
def postgresql(tmp_path_factory):
    # The test extra installs pgserver wherever it has PostgreSQL's binaries (x86-64 Linux, macOS).
    pgserver = pytest.importorskip("pgserver", reason="pgserver has no PostgreSQL binaries for this platform")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs: no XDG_RUNTIME_DIR on a CI machine
        server = pgserver.get_server(tmp_path_factory.mktemp("postgresql"), cleanup_mode="stop")
    yield server
    server.cleanup()


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    """A new empty database's URL, per store."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/events.db"
    server = request.getfixturevalue("postgresql")
    name = f"events_{next(_databases)}"
    server.psql(f"CREATE DATABASE {name};")
    return server.get_uri(name)


def _record(event_id, user="u1", sent_at=1.7e9):
    return {"event_id": event_id, "tracking_id": "t", "user_id": user, "session_id": "s", "event_type": "click",
            "item_id": "i1", "sent_at": sent_at, "event_value": None, "properties": '{"a": 1}', "impression": "i1|i2",
            "recommendation_id": "r1"}


def test_each_store_keeps_trackers_events_once_and_rows_in_commit_order_across_connections(url):
    store = open_event_store(url)
    assert isinstance(store, SQLiteEventStore if url.startswith("sqlite") else PostgreSQLEventStore)
    tracker = store.create_tracker()
    assert store.add_events([_record("e1"), _record("e2", user="u2", sent_at=1.7e9 + 0.5)]) == [True, True]
    assert store.add_events([_record("e3"), _record("e1")]) == [True, False]  # a retried event is stored once
    with pytest.raises(RuntimeError):  # a failed transaction stores none of its events
        with store._transaction() as cursor:
            cursor.execute("INSERT INTO trackers VALUES ('half-done')")
            raise RuntimeError("the process failed here")
    store.add_rows("items", [{"ITEM_ID": "i9", "GENRE": "drama"}])
    store.add_rows("items", [{"ITEM_ID": "i8"}])
    store.close()
    again = open_event_store(url)  # a new connection: what was committed is there
    assert again.trackers() == {tracker}
    events = again.events()
    assert [event["event_id"] for event in events] == ["e1", "e2", "e3"]
    assert events[1] == _record("e2", user="u2", sent_at=1.7e9 + 0.5)
    assert again.rows("items") == [{"ITEM_ID": "i9", "GENRE": "drama"}, {"ITEM_ID": "i8"}]
    assert again.rows("users") == []
    with pytest.raises(ValueError, match="Stored rows are"):
        again.rows("orders")
    again.close()


def test_a_campaign_on_postgresql_replays_its_events_after_a_restart(postgresql, tmp_path):
    from test_campaign import LATER, _event, _tables  # noqa: F401 - the campaign tests' tiny data

    from kerasts.personalize import DatasetGroup, create_solution
    from kerasts.serving.campaign import Campaign

    events, items = _tables()
    version = create_solution(DatasetGroup(events, items=items), recipe="popularity-count").create_version(verbose=0)
    postgresql.psql("CREATE DATABASE campaign;")
    url = postgresql.get_uri("campaign")
    campaign = Campaign(version, url)
    tracker = campaign.create_event_tracker()
    user = events["USER_ID"].iloc[0]
    best = campaign.get_recommendations(user_id=user)["itemList"][0]["itemId"]
    assert campaign.put_events(tracker, user, "s", [_event(best, 0)]) == {"stored": 1, "duplicates": 0}
    live = campaign.get_recommendations(user_id=user)
    assert best not in [entry["itemId"] for entry in live["itemList"]]  # the event applied at once
    campaign.close()
    fresh = create_solution(DatasetGroup(events, items=items), recipe="popularity-count").create_version(verbose=0)
    restarted = Campaign(fresh, url)
    assert restarted.get_recommendations(user_id=user) == live
    assert restarted.put_events(tracker, user, "s", [_event(best, 0)]) == {"stored": 0, "duplicates": 1}


def test_a_postgresql_url_that_cannot_be_reached_is_named_without_its_password():
    with pytest.raises(ValueError, match=r"Could not connect to the event database 'postgresql://kerasts:\*\*\*@127"):
        open_event_store("postgresql://kerasts:secret@127.0.0.1:9/x?connect_timeout=2")


def test_a_store_made_before_impressions_were_kept_gains_their_columns_and_keeps_its_events(tmp_path):
    path = tmp_path / "events.db"
    with sqlite3.connect(path) as connection:  # the events table as kerasts made it before
        connection.execute("CREATE TABLE events (sequence INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL "
                           "UNIQUE, tracking_id TEXT NOT NULL, user_id TEXT NOT NULL, session_id TEXT NOT NULL, "
                           "event_type TEXT NOT NULL, item_id TEXT, sent_at DOUBLE PRECISION NOT NULL, "
                           "event_value DOUBLE PRECISION, properties TEXT)")
        connection.execute("INSERT INTO events (event_id, tracking_id, user_id, session_id, event_type, item_id, "
                           "sent_at) VALUES ('old', 't', 'u1', 's', 'click', 'i1', 1.7e9)")
    store = open_event_store(path)
    assert store.add_events([_record("new")]) == [True]
    old, new = store.events()
    assert (old["event_id"], old["impression"], old["recommendation_id"]) == ("old", None, None)
    assert new == _record("new")
    store.close()
