import numpy as np
import pandas as pd
import pytest

from kerasts.data import (
    IdVocabulary, filter_events, load_movielens, split_multi_value, validate_interactions, weight_events,
)


def _interactions():
    return pd.DataFrame({
        "USER_ID": ["u2", "u1", "u1", "u1"],
        "ITEM_ID": ["i1", "i2", "i1", "i2"],
        "TIMESTAMP": ["30", 20, 10, 20],
        "EVENT_TYPE": ["click"] * 4,
    })


def test_validation_sorts_by_user_and_time_and_leaves_the_input_alone():
    table = _interactions()
    original = table.copy()
    clean = validate_interactions(table)
    pd.testing.assert_frame_equal(table, original)
    assert list(clean["USER_ID"]) == ["u1", "u1", "u1", "u2"]
    assert list(clean["TIMESTAMP"]) == [10, 20, 20, 30] and clean["TIMESTAMP"].dtype == "int64"


def test_duplicates_are_kept_or_dropped_explicitly():
    assert len(validate_interactions(_interactions(), duplicates="keep")) == 4
    assert len(validate_interactions(_interactions(), duplicates="drop")) == 3


@pytest.mark.parametrize(
    "change, error, message",
    [
        (lambda t: t.drop(columns="ITEM_ID"), ValueError, r"lacks column\(s\) \['ITEM_ID'\]"),
        (lambda t: t.iloc[:0], ValueError, "`interactions` is empty"),
        (lambda t: t.assign(USER_ID=[None, "u1", "u1", "u1"]), ValueError, "'USER_ID' holds missing ids"),
        (lambda t: t.assign(TIMESTAMP=["yesterday", 1, 2, 3]), ValueError, "must hold epoch seconds; row 0 holds 'yesterday'"),
        (lambda t: t.to_numpy(), TypeError, "must be a pandas DataFrame"),
    ],
)
def test_bad_interactions(change, error, message):
    with pytest.raises(error, match=message):
        validate_interactions(change(_interactions()))


def test_custom_column_names_and_duplicates_option():
    table = _interactions().rename(columns={"USER_ID": "user", "ITEM_ID": "item", "TIMESTAMP": "time"})
    assert len(validate_interactions(table, "user", "item", "time")) == 4
    with pytest.raises(ValueError, match="`duplicates` must be 'keep' or 'drop'"):
        validate_interactions(_interactions(), duplicates="merge")


def test_id_vocabulary_round_trip_with_out_of_vocabulary_bucket():
    vocabulary = IdVocabulary(["b", "a", "b", "c"])
    assert len(vocabulary) == 3
    np.testing.assert_array_equal(vocabulary.encode(["a", "zzz", "b"]), [2, 0, 1])
    assert vocabulary.decode([2, 0, 1, 3]) == ["a", None, "b", "c"]
    with pytest.raises(ValueError, match="cannot hold missing ids"):
        IdVocabulary(["a", None])


def test_multi_value_fields():
    assert split_multi_value(["horror|comedy", np.nan, "drama"]) == [["horror", "comedy"], [], ["drama"]]


def test_load_movielens_latest_format(tmp_path):
    pd.DataFrame({"userId": [1, 1, 2], "movieId": [10, 20, 10], "rating": [4.0, 3.5, 5.0],
                  "timestamp": [300, 100, 200]}).to_csv(tmp_path / "ratings.csv", index=False)
    pd.DataFrame({"movieId": [10, 20], "title": ["A (1995)", "B (1996)"],
                  "genres": ["Comedy|Drama", "Horror"]}).to_csv(tmp_path / "movies.csv", index=False)
    interactions, items = load_movielens(str(tmp_path))
    assert list(interactions.columns) == ["USER_ID", "ITEM_ID", "TIMESTAMP", "EVENT_TYPE", "EVENT_VALUE"]
    assert list(interactions["ITEM_ID"]) == ["20", "10", "10"]  # user 1 sorted by time
    assert list(items["GENRES"]) == ["Comedy|Drama", "Horror"]


def test_load_movielens_100k_format(tmp_path):
    (tmp_path / "u.data").write_text("1\t10\t4\t300\n2\t20\t5\t100\n")
    flags = ["0"] * 19
    comedy = list(flags)
    comedy[5] = "1"
    (tmp_path / "u.item").write_text(
        "10|A (1995)|01-Jan-1995||url|" + "|".join(comedy) + "\n20|B (1996)|01-Jan-1996||url|" + "|".join(flags) + "\n",
        encoding="latin-1")
    interactions, items = load_movielens(str(tmp_path))
    assert len(interactions) == 2 and list(items["GENRES"]) == ["Comedy", ""]


def test_load_movielens_names_what_it_expected(tmp_path):
    with pytest.raises(ValueError, match="expected ratings.csv \\+ movies.csv or u.data \\+ u.item"):
        load_movielens(str(tmp_path))


def _events():
    return pd.DataFrame({"USER_ID": ["u"] * 4, "ITEM_ID": ["a", "b", "c", "d"], "TIMESTAMP": range(4),
                         "EVENT_TYPE": ["click", "purchase", "click", "rating"], "EVENT_VALUE": [0, 1, 5, 3]})


def test_filter_events_by_type_and_value_leaves_the_input_alone():
    table = _events()
    original = table.copy()
    assert list(filter_events(table, event_types=["click", "purchase"])["ITEM_ID"]) == ["a", "b", "c"]
    assert list(filter_events(table, event_types="click", min_event_value=1)["ITEM_ID"]) == ["c"]
    assert list(filter_events(table, min_event_value=3)["ITEM_ID"]) == ["c", "d"]
    pd.testing.assert_frame_equal(table, original)


def test_weight_events_maps_types_to_weights():
    weighted = weight_events(_events(), {"click": 1, "purchase": 5, "rating": 2.5})
    assert list(weighted["EVENT_WEIGHT"]) == [1.0, 5.0, 1.0, 2.5]
    assert "EVENT_WEIGHT" not in _events().columns


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda t: filter_events(t, event_types=["view"]), r"\['view'\] do not occur in column 'EVENT_TYPE'"),
        (lambda t: filter_events(t.drop(columns="EVENT_VALUE"), min_event_value=1), "needs column 'EVENT_VALUE'"),
        (lambda t: weight_events(t, {"click": 1, "purchase": 2}), r"no weight for event type\(s\) \['rating'\]"),
        (lambda t: weight_events(t, {"click": 1, "purchase": 0, "rating": 1}), "positive numbers"),
        (lambda t: weight_events(t.drop(columns="EVENT_TYPE"), {"click": 1}), "needs column 'EVENT_TYPE'"),
    ],
)
def test_bad_event_options(call, message):
    with pytest.raises(ValueError, match=message):
        call(_events())
