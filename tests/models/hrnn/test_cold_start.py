"""HRNN-coldstart: items without interactions join the catalog from their metadata, and exploration gives
them a share of each list, chosen per user."""

import kerasts  # noqa: F401 - first, to silence TensorFlow's start-up logging

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from kerasts.models import HRNN, SessionRecommender  # noqa: E402
from kerasts.models.hrnn.cold_items import map_item_rows  # noqa: E402
from kerasts.models.warm_start import variable_key  # noqa: E402
from kerasts.protocols import Recommender  # noqa: E402

SETTINGS = {"units": 16, "embedding_dim": 8, "user_units": 8, "num_slots": 8, "steps": 5, "epochs": 15,
            "learning_rate": 0.01, "tie_embeddings": True, "item_features": ["GENRE"], "seed": 0}


def _tables(users=24, items_per_genre=8, events=12, seed=0):
    """Users of two tastes, each rating only films of their genre; two films of each genre nobody rated."""
    rng = np.random.default_rng(seed)
    genres = {"horror": [f"h{n}" for n in range(items_per_genre)], "comedy": [f"c{n}" for n in range(items_per_genre)]}
    rows = []
    for user in range(users):
        genre = "horror" if user % 2 else "comedy"
        for position, item in enumerate(rng.choice(genres[genre], events)):
            rows.append({"USER_ID": f"u{user}", "ITEM_ID": item, "TIMESTAMP": 1_000_000 + user * 10_000 + position * 60})
    catalog = [(item, genre) for genre, ids in genres.items() for item in ids]
    catalog += [("new-horror", "horror"), ("new-comedy", "comedy")]
    items = pd.DataFrame(catalog, columns=["ITEM_ID", "GENRE"])
    return pd.DataFrame(rows), items


@pytest.fixture(scope="module")
def fitted():
    events, items = _tables()
    recommender = SessionRecommender(cold_start_items=True, exploration_weight=0.2, **SETTINGS).fit(events, items)
    return recommender, events, items


def test_new_items_join_the_catalog_and_each_user_is_shown_the_new_item_of_their_taste(fitted):
    recommender, events, _ = fitted
    assert {"new-horror", "new-comedy"} <= set(recommender.items.ids)
    assert sorted(recommender.items.id_array[recommender.exploration_indices()]) == ["new-comedy", "new-horror"]
    # Five of the 8-10 films each user has not rated: round(0.2 * 5) = 1 slot, for the best new item.
    lists = [set(recommender.recommend(user_id=f"u{number}", k=5).item_ids) for number in range(24)]
    assert all(len(listed) == 5 and len(listed & {"new-horror", "new-comedy"}) == 1 for listed in lists)
    # It is the new item of the user's genre (odd users rate horror, even ones comedy): by chance half the
    # users would get theirs; all 24 do.
    assert sum(("new-horror" if number % 2 else "new-comedy") in listed for number, listed in enumerate(lists)) >= 22
    plain = SessionRecommender(**SETTINGS).fit(events, fitted[2])
    assert "new-horror" not in plain.items.ids and plain.exploration_indices() is None


def test_items_put_after_training_join_without_retraining():
    events, items = _tables()
    recommender = SessionRecommender(cold_start_items=True, exploration_weight=0.1, **SETTINGS).fit(events, items)
    before = np.asarray(recommender.model.item_vectors())
    weights = {variable_key(recommender.model, variable): variable.numpy()
               for variable in recommender.model.trainable_weights}
    recommender.add_items(pd.DataFrame({"ITEM_ID": ["later-horror", "h0"], "GENRE": ["horror", "comedy"]}))
    after = np.asarray(recommender.model.item_vectors())
    assert recommender.items.ids[-1] == "later-horror" and len(after) == len(before) + 1
    np.testing.assert_allclose(after[:len(before)], before, rtol=1e-6)  # h0 keeps its rows and its genre
    for variable in recommender.model.trainable_weights:  # every weight not indexed by item is as trained
        old = weights[variable_key(recommender.model, variable)]
        if old.shape == tuple(variable.shape):
            np.testing.assert_array_equal(variable.numpy(), old)
    assert "later-horror" in recommender.items.id_array[recommender.exploration_indices()]
    assert "later-horror" in recommender.recommend(user_id="u1", k=20).item_ids


def test_the_mapping_gives_a_new_item_the_rows_of_items_with_its_metadata():
    values = {"GENRE": ["horror"] * 3 + ["comedy"] * 3 + ["horror"]}
    model = HRNN([f"i{n}" for n in range(7)], units=4, embedding_dim=3, num_slots=2, tie_embeddings=True,
                 item_features={"GENRE": {"type": "multi_categorical", "vocabulary": ["comedy", "horror"],
                                          "embedding_dim": 2}}, item_feature_values=values)
    model.build()
    embeddings = np.zeros((8, 3), "float32")
    embeddings[1:4], embeddings[4:7] = [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]  # the genres' learned rows
    model.item_embedding.embeddings.assign(embeddings)
    map_item_rows(model, learned=np.arange(1, 7), new=[7])
    mapped = model.item_embedding.embeddings.numpy()
    np.testing.assert_allclose(mapped[:7], embeddings[:7])  # the learned rows are left alone
    assert mapped[7, 0] > 0.8 and abs(mapped[7, 1]) < 0.2  # a horror film's row: shrunk a little toward the mean


class _Scored(Recommender):
    """A catalog of ten items scored 9, 8, ..., 0; items 7-9 (the lowest) are new."""

    exploration_weight = 0.2

    def __init__(self):
        super().__init__()
        self.items = kerasts.data.IdVocabulary([f"i{n}" for n in range(10)])

    def score_items(self, contexts):
        return np.tile(np.arange(9.0, -1.0, -1.0), (len(contexts), 1))

    def exploration_indices(self):
        return np.array([7, 8, 9])


def test_exploration_spreads_its_slots_down_the_list_and_gives_unfilled_ones_back():
    recommender = _Scored()
    assert list(recommender.recommend(k=5).item_ids) == ["i0", "i1", "i7", "i2", "i3"]  # round(0.2 * 5) = 1 slot
    listed = list(recommender.recommend(k=10).item_ids)  # 2 slots, but the rest fills only 7: i9 gets the tenth
    assert sorted(listed) == sorted(recommender.items.ids) and [listed.index(item) for item in ("i7", "i8", "i9")] == [
        1, 5, 8]
    recommender.exploration_weight = 1.0
    assert list(recommender.recommend(k=5).item_ids) == ["i7", "i0", "i8", "i1", "i9"]  # 3 new, the rest given back
    assert list(recommender.recommend(k=5, explore=False).item_ids) == ["i0", "i1", "i2", "i3", "i4"]


@pytest.mark.parametrize("settings, message", [
    ({"cold_start_items": True, "exploration_weight": 1.5}, r"`exploration_weight` must be in \[0, 1\], got 1.5"),
    ({"exploration_weight": 0.3}, "needs cold_start_items=True"),
    ({"cold_start_items": True, "item_features": ()}, "give `item_features` too"),
    ({"cold_start_items": True, "exploration_item_age_cut_off": 0}, "positive number of days"),
])
def test_bad_cold_start_settings_are_named(settings, message):
    with pytest.raises(ValueError, match=message):
        SessionRecommender(**{**SETTINGS, **settings})


def test_add_items_is_refused_without_cold_start(fitted):
    events, items = _tables()
    plain = SessionRecommender(**{**SETTINGS, "epochs": 1}).fit(events, items)
    with pytest.raises(ValueError, match="only with cold_start_items=True"):
        plain.add_items(items)
    with pytest.raises(ValueError, match="pass a DataFrame with 'ITEM_ID'"):
        fitted[0].add_items(None)
