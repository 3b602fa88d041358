"""Item metadata from an Items table: the columns "all" reads, the specs and per-item values, fall-backs."""

import kerasts  # noqa: F401 - first, to silence TensorFlow's start-up logging

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from kerasts.data import item_metadata_columns, item_metadata_features  # noqa: E402


def _items():
    return pd.DataFrame({"ITEM_ID": range(1, 9), "GENRES": ["comedy|drama", "horror", "drama||", np.nan] * 2,
                         "PRICE": [1.0, np.nan, 3.0, 5.0] * 2, "TITLE": list("ABCDEFGH"), "NEW": [True, False] * 4})


def test_all_reads_numbers_and_text_that_groups_items():
    assert item_metadata_columns(_items()) == ["GENRES", "PRICE", "NEW"]  # titles name items: left out


def test_specs_and_values_over_the_catalog_with_fall_backs():
    items = _items()
    before = items.copy()
    specs, values = item_metadata_features(items, ["GENRES", "PRICE"], ["3", "1", "9"])  # "9" is not in the table
    assert specs["GENRES"] == {"type": "multi_categorical", "embedding_dim": 16, "separator": "|",
                               "vocabulary": ["comedy", "drama"]}  # the catalog's values only
    assert values["GENRES"] == ["drama", "comedy|drama", ""]  # empty parts skipped, an absent item has none
    assert specs["PRICE"]["type"] == "numeric" and specs["PRICE"]["mean"] == pytest.approx(2.0)
    assert values["PRICE"] == [3.0, 1.0, 2.0]  # the absent item reads the mean
    pd.testing.assert_frame_equal(items, before)


@pytest.mark.parametrize("columns, message", [
    (["COLOUR"], "has no column\\(s\\) \\['COLOUR'\\]"),
    ([], "No Items column"),
])
def test_bad_columns_are_named(columns, message):
    with pytest.raises(ValueError, match=message):
        item_metadata_features(_items(), columns, ["1"])
    with pytest.raises(ValueError, match="'GENRES' has no value for any catalog item"):
        item_metadata_features(_items(), ["GENRES"], ["4"])
