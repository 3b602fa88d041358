"""SIMS and Swing: hand-worked co-occurrence, a brute-force Swing reference, caps, fallbacks."""

import itertools

import numpy as np
import pandas as pd
import pytest

from kerasts.baselines import SIMS, Swing
from kerasts.data import weight_events


def _table(pairs):
    return pd.DataFrame({"USER_ID": [u for u, _ in pairs], "ITEM_ID": [i for _, i in pairs],
                         "TIMESTAMP": np.arange(len(pairs))})


# a, b, c all have x; a and b have y; c has z; d has only w (unpopular and never co-occurring).
SMALL = _table([("a", "x"), ("a", "y"), ("b", "x"), ("b", "y"), ("b", "y"), ("c", "x"), ("c", "z"), ("d", "w")])


def test_sims_scores_are_discounted_cooccurrence_counts():
    model = SIMS(popularity_discount=0.5, min_cointeractions=1).fit(SMALL)
    ids, scores = model.similar_items("x")
    # x-y: 2 shared users (repeat events count once), pop(y) = 2; x-z: 1 shared, pop(z) = 1.
    assert list(ids) == ["y", "z"]
    np.testing.assert_allclose(scores, [2 / np.sqrt(2), 1.0])
    ids, scores = SIMS(popularity_discount=0.0, min_cointeractions=1).fit(SMALL).similar_items("x")
    np.testing.assert_allclose(scores, [2.0, 1.0])


def test_sims_min_cointeractions_and_popular_fallback_for_unknown_and_sparse_items():
    model = SIMS(min_cointeractions=2).fit(SMALL)
    assert list(model.similar_items("x")[0]) == ["y"]  # z shares one user only
    assert list(model.recommend(item_id="x", k=3).item_ids) == ["y", "w", "z"]  # then popular items (ties by id)
    assert list(model.recommend(history=["never-seen"], k=2).item_ids) == ["x", "y"]
    assert list(model.recommend(item_id="w", k=2).item_ids) == ["x", "y"]  # w has no neighbours at all
    assert list(model.recommend(item_id="x", k=2, exclude_seen=False).item_ids) == ["y", "x"]


def test_history_scores_add_up_over_its_items():
    table = _table([("a", "p"), ("a", "q"), ("b", "p"), ("b", "q"), ("c", "r"), ("c", "s"), ("d", "r"),
                    ("d", "s"), ("e", "p"), ("e", "s"), ("f", "q"), ("f", "s")])
    model = SIMS(popularity_discount=0.0, min_cointeractions=1).fit(table)
    # From p: q 2, s 1. From r: s 2. Summed: s 3 beats q 2.
    assert list(model.recommend(history=["p", "r"], k=2).item_ids) == ["s", "q"]


def test_event_weights_shift_sims_and_popularity():
    table = SMALL.assign(EVENT_TYPE=["click", "purchase", "click", "click", "click", "click", "purchase", "click"])
    weighted = weight_events(table, {"click": 1, "purchase": 4})
    model = SIMS(popularity_discount=0.0, min_cointeractions=1, weight_column="EVENT_WEIGHT").fit(weighted)
    ids, scores = model.similar_items("x")
    # x-y: a (1*4) + b (1*1) = 5; x-z: c (1*4) = 4.
    np.testing.assert_allclose(scores, [5.0, 4.0])


def _brute_force_swing(table, alpha, alpha1, beta):
    items_of = table.groupby("USER_ID")["ITEM_ID"].agg(set).to_dict()
    users_of = table.groupby("ITEM_ID")["USER_ID"].agg(set).to_dict()
    weight = {u: (len(items) + alpha1) ** -beta for u, items in items_of.items()}
    scores = {}
    for i, j in itertools.permutations(users_of, 2):
        both = sorted(users_of[i] & users_of[j])
        total = sum(weight[u] * weight[v] / (alpha + len(items_of[u] & items_of[v]))
                    for u, v in itertools.combinations(both, 2))
        if total > 0:
            scores[i, j] = total
    return scores


# The pairs are built PAIR_CHUNK entries at a time: one chunk, one per first user, and a few.
@pytest.mark.parametrize("seed, pair_chunk", [(0, None), (1, 1), (2, 40)])
def test_swing_matches_a_brute_force_reference(seed, pair_chunk, monkeypatch):
    import kerasts.baselines.swing

    if pair_chunk is not None:
        monkeypatch.setattr(kerasts.baselines.swing, "PAIR_CHUNK", pair_chunk)
    rng = np.random.default_rng(seed)
    table = _table([(f"u{rng.integers(12)}", f"i{rng.integers(15)}") for _ in range(90)])
    alpha, alpha1, beta = 0.5, 2.0, 0.4
    expected = _brute_force_swing(table, alpha, alpha1, beta)
    model = Swing(alpha=alpha, alpha1=alpha1, beta=beta, max_neighbours=20).fit(table)
    computed = {}
    for item in table["ITEM_ID"].unique():
        for other, score in zip(*model.similar_items(item)):
            computed[item, other] = score
    assert computed.keys() == expected.keys()
    for key, score in expected.items():
        assert computed[key] == pytest.approx(score, rel=1e-9)


def test_swing_caps_keep_the_most_recent_events():
    rng = np.random.default_rng(3)
    table = _table([(f"u{rng.integers(10)}", f"i{rng.integers(12)}") for _ in range(120)])
    capped = Swing(max_items_per_user=4, max_users_per_item=3).fit(table)
    recent = (table.sort_values("TIMESTAMP", ascending=False).drop_duplicates(["USER_ID", "ITEM_ID"])
              .groupby("USER_ID").head(4).groupby("ITEM_ID").head(3))
    reference = Swing().fit(recent)
    for item in recent["ITEM_ID"].unique():
        ids, scores = capped.similar_items(item)
        expected_ids, expected_scores = reference.similar_items(item)
        assert list(ids) == list(expected_ids)
        np.testing.assert_allclose(scores, expected_scores)
    assert capped.similar_items("i0")[0].size <= Swing().fit(table).similar_items("i0")[0].size


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: SIMS(popularity_discount=2), "popularity_discount"),
        (lambda: SIMS(min_cointeractions=0), "min_cointeractions"),
        (lambda: SIMS(max_neighbours=0), "max_neighbours"),
        (lambda: Swing(alpha=0), "alpha > 0"),
        (lambda: Swing(max_users_per_item=1), "max_users_per_item"),
    ],
)
def test_bad_settings(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_bad_input_and_calls():
    with pytest.raises(ValueError, match="not fitted"):
        SIMS().recommend(history=["x"], k=3)
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['ITEM_ID'\]"):
        Swing().fit(SMALL.drop(columns="ITEM_ID"))
    with pytest.raises(ValueError, match="needs column 'TIMESTAMP'"):
        Swing(max_users_per_item=2).fit(SMALL.drop(columns="TIMESTAMP"))  # x has 3 users
    with pytest.raises(ValueError, match="`k` must be a positive integer"):
        SIMS().fit(SMALL).recommend(history=["x"], k=0)
    with pytest.raises(ValueError, match="is empty"):
        SIMS().fit(SMALL.iloc[:0])


def test_swing_keeps_an_items_1000_most_recent_users_by_default_and_needs_timestamps_only_where_a_cap_cuts():
    # "hit" has 1,002 users, two of them also on "a" (the oldest two) and two on "b" (the newest two).
    users = [f"u{user}" for user in range(1002)]
    table = _table([(user, "hit") for user in users] + [("u0", "a"), ("u1", "a"), ("u1000", "b"), ("u1001", "b")])
    table["TIMESTAMP"] = np.r_[np.arange(1002), 0, 1, 2000, 2001]
    model = Swing().fit(table)
    recent = table[~table["USER_ID"].isin(["u0", "u1"]) | (table["ITEM_ID"] != "hit")]
    reference = Swing(max_users_per_item=None).fit(recent)
    for item in ("hit", "a", "b"):
        for got, expected in zip(model.similar_items(item), reference.similar_items(item)):
            np.testing.assert_array_equal(got, expected)
    assert "a" not in model.similar_items("hit")[0] and "b" in model.similar_items("hit")[0]
    with pytest.raises(ValueError, match=r"most recent 1,000 of each ITEM_ID's interactions \(`max_users_per_item`\) "
                                         r"and 'hit' has 1,002, so `interactions` needs column 'TIMESTAMP'"):
        Swing().fit(table.drop(columns="TIMESTAMP"))
    Swing().fit(SMALL.drop(columns="TIMESTAMP"))  # no cap cuts: no order needed
