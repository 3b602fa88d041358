import numpy as np
import pandas as pd
import pytest

from kerasts.data import latest_histories, retrieval_examples, validate_interactions


def _events():
    return validate_interactions(pd.DataFrame({
        "USER_ID": ["a", "a", "a", "b", "b"], "ITEM_ID": [1, 2, 3, 1, 4], "TIMESTAMP": [1, 2, 3, 1, 2]}))


def test_queries_hold_only_earlier_items_and_probabilities_are_item_shares():
    items = pd.DataFrame({"ITEM_ID": [1, 2, 4], "GENRES": ["x|y", "z", None]})
    examples = retrieval_examples(_events(), items, ["GENRES"], history_length=2)
    assert list(examples["query"]["HISTORY"]) == ["", "1", "1|2", "", "1"]
    assert list(examples["candidate"]["ITEM_ID"]) == ["1", "2", "3", "1", "4"]
    assert list(examples["candidate"]["GENRES"]) == ["x|y", "z", "", "x|y", ""]
    np.testing.assert_allclose(examples["candidate_sampling_probability"], [0.4, 0.2, 0.2, 0.4, 0.2])


def test_latest_histories_keep_the_newest_items():
    assert latest_histories(_events(), history_length=2).to_dict() == {"a": "2|3", "b": "1|4"}


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: retrieval_examples(_events().drop(columns="ITEM_ID")), r"lacks column\(s\) \['ITEM_ID'\]"),
        (lambda: retrieval_examples(_events().iloc[:0]), "is empty"),
        (lambda: retrieval_examples(_events(), item_features=["GENRES"]), "needs an `items` table"),
        (lambda: retrieval_examples(_events(), pd.DataFrame({"ITEM_ID": [1]}), ["GENRES"]),
         r"lacks feature column\(s\) \['GENRES'\]"),
        (lambda: retrieval_examples(_events(), history_length=0), "`history_length` must be a positive integer"),
    ],
)
def test_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()
