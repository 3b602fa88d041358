"""TwoTower: the harness (with the `recommend` endpoints, LiteRT's included), the in-batch loss against a numpy
reference, log-Q, accidental hits, and the top-K index with exclusion and exploration."""

import kerasts  # noqa: F401 - first, to silence TensorFlow's start-up logging

import keras  # noqa: E402
import keras_rs  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

from kerasts.layers import Tower  # noqa: E402
from kerasts.models import TwoTower  # noqa: E402
from kerasts.models.two_tower.two_tower import remove_accidental_hits  # noqa: E402
from kerasts.testing import TestCase  # noqa: E402

ITEMS = [f"i{index}" for index in range(20)]


def _towers(dim=8):
    query = Tower({"HISTORY": {"type": "multi_categorical", "vocabulary": ITEMS, "embedding_dim": 6},
                   "age": {"type": "numeric", "units": 4, "mean": 30.0, "std": 10.0}}, output_dim=dim,
                  hidden_units=(12,))
    candidate = Tower({"ITEM_ID": {"type": "categorical", "vocabulary": ITEMS, "embedding_dim": 6}},
                      output_dim=dim)
    return query, candidate


def _examples(count=16, seed=0):
    rng = np.random.default_rng(seed)
    first = rng.integers(0, 20, count)
    history = [f"i{a}|i{(a + 1) % 20}" for a in first]
    return {
        "query": {"HISTORY": tf.constant(history), "age": tf.constant(rng.uniform(20, 60, count), tf.float32)},
        "candidate": {"ITEM_ID": tf.constant([f"i{(a + 2) % 20}" for a in first])},
        "candidate_sampling_probability": tf.constant(np.full(count, 1 / 20), tf.float32),
    }


class TwoTowerHarnessTest(TestCase):
    def test_harness(self):
        query, candidate = _towers()
        self.run_model_test(TwoTower, {"query_tower": query, "candidate_tower": candidate, "temperature": 0.5,
                                       "logq_correction": False, "num_hard_negatives": 4},
                            {key: value for key, value in _examples().items() if key != "candidate_sampling_probability"},
                            expected_output_shape={"query_embedding": (16, 8), "candidate_embedding": (16, 8)},
                            target=None, loss=None, export_options={"k": 4},
                            prepare_model=lambda model: model.index_candidates({"ITEM_ID": np.array(ITEMS)}),
                            endpoint_inputs={"recommend": (_query(["i3|i4", "unknown|i10"]),
                                                           tf.constant([["i5", ""], ["", ""]])),
                                             "recommend_lists": (_query([["i3", "i4"], ["unknown", "i10"]]),
                                                                 tf.constant([["i5", ""], ["", ""]]))})


def test_loss_is_the_corrected_in_batch_softmax():
    query, candidate = _towers()
    model = TwoTower(query, candidate, temperature=0.5, cosine=True)
    examples = _examples(6)
    examples["candidate"]["ITEM_ID"] = tf.constant(["i1", "i2", "i1", "i3", "i4", "i5"])
    probabilities = np.array([0.1, 0.2, 0.1, 0.05, 0.3, 0.25])
    examples["candidate_sampling_probability"] = tf.constant(probabilities, tf.float32)
    outputs = model(examples)
    q, c = (keras.ops.convert_to_numpy(outputs[name]) for name in ("query_embedding", "candidate_embedding"))
    np.testing.assert_allclose(np.linalg.norm(q, axis=1), 1.0, rtol=1e-5)
    logits = q @ c.T / 0.5 - np.log(probabilities)[None, :]
    logits[0, 2] = logits[2, 0] = -np.inf  # rows 0 and 2 share item i1: not negatives of each other
    expected = np.mean(np.log(np.exp(logits).sum(axis=1)) - np.diag(logits))
    loss = float(model.compute_loss(examples, None, outputs))
    assert loss == pytest.approx(expected, rel=1e-5)
    uncorrected = TwoTower(query, candidate, temperature=0.5, cosine=True, logq_correction=False,
                           remove_accidental_hits=False)
    assert float(uncorrected.compute_loss(examples, None, outputs)) != pytest.approx(expected, rel=1e-3)


def test_keras_rs_remove_accidental_hits_is_a_no_op_so_ours_is_used():
    logits, labels = tf.zeros((3, 3)), tf.eye(3)
    ids = tf.constant(["a", "b", "a"])
    theirs = keras_rs.layers.RemoveAccidentalHits()(logits, labels, ids).numpy()
    ours = remove_accidental_hits(logits, labels, ids).numpy()
    assert np.all(theirs == 0.0)  # keras-rs 0.4 adds the smallest positive float: nothing changes
    assert ours[0, 2] < -1e8 and ours[2, 0] < -1e8 and ours[0, 0] == 0 and ours[1, 0] == 0


def test_missing_probability_and_missing_features_are_clear_errors():
    query, candidate = _towers()
    model = TwoTower(query, candidate)
    examples = _examples()
    examples.pop("candidate_sampling_probability")
    with pytest.raises(ValueError, match="candidate_sampling_probability"):
        model.compute_loss(examples, None, model(examples))
    with pytest.raises(ValueError, match=r"lacks input feature\(s\) \['age'\]"):
        model({"query": {"HISTORY": tf.constant(["i1"])}})


def _trained_model():
    keras.utils.set_random_seed(0)
    query, candidate = _towers(dim=16)
    model = TwoTower(query, candidate)
    model.compile(kerasts.optimizers.Adam(0.05))
    data = tf.data.Dataset.from_tensor_slices(_examples(2000)).shuffle(2000, seed=0).batch(100)
    model.fit(data, epochs=4, verbose=0)
    return model.index_candidates({"ITEM_ID": np.array(ITEMS)})


@pytest.fixture(scope="module")
def trained():
    return _trained_model()


def _query(histories):
    return {"HISTORY": tf.constant(histories), "age": tf.constant([30.0] * len(histories))}


def test_training_learns_the_pattern_and_recommend_excludes_seen(trained):
    ids, scores = trained.retrieve(_query(["i3|i4", "i10|i11"]), k=3)
    assert list(ids[:, 0]) == ["i5", "i12"]  # the pattern: history a, a+1 -> a+2
    assert np.all(np.diff(scores, axis=1) <= 0)
    ids, _ = trained.retrieve(_query(["i3|i4", "i10|i11"]), k=3, seen_item_ids=[["i5"], []])
    assert "i5" not in ids[0] and ids[1, 0] == "i12"


def test_exclusion_equals_ranking_every_unseen_item(trained):
    # Duplicates, unknown ids and padding among the seen; the third row leaves fewer than k items.
    seen = [["i5", "i5", "nope", ""], [], ITEMS[:17]]
    query = _query(["i3|i4", "i10|i11", "i1"])
    ids, scores = trained.retrieve(query, k=6, seen_item_ids=seen)
    all_scores = trained.index_scores(query).numpy()
    for row, excluded in enumerate(seen):
        order = [index for index in np.argsort(-all_scores[row], kind="stable") if ITEMS[index] not in excluded][:6]
        expected = [ITEMS[index] for index in order]
        assert list(ids[row]) == expected + [""] * (6 - len(expected))
        np.testing.assert_allclose(scores[row, :len(expected)], all_scores[row, order], rtol=1e-6)
        assert np.all(scores[row, len(expected):] == -np.inf)


def test_exploration_is_seeded_and_keeps_the_head(trained):
    query = _query(["i3|i4"])
    plain, _ = trained.retrieve(query, k=5)
    first, _ = trained.retrieve(query, k=5, exploration=0.4, seed=1)
    again, _ = trained.retrieve(query, k=5, exploration=0.4, seed=1)
    np.testing.assert_array_equal(first, again)
    assert list(first[0, :3]) == list(plain[0, :3])
    assert not set(first[0, 3:]) & set(plain[0])  # the explored slots hold lower-ranked items
    assert len(set(first[0])) == 5


def test_index_errors():
    query, candidate = _towers()
    model = TwoTower(query, candidate)
    with pytest.raises(ValueError, match="call index_candidates"):
        model.retrieve(_query(["i1"]), k=3)
    model.index_candidates({"ITEM_ID": np.array(ITEMS)})
    with pytest.raises(ValueError, match=r"lacks feature\(s\) \['age'\]"):
        model.retrieve({"HISTORY": np.array(["i1"], dtype=object)}, k=3)
    with pytest.raises(ValueError, match="empty"):
        model.index_candidates({"ITEM_ID": np.array([], dtype=str)})
    with pytest.raises(ValueError, match="repeats ids"):
        model.index_candidates({"ITEM_ID": np.array(["i1", "i1"])})


def test_exported_recommend_matches_retrieve(trained, tmp_path):
    trained.export(tmp_path / "recommender", k=4)
    exported = tf.saved_model.load(str(tmp_path / "recommender"))  # kept referenced: it owns the variables
    served = exported.recommend(_query(["i3|i4", "unknown|i10"]), tf.constant([["i5", ""], ["", ""]]))
    ids, scores = trained.retrieve(_query(["i3|i4", "unknown|i10"]), k=4, seen_item_ids=[["i5"], []])
    assert [value.decode() for value in served["item_ids"].numpy().ravel()] == list(ids.ravel())
    np.testing.assert_allclose(served["scores"].numpy(), scores, atol=1e-5)


def test_litert_file_ranks_as_retrieve_and_names_what_it_cannot_convert(trained, tmp_path):
    from kerasts.export import load_litert

    trained.export(tmp_path / "recommender.tflite", format="litert", k=4)
    runner = load_litert(tmp_path / "recommender.tflite").get_signature_runner("recommend_lists")
    # Lists of ids, not joined strings: the second query's unknown id and padding count for nothing.
    served = runner(HISTORY=np.array([["i3", "i4", ""], ["unknown", "i10", ""]], dtype=object),
                    age=np.array([30.0, 30.0], dtype="float32"),
                    seen_item_ids=np.array([["i5"], [""]], dtype=object))
    ids, scores = trained.retrieve(_query(["i3|i4", "unknown|i10"]), k=4, seen_item_ids=[["i5"], []])
    assert [value.decode() for value in served["item_ids"].ravel()] == list(ids.ravel())
    np.testing.assert_allclose(served["scores"], scores, atol=1e-5)
    with pytest.raises(ValueError, match=r"\['recommend'\] of TwoTower need TensorFlow operators .*StringSplit"):
        trained.export(tmp_path / "joined.tflite", format="litert", k=4, endpoints=["recommend"])
    with pytest.raises(ValueError, match="ends in '.tflite'"):
        trained.export(tmp_path / "recommender.lite", format="litert", k=4)
    with pytest.raises(ValueError, match="There is no LiteRT file"):
        load_litert(tmp_path / "missing.tflite")
    (tmp_path / "damaged.tflite").write_bytes(b"not a flatbuffer")
    with pytest.raises(ValueError, match="damaged"):
        load_litert(tmp_path / "damaged.tflite")


def test_two_tower_recommender_is_the_recipe_and_ranks_the_whole_index():
    import pandas as pd

    from kerasts.data import personalize_split, synthetic_interactions, validate_interactions
    from kerasts.evaluation import evaluate_recommender
    from kerasts.models import TwoTowerRecommender

    events = validate_interactions(synthetic_interactions(num_users=60, num_items=40, seed=1))
    split = personalize_split(events, test_user_fraction=0.2, seed=0)
    catalog = pd.DataFrame({"ITEM_ID": sorted(events["ITEM_ID"].unique())})
    recommender = TwoTowerRecommender(embedding_dim=8, history_length=5, epochs=2, batch_size=64, seed=0)
    recommender.fit(split[0], items=catalog)
    assert recommender.items.ids == catalog["ITEM_ID"].tolist()  # the Items table is the catalog
    history = split[1]["ITEM_ID"].tolist()[:3]
    top = recommender.recommend(history=history, k=5)
    assert len(top.item_ids) == 5 and not set(history) & set(top.item_ids) and np.all(np.diff(top.scores) <= 0)
    # The protocol's ranking is the index's: the same items as the model's own top-K.
    ids, _ = recommender.model.retrieve({"HISTORY": np.array(["|".join(history)], dtype=object)}, k=5,
                                        seen_item_ids=[history])
    assert list(ids[0]) == list(top.item_ids)
    candidates = set(catalog["ITEM_ID"][:4])
    ranked = [item for item in recommender.recommend(history=history, k=40).item_ids if item in candidates]
    assert list(recommender.recommend(history=history, k=3, candidates=list(candidates)).item_ids) == ranked[:3]
    assert 0 <= evaluate_recommender(recommender, split, ks=(5,))["recall_at_5"] <= 1


def test_early_stopping_holds_a_tenth_of_the_users_out_and_keeps_the_best_epoch():
    from kerasts.data import synthetic_interactions, validate_interactions
    from kerasts.data.retrieval import retrieval_dataset, retrieval_examples
    from kerasts.models import TwoTowerRecommender

    events = validate_interactions(synthetic_interactions(num_users=60, num_items=40, seed=1))
    recommender = TwoTowerRecommender(embedding_dim=8, history_length=5, epochs=30, batch_size=64, seed=0,
                                      early_stopping_patience=1).fit(events)
    validation_losses = recommender.history.history["val_loss"]
    assert len(validation_losses) < 30  # it over-fits 60 users long before 30 epochs, and stopped
    held_out = recommender._validation_rows(events)
    assert events.loc[held_out, "USER_ID"].nunique() == 6  # of 60
    examples = retrieval_examples(events[held_out], history_length=5)  # item shares of the held-out events
    # The weights kept are the best epoch's: their loss on the held-out users is the lowest validation loss.
    kept = recommender.model.evaluate(retrieval_dataset(examples, 64, shuffle=False), verbose=0)
    assert kept == pytest.approx(min(validation_losses), rel=1e-4) and kept < validation_losses[-1]
    user = events.loc[held_out, "USER_ID"].iloc[0]  # held out of training, still served from their events
    seen = set(events.loc[events["USER_ID"] == user, "ITEM_ID"])
    assert not seen & set(recommender.recommend(user_id=user, k=5).item_ids)
    with pytest.raises(ValueError, match="holds out a tenth of the users to validate: .* at least two users, got 1"):
        TwoTowerRecommender(early_stopping_patience=2).fit(events[events["USER_ID"] == user])
    with pytest.raises(ValueError, match="early_stopping_patience"):
        TwoTowerRecommender(early_stopping_patience=0)
