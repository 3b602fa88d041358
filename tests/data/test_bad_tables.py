"""Bad tables and arguments at the data boundary (#30): each a clear error naming the culprit, or a
documented conversion; nothing the user passed is changed."""

import numpy as np
import pandas as pd
import pytest

import kerasts
from kerasts.data import (
    CategoryEncoder, ForecastWindows, IdVocabulary, SessionParallelBatches, align_related, align_target,
    filter_events, item_metadata_features, lags_for_frequency, personalize_split, retrieval_examples, sessionize,
    validate_interactions,
)


def _target(timestamps, values=None):
    return pd.DataFrame({"item_id": "a", "timestamp": timestamps,
                         "target_value": np.arange(len(timestamps), dtype=float) if values is None else values})


def _events(**columns):
    table = {"USER_ID": ["u1", "u1", "u2", "u2"], "ITEM_ID": ["a", "b", "a", "c"],
             "TIMESTAMP": [1_700_000_000, 1_700_000_100, 1_700_000_000, 1_700_000_050]}
    table.update(columns)
    return pd.DataFrame(table)


def test_epoch_seconds_and_milliseconds_are_read_as_such():
    hours = pd.date_range("2024-01-01", periods=30, freq="h")
    seconds = (hours.astype("int64") // 10**9).to_numpy()
    for values in (seconds, seconds * 1000):
        table = _target(values)
        before = table.copy()
        panel = align_target(table, "H")
        assert list(panel.timestamps) == list(hours)  # not 1970
        pd.testing.assert_frame_equal(table, before)  # the user's table is left as it was


BAD_TABLES = [
    ("small integers are no epoch", lambda: align_target(_target(np.arange(30)), "H"), ValueError,
     "neither epoch seconds .* nor epoch milliseconds"),
    ("mixed UTC offsets", lambda: align_target(_target(["2024-01-01 00:00+01:00", "2024-01-01 01:00+02:00"]), "H"),
     ValueError, "different UTC offsets"),
    ("missing timestamps", lambda: align_target(_target(["2024-01-01", None]), "D"), ValueError,
     "missing timestamps"),
    ("daily data on an hourly grid", lambda: align_target(_target(pd.date_range("2024-01-01", periods=40, freq="D")),
                                                          "H"), ValueError, "24 'H' periods apart"),
    ("a datetime covariate", lambda: align_related(
        pd.DataFrame({"item_id": "a", "timestamp": pd.date_range("2024-01-01", periods=32, freq="h"),
                      "launch": pd.Timestamp("2023-05-01")}),
        align_target(_target(pd.date_range("2024-01-01", periods=30, freq="h")), "H"), 2), TypeError,
     "column 'launch' holds datetime64"),
    ("metadata ids that match no series", lambda: CategoryEncoder.fit(
        pd.DataFrame({"item_id": [1, 2], "brand": ["x", "y"]}), ["brand"]).encode(
        pd.DataFrame({"item_id": [1, 2], "brand": ["x", "y"]}), ["item_1", "item_2"]), ValueError,
     "None of the 2 items matches an id"),
    ("an infinite target", lambda: align_target(_target(["2024-01-01", "2024-01-02", "2024-01-03"],
                                                        [1.0, -np.inf, 2.0]), "D"), ValueError,
     "'target_value' must hold finite numbers .* row 1 holds -inf"),
    ("an infinite covariate", lambda: align_related(
        pd.DataFrame({"item_id": "a", "timestamp": pd.date_range("2024-01-01", periods=32, freq="h"),
                      "price": [1.0] * 10 + [np.inf] + [1.0] * 21}),
        align_target(_target(pd.date_range("2024-01-01", periods=30, freq="h")), "H"), 2), ValueError,
     "`related_table` column 'price' must hold finite numbers .* row 10 holds inf"),
    ("a target with no value", lambda: align_target(_target(["2024-01-01", "2024-01-02"], np.nan), "D"),
     ValueError, "'target_value' holds no values: every row is missing"),
    ("an infinite item feature", lambda: item_metadata_features(
        pd.DataFrame({"ITEM_ID": ["1", "2", "3"], "PRICE": [1.0, np.inf, 3.0]}), ["PRICE"], ["1", "2"]), ValueError,
     "'PRICE' must hold finite numbers; item '2' has inf"),
    ("a negative history length", lambda: lags_for_frequency("H", history_length=-5), ValueError,
     "`history_length` must be a positive integer"),
    ("repeated lags", lambda: ForecastWindows(align_target(kerasts.data.synthetic_forecast_table(2, 60), "H"), 5, 3,
                                              [1, 1, 24]), ValueError, "distinct positive integers"),
]


@pytest.mark.parametrize("case, call, error, message", BAD_TABLES, ids=[case[0] for case in BAD_TABLES])
def test_bad_forecast_tables(case, call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_intermittent_series_are_not_mistaken_for_a_coarser_frequency():
    rng = np.random.default_rng(0)
    hours = pd.date_range("2024-01-01", periods=400, freq="h")[np.sort(rng.choice(400, 80, replace=False))]
    assert align_target(_target(hours), "H").observed.sum() == 80


BAD_INTERACTIONS = [
    ("epoch milliseconds", lambda: validate_interactions(_events(TIMESTAMP=[1_700_000_000_000] * 4)), ValueError,
     r"look like epoch milliseconds \(up to 1700000000000\): divide them by 1000"),
    ("a missing timestamp", lambda: validate_interactions(_events(TIMESTAMP=[1.7e9, np.nan, 1.7e9, 1.7e9])),
     ValueError, "must hold epoch seconds; row 1 holds nan"),
    ("date strings", lambda: validate_interactions(_events(TIMESTAMP=["2024-01-01"] * 4)), ValueError,
     "a date string: convert it to epoch seconds"),
    ("an id holding the separator", lambda: validate_interactions(_events(ITEM_ID=["a|b", "b", "a", "c"])),
     ValueError, r"holds ids with '\|'.*'a\|b'"),
    ("EVENT_VALUE that is not a number", lambda: filter_events(_events(EVENT_VALUE=["5", "five", "3", "4"]),
                                                               min_event_value=4), ValueError,
     "column 'EVENT_VALUE' holds 1 that are not, e.g. row 1: 'five'"),
    ("a single user to split", lambda: personalize_split(validate_interactions(_events(USER_ID=["u1"] * 4))),
     ValueError, "at least two users, got 1"),
    ("a split without USER_ID", lambda: personalize_split(_events().drop(columns="USER_ID")), ValueError,
     r"needs column\(s\) \['USER_ID'\]"),
    ("string timestamps to sessionize", lambda: sessionize(_events(TIMESTAMP=["1", "2", "3", "4"])), ValueError,
     "call validate_interactions first"),
    ("an unsorted table for retrieval examples", lambda: retrieval_examples(_events(USER_ID=["u1", "u2", "u1", "u2"])),
     ValueError, "the rows of a user are not together"),
    ("events on items the vocabulary lacks", lambda: SessionParallelBatches(
        sessionize(validate_interactions(_events())), IdVocabulary(["a", "b"])), ValueError,
     r"1 events are on 1 item\(s\) the vocabulary of 2 lacks \(e.g. \['c'\]\)"),
]


@pytest.mark.parametrize("case, call, error, message", BAD_INTERACTIONS, ids=[case[0] for case in BAD_INTERACTIONS])
def test_bad_interactions(case, call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_ids_compare_as_strings_so_7_and_seven_are_one_user():
    table = validate_interactions(_events(USER_ID=[7, "7", 8, 8]))
    assert table["USER_ID"].nunique() == 2 and set(table["USER_ID"]) == {"7", "8"}
