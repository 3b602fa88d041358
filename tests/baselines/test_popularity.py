import pandas as pd
import pytest

from kerasts.baselines import Popularity
from kerasts.evaluation import evaluate_recommender


def _interactions():
    return pd.DataFrame({
        "USER_ID": ["a", "a", "a", "b", "b", "c", "c", "c"],
        "ITEM_ID": ["x", "x", "y", "x", "z", "x", "y", "w"],  # x: 3 users, y: 2, z and w: 1 each
        "TIMESTAMP": range(8),
    })


def test_ranks_by_distinct_users_not_events_and_excludes_seen():
    model = Popularity().fit(_interactions())
    assert list(model.recommend([], 4)) == ["x", "y", "w", "z"]  # ties by id
    assert list(model.recommend(["x"], 2)) == ["y", "w"]
    assert list(model.recommend(["x"], 2, exclude_seen=False)) == ["x", "y"]


def test_unfitted_model_says_so():
    with pytest.raises(ValueError, match="call fit"):
        Popularity().recommend([], 3)


def test_evaluate_recommender_uses_histories_and_personalize_names():
    model = Popularity().fit(_interactions())
    test_input = pd.DataFrame({"USER_ID": ["u", "v"], "ITEM_ID": ["x", "q"], "TIMESTAMP": [0, 0]})
    test_truth = pd.DataFrame({"USER_ID": ["u", "v"], "ITEM_ID": ["y", "x"], "TIMESTAMP": [1, 1]})
    scores = evaluate_recommender(model, test_input, test_truth, ks=(1, 2), catalog_size=4)
    # u saw x, so gets [y, w]: hit at 1. v gets [x, y]: hit at 1.
    assert scores["precision_at_1"] == 1.0 and scores["mean_reciprocal_rank_at_2"] == 1.0
    assert scores["coverage"] == pytest.approx(3 / 4)
