"""The two-stage pipeline: candidates from the two-tower and Swing, the MMoE ranker, the blend, injection."""

import kerasts  # noqa: F401 - first, to silence TensorFlow's start-up logging

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from kerasts.models import MMoE, TwoStageRecommender  # noqa: E402

TINY = {"num_candidates": 15, "retrieval": {"epochs": 2, "embedding_dim": 8}, "num_experts": 2, "expert_units": (8,),
        "tower_units": (4,), "epochs": 2}


@pytest.fixture(scope="module")
def events():
    events = kerasts.data.synthetic_interactions(num_users=60, num_items=80, events_per_user=12, seed=0)
    events["EVENT_VALUE"] = np.arange(len(events)) % 5 + 1.0
    return events


@pytest.fixture(scope="module")
def pipeline(events):
    return TwoStageRecommender(**TINY).fit(events)


def test_lists_hold_ranked_candidates_the_user_has_not_had(pipeline, events):
    assert isinstance(pipeline.model, MMoE) and pipeline.tasks == ["interacts", "likes"]
    user = events["USER_ID"].iloc[0]
    seen = set(events.loc[events["USER_ID"] == user, "ITEM_ID"])
    (chosen, features), = pipeline.candidates([pipeline.user_history(user)])
    assert set(features) == set(kerasts.models.two_stage.recommender.FEATURES)
    assert 15 <= chosen.size <= 30 and seen.isdisjoint(pipeline.items.id_array[chosen])
    listed = pipeline.recommend(user_id=user, k=10)
    assert len(listed.item_ids) == 10 and seen.isdisjoint(listed.item_ids)
    assert set(listed.item_ids) <= set(pipeline.items.id_array[chosen])
    assert np.all(np.diff(listed.scores) <= 0) and np.all((listed.scores >= 0) & (listed.scores <= 2))


def test_the_blend_follows_the_task_weights(pipeline, events):
    user = events["USER_ID"].iloc[0]
    context = [pipeline.user_history(user)]
    (chosen, features), = pipeline.candidates(context)
    predictions = pipeline.model.predict({name: values.astype("float32") for name, values in features.items()},
                                         verbose=0)
    pipeline.task_weights = {"interacts": 1.0, "likes": 0.0}
    try:
        np.testing.assert_allclose(pipeline.score_items(context)[0, chosen], predictions["interacts"].ravel(),
                                   rtol=1e-5)
    finally:
        pipeline.task_weights = {"interacts": 1.0, "likes": 1.0}


def test_injected_candidates_come_from_lower_ranks_and_repeat_for_the_same_request(pipeline, events):
    user = events["USER_ID"].iloc[3]
    plain = list(pipeline.recommend(user_id=user, k=10).item_ids)
    pipeline.injection_share = 0.2
    try:
        injected = list(pipeline.recommend(user_id=user, k=10).item_ids)
        assert injected[:8] == plain[:8] and set(injected[8:]).isdisjoint(plain[:8])
        assert injected == list(pipeline.recommend(user_id=user, k=10).item_ids)  # seeded by the context
        assert list(pipeline.recommend(user_id=user, k=10, explore=False).item_ids) == plain
    finally:
        pipeline.injection_share = 0.0


@pytest.mark.parametrize("settings, message", [
    ({"label_share": 1.0}, r"`label_share` must be in \(0, 1\)"),
    ({"injection_share": 1.0}, r"`injection_share` must be in \[0, 1\)"),
    ({"task_weights": {"clicks": 1.0}}, r"unknown task\(s\) \['clicks'\]"),
])
def test_bad_settings_are_named(settings, message):
    with pytest.raises(ValueError, match=message):
        TwoStageRecommender(**settings)


def test_an_unfitted_pipeline_says_so():
    with pytest.raises(ValueError, match="not fitted"):
        TwoStageRecommender().recommend(user_id="u1")


def test_items_that_are_not_candidates_follow_them_in_the_two_towers_order(pipeline, events):
    (chosen, features), = pipeline.candidates([[]])  # a user with no events: Swing has nothing to go on
    assert chosen.size == 15 and not features["from_swing"].any()
    listed = pipeline.recommend(history=[], k=20)
    assert len(listed.item_ids) == 20 and set(listed.item_ids[:15]) == set(pipeline.items.id_array[chosen])
    assert np.all(listed.scores[:15] >= 0) and np.all(listed.scores[15:] < -1)
    # A ranking of given items ranks each one, candidates or not (the user's own items are never candidates).
    user = events["USER_ID"].iloc[0]
    had = list(events.loc[events["USER_ID"] == user, "ITEM_ID"].iloc[:2])
    ranked = pipeline.recommend(user_id=user, k=3, exclude_seen=False, candidates=had + [listed.item_ids[0]],
                                explore=False)
    assert sorted(ranked.item_ids) == sorted(had + [listed.item_ids[0]]) and np.isfinite(ranked.scores).all()


def test_a_feature_constant_in_training_does_not_blow_up_at_serving():
    # Every training user has 12 events, so the history length is constant in the ranker's pairs; its computed
    # deviation was 4e-16, and a user with 30 events got probabilities of exactly 0.
    events = kerasts.data.synthetic_interactions(num_users=60, num_items=80, events_per_user=12, seed=1)
    pipeline = TwoStageRecommender(**TINY).fit(events)
    assert pipeline.model.get_config()["features"]["history_length"]["std"] == 1.0
    scores = pipeline.score_items([list(events["ITEM_ID"].iloc[:30])])[0]
    assert scores.max() > 0


def test_each_generator_proposes_its_best_unseen_items_equal_scores_in_catalog_order(pipeline, events):
    context = pipeline.user_history(events["USER_ID"].iloc[3])
    (chosen, features), = pipeline.candidates([context])
    seen = pipeline.known_indices(context)
    swing_scores = np.zeros(len(pipeline.items))
    swing_columns = pipeline.items.encode(pipeline.swing.items.ids) - 1
    swing_scores[swing_columns] = pipeline.swing.score_items([context])[0]
    for scores, floor, name in ((pipeline.retrieval.score_items([context])[0], -np.inf, "retrieval_rank"),
                                (swing_scores, 0.0, "swing_rank")):
        order = [index for index in np.lexsort((np.arange(scores.size), -scores)) if index not in seen][:15]
        expected = {index: rank for rank, index in enumerate(order, 1) if scores[index] > floor}
        proposed = {index: round(np.expm1(rank)) for index, rank in zip(chosen, features[name]) if rank < np.log1p(16)}
        assert proposed == expected


def test_verbose_shows_the_two_towers_training_too(events, capsys):
    TwoStageRecommender(**TINY, verbose=2).fit_candidates(events)
    assert "Epoch 2/2" in capsys.readouterr().out
