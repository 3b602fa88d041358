"""The campaign in process: live events applied at once, stored durably, replayed at start, retried
batches stored once, bad events refused whole; PutItems (checked against the Items table) and filters on
live events."""

import kerasts  # first, to silence TensorFlow's start-up logging

import re  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from kerasts.personalize import DatasetGroup, create_solution, load_solution_version  # noqa: E402
from kerasts.serving.campaign import Campaign, with_stored_data  # noqa: E402
from kerasts.serving.event_store import SQLiteEventStore, open_event_store  # noqa: E402

LATER = 2_000_000_000.0  # after every generated event: applied live


def _tables():
    events = kerasts.data.synthetic_interactions(num_users=40, num_items=50, events_per_user=10, seed=1)
    events["EVENT_TYPE"] = np.where(np.arange(len(events)) % 4 == 0, "purchase", "click")
    items = pd.DataFrame({"ITEM_ID": sorted(events["ITEM_ID"].unique())})
    items["GENRE"] = np.where(np.arange(len(items)) % 2, "comedy", "drama")
    return events, items


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A tiny HRNN solution version, saved: each test loads its own copy of the live state."""
    events, items = _tables()
    version = create_solution(DatasetGroup(events, items=items), recipe="hrnn", settings={
        "hrnn": {"epochs": 1, "units": 8, "embedding_dim": 8, "user_units": 8}}).create_version(verbose=0)
    directory = tmp_path_factory.mktemp("campaign") / "solution"
    version.save(directory)
    return directory


def _event(item, position, sent_at=LATER, **fields):
    return {"eventId": f"e{position}", "eventType": "click", "itemId": item, "sentAt": sent_at + position, **fields}


def _assert_same_list(answer, expected):
    key = "itemList" if "itemList" in answer else "personalizedRanking"
    assert [entry["itemId"] for entry in answer[key]] == [entry["itemId"] for entry in expected[key]]
    np.testing.assert_allclose([entry["score"] for entry in answer[key]], [entry["score"] for entry in expected[key]],
                               rtol=1e-5, atol=1e-7)


def _items(answer):
    return [entry["itemId"] for entry in answer["itemList"]]


def test_events_change_the_next_answer_as_put_events_does_and_survive_a_restart(saved, tmp_path):
    campaign = Campaign(load_solution_version(saved), tmp_path / "events.db")
    tracker = campaign.create_event_tracker()
    user = campaign.version.interactions["USER_ID"].iloc[0]
    before = _items(campaign.get_recommendations(user_id=user, num_results=10))
    catalog = list(campaign.version.recommender.items.ids)
    events = [_event(catalog[3], 0), _event(catalog[7], 1)]
    assert campaign.put_events(tracker, user, "live-1", events) == {"stored": 2, "duplicates": 0}
    after = campaign.get_recommendations(user_id=user, num_results=10)
    reference = load_solution_version(saved)
    reference.put_events(user, [{"ITEM_ID": catalog[3], "TIMESTAMP": int(LATER), "EVENT_TYPE": "click"},
                                {"ITEM_ID": catalog[7], "TIMESTAMP": int(LATER) + 1, "EVENT_TYPE": "click"}],
                         session_id="live-1")
    assert after == reference.get_recommendations(user_id=user, num_results=10) and _items(after) != before
    # A retried call stores and applies nothing again.
    assert campaign.put_events(tracker, user, "live-1", events) == {"stored": 0, "duplicates": 2}
    assert campaign.get_recommendations(user_id=user, num_results=10) == after
    campaign.close()
    restarted = Campaign(load_solution_version(saved), tmp_path / "events.db")
    assert restarted.get_recommendations(user_id=user, num_results=10) == after
    assert list(restarted.stored_interactions()["ITEM_ID"]) == [catalog[3], catalog[7]]
    restarted.put_events(tracker, None, "anonymous-visit", [_event(catalog[1], 5)])  # the session is the user
    assert restarted.version.recommender.session_items("anonymous-visit") == [catalog[1]]


def test_events_before_the_training_cutoff_are_stored_not_applied(saved, tmp_path):
    campaign = Campaign(load_solution_version(saved), tmp_path / "events.db")
    tracker = campaign.create_event_tracker()
    user = campaign.version.interactions["USER_ID"].iloc[0]
    before = campaign.get_recommendations(user_id=user)
    item = campaign.version.recommender.items.ids[0]
    assert campaign.put_events(tracker, user, "s", [_event(item, 0, sent_at=campaign.cutoff - 10)])["stored"] == 1
    assert campaign.get_recommendations(user_id=user) == before and len(campaign.stored_interactions()) == 1


def test_filters_see_live_events(saved, tmp_path):
    campaign = Campaign(load_solution_version(saved), tmp_path / "events.db")
    tracker = campaign.create_event_tracker()
    user = campaign.version.interactions["USER_ID"].iloc[0]
    expression = 'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("purchase")'
    first = _items(campaign.get_recommendations(user_id=user, filter=expression))[0]
    campaign.put_events(tracker, user, "s", [_event(first, 0, eventType="purchase")])
    assert first not in _items(campaign.get_recommendations(user_id=user, filter=expression, num_results=50))


BAD_EVENTS = [
    ("no tracker", dict(tracking_id="nope"), "trackingId: no event tracker 'nope'"),
    ("no session", dict(session_id=""), "sessionId must be a non-empty string"),
    ("too many events", dict(events=[_event("i1", position) for position in range(11)]), "list of 1 to 10 events"),
    ("no events", dict(events=[]), "list of 1 to 10 events"),
    ("milliseconds", dict(events=[_event("i1", 0, sent_at=LATER * 1000)]), r"eventList\[0\].sentAt must be epoch "
                                                                           "seconds.*milliseconds"),
    ("a string time", dict(events=[_event("i1", 0), {**_event("i1", 1), "sentAt": "today"}]),
     r"eventList\[1\].sentAt must be a finite number"),
    ("no item", dict(events=[{"eventType": "click", "sentAt": LATER}]), r"eventList\[0\].itemId must be"),
    ("no event type", dict(events=[{"itemId": "i1", "sentAt": LATER}]), r"eventList\[0\].eventType must be"),
    ("a text value", dict(events=[_event("i1", 0, eventValue="five")]), r"eventList\[0\].eventValue must be a finite"),
    ("bad properties", dict(events=[_event("i1", 0, properties="{oops")]), r"eventList\[0\].properties is not JSON"),
    ("an unknown field", dict(events=[_event("i1", 0, colour="red")]), r"unknown field\(s\) \['colour'\]"),
    ("an impression of text", dict(events=[_event("i1", 0, impression="i1,i2")]),
     r"eventList\[0\].impression must be a non-empty list of item ids"),
    ("a shared event id", dict(events=[_event("i1", 0), _event("i2", 0)]), "two events share an eventId"),
]


@pytest.mark.parametrize("case, changes, message", BAD_EVENTS, ids=[case[0] for case in BAD_EVENTS])
def test_bad_events_are_refused_whole_and_nothing_is_stored(saved, tmp_path, case, changes, message):
    campaign = Campaign(load_solution_version(saved), tmp_path / "events.db")
    call = {"tracking_id": campaign.create_event_tracker(), "user_id": "u1", "session_id": "s",
            "events": [_event("i1", 0)], **changes}
    with pytest.raises(ValueError, match=message):
        campaign.put_events(**call)
    assert campaign.store.events() == [] and campaign.version.recommender.users == {}


def test_a_left_session_is_refused_before_it_is_stored(saved, tmp_path):
    campaign = Campaign(load_solution_version(saved), tmp_path / "events.db")
    tracker = campaign.create_event_tracker()
    item = campaign.version.recommender.items.ids[0]
    campaign.put_events(tracker, "u1", "first", [_event(item, 0)])
    campaign.put_events(tracker, "u1", "second", [_event(item, 1)])
    with pytest.raises(ValueError, match="already left session 'first'"):
        campaign.put_events(tracker, "u1", "first", [_event(item, 2)])
    assert len(campaign.store.events()) == 2


def test_put_items_are_checked_stored_and_seen_by_filters_after_a_restart(saved, tmp_path):
    campaign = Campaign(load_solution_version(saved), tmp_path / "events.db")
    with pytest.raises(ValueError, match=r"no field\(s\) \['COLOUR'\]"):
        campaign.put_items([{"itemId": "new", "properties": {"COLOUR": "red"}}])
    with pytest.raises(ValueError, match=r"items\[0\].itemId must be"):
        campaign.put_items([{"properties": {"GENRE": "comedy"}}])
    assert campaign.store.rows("items") == []
    catalog = campaign.version.recommender.items.ids
    campaign.put_items([{"itemId": catalog[0], "properties": '{"GENRE": "western"}'}])
    campaign.put_users([{"userId": "u1", "properties": {"AGE": 30}}])
    campaign.close()
    restarted = Campaign(load_solution_version(saved), tmp_path / "events.db")
    answer = restarted.get_recommendations(user_id="u1", filter='INCLUDE ItemID WHERE Items.GENRE IN ("western")')
    assert _items(answer) == [catalog[0]] and restarted.users == {"u1": {"USER_ID": "u1", "AGE": 30}}


def test_properties_named_in_personalizes_camel_case_fill_the_tables_fields(tmp_path):
    events, items = _tables()
    events["DEVICE"] = np.where(np.arange(len(events)) % 2, "phone", "desktop")
    items["NUMBER_OF_RATINGS"] = np.arange(len(items)) * 2.0
    group = DatasetGroup(events, items=items)
    campaign = Campaign(create_solution(group, recipe="popularity-count").create_version(verbose=0),
                        tmp_path / "events.db")
    tracker, user = campaign.create_event_tracker(), events["USER_ID"].iloc[0]
    on_phone = 'EXCLUDE ItemID WHERE Interactions.DEVICE IN ("phone")'
    first = _items(campaign.get_recommendations(user_id=user, filter=on_phone))[0]
    campaign.put_events(tracker, user, "s", [_event(first, 0, properties='{"device": "phone"}')])
    assert first not in _items(campaign.get_recommendations(user_id=user, filter=on_phone, num_results=50))
    assert list(campaign.stored_interactions()["DEVICE"]) == ["phone"]
    assert with_stored_data(group, campaign.store).interactions["DEVICE"].iloc[-1] == "phone"
    # Personalize's own example: {"numberOfRatings": "12"}, a number as text.
    campaign.put_items([{"itemId": first, "properties": '{"genre": "western", "numberOfRatings": "12"}'}])
    put = 'INCLUDE ItemID WHERE Items.GENRE IN ("western") AND Items.NUMBER_OF_RATINGS = 12'
    assert _items(campaign.get_recommendations(user_id="someone", filter=put)) == [first]
    with pytest.raises(ValueError, match="properties name the field 'GENRE' twice: as 'genre' and as 'GENRE'"):
        campaign.put_items([{"itemId": first, "properties": {"genre": "noir", "GENRE": "noir"}}])
    with pytest.raises(ValueError, match="NUMBER_OF_RATINGS of item .* must be a finite number, got 'many'"):
        campaign.put_items([{"itemId": first, "properties": {"numberOfRatings": "many"}}])
    assert campaign.store.rows("items") == [{"ITEM_ID": first, "GENRE": "western", "NUMBER_OF_RATINGS": 12.0}]


def test_impressions_and_recommendation_ids_are_kept_for_the_next_training(tmp_path):
    events, items = _tables()
    events["IMPRESSION"], events["RECOMMENDATION_ID"] = None, None  # Personalize's reserved Interactions fields
    group = DatasetGroup(events, items=items)
    campaign = Campaign(create_solution(group, recipe="popularity-count").create_version(verbose=0),
                        tmp_path / "events.db")
    shown = list(items["ITEM_ID"][:3])
    campaign.put_events(campaign.create_event_tracker(), "u1", "s", [
        _event(shown[1], 0, impression=shown, recommendationId="r-42"), _event(shown[2], 1)])
    grown = with_stored_data(group, campaign.store).interactions
    added = grown[grown["TIMESTAMP"] >= LATER].sort_values("TIMESTAMP")
    assert list(added["IMPRESSION"]) == ["|".join(shown), None]
    assert list(added["RECOMMENDATION_ID"]) == ["r-42", None]


def test_put_users_are_checked_and_read_at_once_by_filters_on_the_current_user(tmp_path):
    events, items = _tables()
    users = pd.DataFrame({"USER_ID": events["USER_ID"].unique(), "MEMBERSHIP": "basic"})
    group = DatasetGroup(events, users=users, items=items)
    version = create_solution(group, recipe="popularity-count").create_version(verbose=0)
    campaign = Campaign(version, tmp_path / "events.db")
    user = users["USER_ID"].iloc[0]
    members_only = 'INCLUDE ItemID WHERE Items.GENRE IN ("comedy") IF CurrentUser.MEMBERSHIP IN ("premium")'
    assert {items.set_index("ITEM_ID")["GENRE"][item] for item in _items(campaign.get_recommendations(
        user_id=user, filter=members_only))} == {"comedy", "drama"}
    campaign.put_users([{"userId": user, "properties": '{"membership": "premium"}'}])  # camelCase, as Personalize's
    assert {items.set_index("ITEM_ID")["GENRE"][item] for item in _items(campaign.get_recommendations(
        user_id=user, filter=members_only))} == {"comedy"}
    with pytest.raises(ValueError, match=r"The Users table has no field\(s\) \['COLOUR'\]"):
        campaign.put_users([{"userId": user, "properties": {"COLOUR": "red"}}])
    campaign.close()
    restarted = Campaign(create_solution(group, recipe="popularity-count").create_version(verbose=0),
                         tmp_path / "events.db")
    assert restarted.version.users.set_index("USER_ID")["MEMBERSHIP"][user] == "premium"  # replayed
    assert with_stored_data(group, restarted.store).users.set_index("USER_ID")["MEMBERSHIP"][user] == "premium"


def test_the_two_tower_with_item_features_recommends_items_put_after_training(tmp_path):
    events, items = _tables()
    version = create_solution(DatasetGroup(events, items=items), recipe="two-tower", settings={
        "two-tower": {"epochs": 1, "embedding_dim": 8, "item_features": ["GENRE"]}}).create_version(verbose=0)
    campaign = Campaign(version, tmp_path / "events.db")
    campaign.put_items([{"itemId": "brand-new", "properties": {"GENRE": "comedy"}}])
    assert "brand-new" in version.recommender.items.ids
    ranked = _items(campaign.get_recommendations(user_id=events["USER_ID"].iloc[0], num_results=len(items) + 1))
    assert "brand-new" in ranked


def test_put_items_refuses_values_its_items_table_cannot_hold_and_keeps_nothing_of_them(tmp_path):
    events, items = _tables()
    items["PRICE"] = np.arange(len(items), dtype="float64")
    items["CREATION_TIMESTAMP"] = 1_600_000_000
    version = create_solution(DatasetGroup(events, items=items), recipe="two-tower", settings={
        "two-tower": {"epochs": 1, "embedding_dim": 8, "item_features": ["GENRE", "PRICE"]}}).create_version(verbose=0)
    campaign = Campaign(version, tmp_path / "events.db")
    refused = {"PRICE of item 'new' must be a finite number, got 'cheap'": {"PRICE": "cheap"},
               "GENRE of item 'new' must be text, as in the Items table, got 5": {"GENRE": 5},
               "CREATION_TIMESTAMP of item 'new' must be epoch seconds, got 1600000000000.0 (that looks like "
               "milliseconds": {"CREATION_TIMESTAMP": 1_600_000_000_000},
               "items[0].properties must hold finite numbers (JSON has no NaN or Infinity)": '{"PRICE": NaN}'}
    for message, properties in refused.items():
        with pytest.raises(ValueError, match=re.escape(message)):
            campaign.put_items([{"itemId": "new", "properties": properties}])
    with pytest.raises(ValueError, match=re.escape("users[0].properties must hold finite numbers")):
        campaign.put_users([{"userId": "u1", "properties": {"AGE": float("inf")}}])
    assert campaign.store.rows("items") == [] and campaign.store.rows("users") == []
    assert "new" not in version.recommender.items.ids and "new" not in set(version.items["ITEM_ID"])
    campaign.put_items([{"itemId": "new", "properties": {"GENRE": "comedy", "PRICE": 2.5, "CREATION_TIMESTAMP": None}}])
    assert "new" in version.recommender.items.ids and len(campaign.store.rows("items")) == 1


def test_event_store_urls(tmp_path):
    store = open_event_store(f"sqlite:///{tmp_path}/a.db")
    assert isinstance(store, SQLiteEventStore) and store.path == f"{tmp_path}/a.db"
    tracker = store.create_tracker()
    assert store.trackers() == {tracker}
    with pytest.raises(ValueError, match="No event store for 'mysql' URLs"):
        open_event_store("mysql://localhost/events")
    with pytest.raises(ValueError, match="There is no directory"):
        open_event_store(tmp_path / "missing" / "a.db")
    (tmp_path / "junk.db").write_bytes(b"not a database at all" * 100)
    with pytest.raises(ValueError, match="is not a usable event database"):
        open_event_store(tmp_path / "junk.db")


def test_one_users_concurrent_calls_are_applied_in_the_order_they_are_stored(saved, tmp_path):
    import concurrent.futures

    campaign = Campaign(load_solution_version(saved), tmp_path / "events.db")
    tracker = campaign.create_event_tracker()
    catalog = campaign.version.recommender.items.ids

    def call(number):
        campaign.put_events(tracker, "busy", "s", [_event(catalog[(number * 3 + event) % len(catalog)],
                                                          number * 10 + event) for event in range(3)])

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(call, range(24)))
    live = campaign.get_recommendations(user_id="busy")
    stored = campaign.stored_interactions()
    assert len(stored) == 72 and campaign.version.recommender.session_items("busy") == list(stored["ITEM_ID"])
    assert Campaign(load_solution_version(saved), tmp_path / "events.db").get_recommendations(user_id="busy") == live


@pytest.mark.parametrize("recipe, ask", [("popularity-count", "user_id"), ("sims", "item_id")])
def test_counting_recipes_serve_live_too(tmp_path, recipe, ask):
    events, items = _tables()
    version = create_solution(DatasetGroup(events, items=items), recipe=recipe).create_version(verbose=0)
    campaign = Campaign(version, tmp_path / "events.db")
    tracker = campaign.create_event_tracker()
    first = _items(campaign.get_recommendations(**{ask: events[ask.upper()].iloc[0]}))[0]
    campaign.put_events(tracker, events["USER_ID"].iloc[0], "s", [_event(first, 0)])
    after = _items(campaign.get_recommendations(user_id=events["USER_ID"].iloc[0], item_id=events["ITEM_ID"].iloc[0]))
    assert (first not in after) if recipe == "popularity-count" else len(after) == 25  # the seen item left out


def test_a_campaign_needs_a_solution_version(tmp_path):
    with pytest.raises(TypeError, match="must be a kerasts.personalize.SolutionVersion"):
        Campaign("solution/", tmp_path / "events.db")


def test_the_recipe_learns_only_the_events_its_solution_keeps(tmp_path):
    events, items = _tables()
    version = create_solution(DatasetGroup(events, items=items), recipe="popularity-count",
                              event_type="purchase").create_version(verbose=0)
    campaign = Campaign(version, tmp_path / "events.db")
    tracker = campaign.create_event_tracker()
    catalog = version.recommender.items.ids
    campaign.put_events(tracker, "new-user", "s", [_event(catalog[0], 0), _event(catalog[1], 1, eventType="purchase")])
    assert version.recommender.user_history("new-user") == [catalog[1]]  # the click is for filters only
    assert list(version.user_interactions("new-user")["ITEM_ID"]) == [catalog[0], catalog[1]]


class _CountingStore(SQLiteEventStore):
    """The SQLite store, counting its event commits."""

    commits = 0

    def add_events(self, records):
        self.commits += 1
        return super().add_events(records)


def test_a_batch_commits_its_events_together_and_answers_as_one_call_at_a_time_would(saved, tmp_path):
    one_by_one = Campaign(load_solution_version(saved), tmp_path / "one.db")
    batched = Campaign(load_solution_version(saved), _CountingStore(tmp_path / "batched.db"))
    catalog = one_by_one.version.recommender.items.ids
    first, second, third = one_by_one.version.interactions["USER_ID"].unique()[:3]

    def requests(tracker):
        def events(user, session, position):
            return ("put_events", {"tracking_id": tracker, "user_id": user, "session_id": session,
                                   "events": [_event(catalog[position], position)]})

        return [("get_recommendations", {"user_id": third, "num_results": 5}),
                events(first, "a", 0), events(second, "b", 1),
                events(second, "c", 2),  # the same user again: applied after their call before
                events(second, "b", 3),  # a session they left in the call before: refused
                events(third, "d", 4)[:1] + ({**events(third, "d", 4)[1], "tracking_id": "unknown"},),
                ("get_recommendations", {"user_id": first, "num_results": 5}),
                ("get_recommendations", {"user_id": second, "num_results": 0}),
                ("get_personalized_ranking", {"user_id": second, "input_list": catalog[:4]})]

    answers = batched.answer(requests(batched.create_event_tracker()))
    expected = []  # one call at a time, the writes first as a batch orders them
    for operation, arguments in sorted(requests(one_by_one.create_event_tracker()), key=lambda request:
                                       request[0] != "put_events"):
        try:
            expected.append(getattr(one_by_one, operation)(**arguments))
        except ValueError as error:
            expected.append(error)
    writes, reads = expected[:5], expected[5:]
    assert answers[1:4] == writes[:3] == [{"stored": 1, "duplicates": 0}] * 3
    assert "already left session 'b'" in str(answers[4]) and "already left session 'b'" in str(writes[3])
    assert "no event tracker 'unknown'" in str(answers[5]) and "no event tracker" in str(writes[4])
    for answer, read in zip([answers[0], answers[6], answers[8]], [reads[0], reads[1], reads[3]]):
        _assert_same_list(answer, read)  # scored in one call for the batch: equal to float32's rounding
    assert isinstance(answers[7], ValueError) and "num_results" in str(answers[7])
    assert answers[6] != Campaign(load_solution_version(saved), tmp_path / "fresh.db").get_recommendations(
        user_id=first, num_results=5)  # the batch's event reached the read after it
    # Three calls stored in two commits (the second user's second call in a second round; the refused call none).
    assert batched.store.commits == 2
    assert batched.stored_interactions().drop(columns="SESSION_ID").equals(
        one_by_one.stored_interactions().drop(columns="SESSION_ID"))
    assert batched.version.recommender.session_items(second) == one_by_one.version.recommender.session_items(second)
