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
    assert list(model.recommend(history=[], k=4).item_ids) == ["x", "y", "w", "z"]  # ties by id
    assert list(model.recommend(history=["x"], k=2).item_ids) == ["y", "w"]
    assert list(model.recommend(history=["x"], k=2, exclude_seen=False).item_ids) == ["x", "y"]


def test_unfitted_model_says_so():
    with pytest.raises(ValueError, match="call fit"):
        Popularity().recommend(history=[], k=3)


def test_evaluate_recommender_uses_histories_and_personalize_names():
    model = Popularity().fit(_interactions())
    test_input = pd.DataFrame({"USER_ID": ["u", "v"], "ITEM_ID": ["x", "q"], "TIMESTAMP": [0, 0]})
    test_truth = pd.DataFrame({"USER_ID": ["u", "v"], "ITEM_ID": ["y", "x"], "TIMESTAMP": [1, 1]})
    scores = evaluate_recommender(model, (_interactions(), test_input, test_truth), ks=(1, 2))
    # u saw x, so gets [y, w]: hit at 1. v gets [x, y]: hit at 1.
    assert scores["precision_at_1"] == 1.0 and scores["mean_reciprocal_rank_at_2"] == 1.0
    # Catalog: w, x, y, z in train, plus q only in v's input: 5 items, 3 recommended.
    assert scores["coverage"] == pytest.approx(3 / 5)


@pytest.mark.parametrize("truth, ties, rank", [
    ("z", "conservative", 3), ("w", "conservative", 3),  # w and z tie at one user each, after y
    ("z", "served", 3), ("w", "served", 2),  # as the list shows them: by id
    ("z", "optimistic", 2), ("w", "optimistic", 2),
])
def test_evaluate_recommender_places_a_relevant_item_among_ties_as_asked(truth, ties, rank):
    test_input = pd.DataFrame({"USER_ID": ["u"], "ITEM_ID": ["x"], "TIMESTAMP": [0]})
    test_truth = pd.DataFrame({"USER_ID": ["u"], "ITEM_ID": [truth], "TIMESTAMP": [1]})
    scores = evaluate_recommender(Popularity().fit(_interactions()), (_interactions(), test_input, test_truth),
                                  ks=(3,), ties=ties)
    assert scores["mean_reciprocal_rank_at_3"] == pytest.approx(1 / rank)


@pytest.mark.parametrize(
    "split, message",
    [
        ((_interactions(), _interactions()), r"must be \(train, test_input, test_truth\)"),
        ((_interactions(), _interactions(), _interactions().drop(columns="USER_ID")), "part 'test_truth'"),
        ((_interactions(), _interactions(), _interactions().iloc[:0]), "test_truth is empty"),
    ],
)
def test_evaluate_recommender_bad_split(split, message):
    with pytest.raises(ValueError, match=message):
        evaluate_recommender(Popularity().fit(_interactions()), split)
