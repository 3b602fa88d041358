import pandas as pd
import pytest

from kerasts.data import validate_interactions
from kerasts.data.sessions import (
    filter_interactions, leave_last_session_out, personalize_split, sessionize, split_sessions_by_start,
    time_cutoff_split,
)


def _events():
    minute = 60
    return validate_interactions(pd.DataFrame({
        "USER_ID": ["a"] * 5 + ["b"] * 3,
        "ITEM_ID": ["x", "y", "x", "z", "y", "x", "y", "w"],
        "TIMESTAMP": [0, 10 * minute, 20 * minute, 100 * minute, 105 * minute, 0, 40 * minute, 41 * minute],
    }))


def test_sessions_split_on_inactivity_gaps():
    sessions = sessionize(_events(), gap_seconds=30 * 60)
    assert list(sessions["SESSION_ID"]) == ["a:0", "a:0", "a:0", "a:1", "a:1", "b:0", "b:1", "b:1"]


def test_filters_repeat_until_stable():
    sessions = sessionize(_events())
    kept = filter_interactions(sessions, min_item_support=2, min_session_length=2)
    # z and w are rare; dropping them shortens sessions a:1 and b:1, which then go too, and so on.
    assert set(kept["ITEM_ID"]) <= {"x", "y"}
    assert (kept.groupby("SESSION_ID").size() >= 2).all()
    with pytest.raises(ValueError, match="call sessionize\\(\\) first"):
        filter_interactions(_events(), min_session_length=2)


def test_personalize_split_holds_out_users_and_their_newest_events():
    events = validate_interactions(pd.DataFrame({
        "USER_ID": [f"u{u}" for u in range(10) for _ in range(10)],
        "ITEM_ID": [f"i{(u * 3 + e) % 7}" for u in range(10) for e in range(10)],
        "TIMESTAMP": [e for _ in range(10) for e in range(10)],
    }))
    train, test_input, test_truth = personalize_split(events, test_user_fraction=0.2, seed=1)
    held_out = set(test_input["USER_ID"])
    assert len(held_out) == 2 and held_out == set(test_truth["USER_ID"])
    assert held_out.isdisjoint(train["USER_ID"])  # no held-out event in training
    assert len(test_input) == 18 and len(test_truth) == 2
    newest_input = test_input.groupby("USER_ID")["TIMESTAMP"].max()
    oldest_truth = test_truth.groupby("USER_ID")["TIMESTAMP"].min()
    assert (newest_input < oldest_truth).all()
    again = personalize_split(events, test_user_fraction=0.2, seed=1)[1]
    pd.testing.assert_frame_equal(test_input, again)


def test_leave_last_session_out_never_trains_on_a_later_session():
    train, test = leave_last_session_out(sessionize(_events()))
    assert set(test["SESSION_ID"]) == {"a:1", "b:1"}
    for user in ("a", "b"):
        assert train[train["USER_ID"] == user]["TIMESTAMP"].max() < test[test["USER_ID"] == user]["TIMESTAMP"].min()


def test_leave_last_session_out_can_keep_only_items_known_from_training():
    hour = 3600
    events = validate_interactions(pd.DataFrame({
        "USER_ID": ["c"] * 5 + ["d"] * 4,
        "ITEM_ID": ["p", "q", "p", "r", "q", "p", "q", "s", "t"],
        "TIMESTAMP": [0, 1, 5 * hour, 5 * hour + 1, 5 * hour + 2, 0, 1, 5 * hour, 5 * hour + 1],
    }))
    sessions = sessionize(events)
    train, test = leave_last_session_out(sessions, known_items_only=True)
    # c's test session loses the unknown r and keeps p, q; d's keeps neither s nor t, so it goes.
    assert test["ITEM_ID"].tolist() == ["p", "q"] and set(test["SESSION_ID"]) == {"c:1"}
    pd.testing.assert_frame_equal(train, leave_last_session_out(sessions)[0])


def test_split_sessions_by_start_holds_out_the_sessions_that_start_last():
    sessions = sessionize(_events())  # sessions start at 0 (a:0, b:0), 40 (b:1) and 100 minutes (a:1)
    train, test = split_sessions_by_start(sessions, test_share=0.25)
    assert set(test["SESSION_ID"]) == {"a:1"} and set(train["SESSION_ID"]) == {"a:0", "b:0", "b:1"}
    assert set(split_sessions_by_start(sessions, test_share=0.5)[1]["SESSION_ID"]) == {"a:1", "b:1"}
    # Training then knows x and y only: a:1 (z, y) and b:1 (y, w) keep one event each, so both go.
    train, test = split_sessions_by_start(sessions, test_share=0.5, known_items_only=True)
    assert test.empty and set(train["SESSION_ID"]) == {"a:0", "b:0"}
    with pytest.raises(ValueError, match="`test_share` must be between 0 and 1"):
        split_sessions_by_start(sessions, test_share=1.0)


def test_time_cutoff_split():
    train, test = time_cutoff_split(_events(), cutoff=41 * 60)
    assert train["TIMESTAMP"].max() < 41 * 60 <= test["TIMESTAMP"].min()
    assert len(train) + len(test) == len(_events())


def test_personalize_split_needs_users_with_two_events():
    single = validate_interactions(pd.DataFrame({"USER_ID": ["a", "b"], "ITEM_ID": ["x", "y"], "TIMESTAMP": [1, 2]}))
    with pytest.raises(ValueError, match="No user has two or more events"):
        personalize_split(single)
