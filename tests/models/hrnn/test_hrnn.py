import kerasts  # noqa: F401 - first, to silence TensorFlow's start-up logging

import warnings  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from kerasts.models import HRNN  # noqa: E402
from kerasts.testing import TestCase  # noqa: E402

LOSS = keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def _catalog(size):
    return [f"i{index}" for index in range(1, size + 1)]


def _batch(rows=8, steps=5, items=12, seed=0):
    rng = np.random.default_rng(seed)
    session_start = (rng.random((rows, steps)) < 0.3).astype("float32")
    user_start = np.zeros((rows, steps), "float32")
    session_start[:, 0] = user_start[:, 0] = 1.0  # every row starts a user: the initial state never matters
    inputs = {"items": rng.integers(1, items + 1, (rows, steps)).astype("int32"), "session_start": session_start,
              "user_start": user_start}
    return inputs, rng.integers(1, items + 1, (rows, steps)).astype("int32")


def _step_inputs():
    ones = np.ones(3, "float32")
    return (np.array(["i3", "i7", "unknown"], dtype=object), ones, ones, np.zeros((3, 8), "float32"),
            np.zeros((3, 8), "float32"))


class HRNNHarnessTest(TestCase):
    def test_harness(self):
        inputs, targets = _batch()
        self.run_model_test(HRNN, {"item_ids": _catalog(12), "units": 8, "embedding_dim": 6, "num_slots": 8,
                                   "mode": "all", "user_to_output": True, "tie_embeddings": True},
                            inputs, expected_output_shape=(8, 5, 13), target=targets, loss=LOSS,
                            export_options={"k": 4}, endpoint_inputs={"step": _step_inputs()})


METADATA = {"GENRES": {"type": "multi_categorical", "vocabulary": ["comedy", "drama", "horror"], "embedding_dim": 4},
            "PRICE": {"type": "numeric", "mean": 6.0, "std": 3.0}}


def _metadata(size):
    return {"GENRES": ["comedy|drama" if index % 2 else "horror" for index in range(size)],
            "PRICE": [float(index) for index in range(size)]}


class HRNNMetadataHarnessTest(TestCase):
    def test_harness(self):
        inputs, targets = _batch()
        self.run_model_test(HRNN, {"item_ids": _catalog(12), "units": 8, "embedding_dim": 6, "num_slots": 8,
                                   "tie_embeddings": True, "item_features": METADATA,
                                   "item_feature_values": _metadata(12)},
                            inputs, expected_output_shape=(8, 5, 13), target=targets, loss=LOSS,
                            export_options={"k": 4}, endpoint_inputs={"step": _step_inputs()})


def test_item_metadata_adds_to_the_item_vectors_read_and_scored():
    model = HRNN(_catalog(12), units=8, embedding_dim=6, num_slots=8, tie_embeddings=True, item_features=METADATA,
                 item_feature_values=_metadata(12))
    inputs, _ = _batch()
    model(inputs)
    vectors = np.asarray(model.item_vectors())
    embeddings = model.item_embedding.embeddings.numpy()
    np.testing.assert_allclose(vectors[0], embeddings[0])  # padding and unknown items have no metadata
    metadata = vectors[1:] - embeddings[1:]
    assert np.abs(metadata).max() > 0
    assert np.abs(metadata[0] - metadata[1]).max() > 0  # other genres, another price
    changed = HRNN.from_config({**model.get_config(), "item_feature_values": {
        **_metadata(12), "GENRES": ["horror"] * 12}})
    changed(inputs)
    changed.set_weights(model.get_weights())
    assert np.abs(np.asarray(changed(inputs)) - np.asarray(model(inputs))).max() > 1e-6  # metadata moves scores


@pytest.mark.parametrize("features, values, message", [
    (METADATA, None, "needs `item_feature_values`"),
    (METADATA, {"GENRES": _metadata(12)["GENRES"]}, "lacks item feature 'PRICE'"),
    (METADATA, {**_metadata(12), "PRICE": [1.0] * 11}, "'PRICE' has 11 values for 12 catalog items"),
    (METADATA, {**_metadata(12), "PRICE": [float("nan")] + [1.0] * 11}, "'PRICE' holds a value that is not a "
                                                                        "finite number \\(item 'i1'\\)"),
    (None, _metadata(12), "without `item_features`"),
])
def test_item_metadata_is_checked(features, values, message):
    with pytest.raises(ValueError, match=message):
        HRNN(_catalog(12), item_features=features, item_feature_values=values)


def _numpy_gru(cell, x, h):
    kernel, recurrent, bias = (weight.numpy() for weight in cell.weights)
    sigmoid = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    bias = bias.reshape(2, -1) if bias.ndim == 2 else np.stack([bias, np.zeros_like(bias)])
    x_parts = x @ kernel + bias[0]
    h_parts = h @ recurrent + bias[1]
    units = h.shape[1]
    z = sigmoid(x_parts[:, :units] + h_parts[:, :units])
    r = sigmoid(x_parts[:, units:2 * units] + h_parts[:, units:2 * units])
    candidate = np.tanh(x_parts[:, 2 * units:] + r * h_parts[:, 2 * units:])
    return z * h + (1 - z) * candidate


def test_user_state_follows_the_paper_and_resets_only_at_flagged_steps():
    model = HRNN(_catalog(6), units=4, embedding_dim=3, num_slots=1)
    inputs = {"items": np.array([[1, 2, 3, 4]], "int32"), "session_start": np.array([[1, 0, 1, 0]], "float32"),
              "user_start": np.array([[1, 0, 0, 0]], "float32")}
    model(inputs)
    embed = model.item_embedding.embeddings.numpy()
    init_kernel, init_bias = (weight.numpy() for weight in model.session_init.weights)
    user = np.zeros((1, 4))
    session = np.tanh(user @ init_kernel + init_bias)          # first session starts from the zero user state
    session = _numpy_gru(model.session_cell, embed[[1]], session)
    session = _numpy_gru(model.session_cell, embed[[2]], session)
    user = _numpy_gru(model.user_cell, session, user)          # session ended: the user GRU reads its last state
    session = np.tanh(user @ init_kernel + init_bias)          # the next session starts from the user state
    session = _numpy_gru(model.session_cell, embed[[3]], session)
    session = _numpy_gru(model.session_cell, embed[[4]], session)
    _, final_session, final_user = model.run({k: v for k, v in inputs.items()}, *model.zero_states(1))
    np.testing.assert_allclose(final_session.numpy(), session, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(final_user.numpy(), user, rtol=1e-4, atol=1e-5)


def test_training_carries_slot_states_across_batches_but_inference_starts_from_zero():
    model = HRNN(_catalog(12), units=8, embedding_dim=6, num_slots=8)
    model.compile(keras.optimizers.SGD(0.0), loss=LOSS)  # weights stay put, so states can be recomputed
    inputs, targets = _batch()
    model.fit(inputs, targets, batch_size=8, epochs=1, verbose=0, shuffle=False)
    stored, _ = model.stored_states()
    assert np.abs(stored).sum() > 0
    _, expected, _ = model.run(inputs, *model.zero_states(8))
    np.testing.assert_allclose(stored, expected.numpy(), rtol=1e-4, atol=1e-5)
    continuing = {**inputs, "session_start": np.zeros((8, 5), "float32"), "user_start": np.zeros((8, 5), "float32")}
    assert not np.allclose(model(continuing, training=True).numpy(), model(continuing).numpy())
    model.reset_states()
    assert not model.stored_states()[0].any()


def test_under_mirrored_strategy_each_replica_keeps_its_share_of_the_slots():
    import tensorflow as tf

    from kerasts.testing.devices import logical_cpu_names

    strategy = tf.distribute.MirroredStrategy(logical_cpu_names()[:2],
                                              cross_device_ops=tf.distribute.ReductionToOneDevice())
    inputs, targets = _batch()
    with strategy.scope():
        model = HRNN(_catalog(12), units=8, embedding_dim=6, num_slots=8)
        model.compile(keras.optimizers.SGD(0.0), loss=LOSS)
        model(inputs)
    model.fit(inputs, targets, batch_size=8, epochs=1, verbose=0, shuffle=False)
    with strategy.scope():
        stored, _ = model.stored_states()
    _, expected, _ = model.run(inputs, *model.zero_states(8))
    np.testing.assert_allclose(stored, expected.numpy(), rtol=1e-4, atol=1e-5)


def test_hidden_dropout_drops_the_output_layer_input_in_training_only():
    keras.utils.set_random_seed(0)
    model = HRNN(_catalog(6), units=4, embedding_dim=3, num_slots=2, user_gru=False, hidden_dropout=0.5)
    model.build()
    inputs = {"items": np.array([[1, 2, 3, 4]] * 2, "int32"), "session_start": np.array([[1, 0, 0, 0]] * 2, "float32"),
              "user_start": np.array([[1, 0, 0, 0]] * 2, "float32")}
    trained, trained_state, _ = model.run(inputs, *model.zero_states(2), training=True)
    served, served_state, _ = model.run(inputs, *model.zero_states(2))
    assert not np.allclose(trained.numpy(), served.numpy())
    # Only what the output layer reads is dropped: the state carried to the next event is whole.
    np.testing.assert_allclose(trained_state.numpy(), served_state.numpy(), rtol=1e-5, atol=1e-6)
    assert HRNN.from_config(model.get_config()).hidden_dropout == 0.5


def test_user_dropout_drops_the_user_state_in_training_only():
    keras.utils.set_random_seed(0)
    model = HRNN(_catalog(6), units=4, embedding_dim=3, num_slots=2, user_dropout=0.5)
    model.build()
    inputs = {"items": np.array([[1, 2, 3, 4, 5]] * 2, "int32"),
              "session_start": np.array([[1, 0, 0, 1, 0]] * 2, "float32"),
              "user_start": np.array([[1, 0, 0, 0, 0]] * 2, "float32")}
    trained = model.run(inputs, *model.zero_states(2), training=True)[0].numpy()
    served = model.run(inputs, *model.zero_states(2))[0].numpy()
    # The first session starts from a zero user state, which dropout leaves as it is; the second
    # starts from the user GRU's state, which training drops in part and inference keeps whole.
    np.testing.assert_allclose(trained[:, :3], served[:, :3], rtol=1e-5, atol=1e-6)
    assert not np.allclose(trained[:, 3:], served[:, 3:])
    assert HRNN.from_config(model.get_config()).user_dropout == 0.5
    with pytest.raises(ValueError, match="`user_dropout` acts on the user state"):
        HRNN(_catalog(5), user_gru=False, user_dropout=0.1)


def test_session_only_mode_is_gru4rec_and_bad_modes_fail():
    gru4rec = HRNN(_catalog(5), units=4, user_gru=False, num_slots=2)
    gru4rec(_batch(rows=2, steps=3, items=5)[0])
    assert not hasattr(gru4rec, "user_cell")
    with pytest.raises(ValueError, match="`mode` must be one of"):
        HRNN(_catalog(5), mode="some")
    with pytest.raises(ValueError, match="needs user_gru=True"):
        HRNN(_catalog(5), mode="all", user_gru=False)


def _trained_on_habits():
    """Users alternate between two habits; the model learns a->b->c and c->b->a."""
    keras.utils.set_random_seed(0)
    model = HRNN(["a", "b", "c"], units=8, embedding_dim=4, num_slots=4)
    model.compile(kerasts.optimizers.Adam(0.05), loss=LOSS)
    orders = np.array([[1, 2, 1, 2, 1, 2], [3, 2, 3, 2, 3, 2], [1, 2, 1, 2, 1, 2], [3, 2, 3, 2, 3, 2]], "int32")
    targets = np.array([[2, 3, 2, 3, 2, 3], [2, 1, 2, 1, 2, 1], [2, 3, 2, 3, 2, 3], [2, 1, 2, 1, 2, 1]], "int32")
    starts = np.tile(np.array([1, 0, 1, 0, 1, 0], "float32"), (4, 1))
    users = np.zeros((4, 6), "float32")
    users[:, 0] = 1
    model.fit({"items": orders, "session_start": starts, "user_start": users}, targets, batch_size=4, epochs=60,
              verbose=0, shuffle=False)
    return model


@pytest.fixture(scope="module")
def habits():
    return _trained_on_habits()


def test_session_recommender_follows_live_events_and_survives_a_restart(habits, tmp_path):
    from kerasts.models import SessionRecommender

    live = SessionRecommender(habits)

    def top(user, k, **options):
        return list(live.recommend(user_id=user, k=k, **options).item_ids)

    assert len(top("new-user", 2)) == 2  # nothing known: read as an empty session
    live.put_events("ann", ["a"], session_id="s1")
    assert top("ann", 1, exclude_seen=False) == ["b"]
    live.put_events("ann", ["b"], session_id="s1")
    assert top("ann", 1, exclude_seen=False) == ["c"]
    live.put_events("bob", ["c", "b"], session_id="s9")
    assert top("bob", 1, exclude_seen=False) == ["a"]
    with pytest.warns(UserWarning, match="unknown to the model"):
        live.put_events("bob", ["zzz"], session_id="s9")
    assert live.unknown_items == 1 and top("bob", 1, exclude_seen=False) == ["a"]
    assert "b" not in top("ann", 3)  # exclude_seen: every item she has had
    live.put_events("ann", ["c"], session_id="s2")  # a new session: a and b are hers from before
    assert top("ann", 3) == []
    assert sorted(top("ann", 3, exclude_seen=False, exclude=live.session_items("ann"))) == ["a", "b"]
    assert top("ann", 1, history=["a"], exclude_seen=False) == ["b"]  # a history is read as a session
    live.save(tmp_path / "states.npz")
    restored = SessionRecommender.load(tmp_path / "states.npz", habits)
    assert top("ann", 3, exclude_seen=False) == list(restored.recommend(user_id="ann", k=3,
                                                                         exclude_seen=False).item_ids)
    assert restored.unknown_items == 1 and restored.session_items("ann") == ["c"]
    assert restored.user_history("ann") == ["a", "b", "c"]


def test_put_events_batch_reads_several_users_at_once_as_one_call_each_would(habits):
    from kerasts.models import SessionRecommender

    one_by_one, batched = SessionRecommender(habits), SessionRecommender(habits)
    for live in (one_by_one, batched):
        live.put_events("ann", ["a", "b"], session_id="s1")
        live.put_events("bob", ["c"], session_id="s1")
    calls = [("ann", ["c"], "s2"),  # a new session of a known user
             ("bob", ["b"], "s1"),  # the same session, as long as ann's call: one scan for both
             ("cid", ["a", "b", "c"], "s7"),  # a new user, a longer call: a scan of its own
             ("dee", ["zzz"], "s1")]  # nothing known: no state
    for user, items, session in calls:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            one_by_one.put_events(user, items, session_id=session)
    scans = []
    original = batched._traced("read")
    batched._traced_functions[1]["read"] = lambda inputs, *states: scans.append(inputs["items"].shape) or original(
        inputs, *states)
    with pytest.warns(UserWarning, match="'zzz' is unknown"):
        batched.put_events_batch(calls)
    assert sorted(scans) == [(1, 3), (2, 1)]
    for user in ("ann", "bob", "cid"):
        for state in ("session_state", "user_state"):
            np.testing.assert_allclose(batched.users[user][state], one_by_one.users[user][state], rtol=1e-5, atol=1e-6)
        assert batched.session_items(user) == one_by_one.session_items(user)
        assert batched.user_history(user) == one_by_one.user_history(user)
    assert "dee" not in batched.users and batched.users["ann"]["past_sessions"] == ["s1"]
    with pytest.raises(ValueError, match="each user at most once"):
        batched.put_events_batch([("ann", ["a"], "s2"), ("ann", ["b"], "s2")])
    with pytest.raises(ValueError, match="already left session 's1'"):
        batched.put_events_batch([("bob", ["a"], "s1"), ("ann", ["a"], "s1")])
    assert batched.session_items("bob") == ["c", "b"]  # a refused batch changes no one


def test_session_recommender_fit_is_the_recipe_and_reads_sessions_by_gap():
    from kerasts.data import synthetic_interactions, validate_interactions
    from kerasts.models import SessionRecommender

    events = validate_interactions(synthetic_interactions(num_users=40, num_items=30, seed=2))
    recommender = SessionRecommender(units=8, embedding_dim=4, num_slots=8, epochs=1, seed=3,
                                     session_gap_seconds=86400).fit(events)
    assert recommender.model.items == recommender.items and len(recommender.items) == events["ITEM_ID"].nunique()
    again = SessionRecommender(units=8, embedding_dim=4, num_slots=8, epochs=1, seed=3,
                               session_gap_seconds=86400).fit(events)
    user = events["USER_ID"].iloc[0]
    np.testing.assert_array_equal(recommender.recommend(user_id=user, k=5).item_ids,
                                  again.recommend(user_id=user, k=5).item_ids)
    with pytest.raises(ValueError, match="`loss` must be one of"):
        SessionRecommender(loss="hinge")
    for loss in ("sampled", "bpr_max"):
        sampled = SessionRecommender(units=8, embedding_dim=4, num_slots=8, epochs=1, loss=loss).fit(events)
        assert np.isfinite(sampled.history.history["loss"]).all()
    assert sampled.model.loss.num_negatives == 2048 and sampled.model.loss.item_popularity[0] == 0
    tuned = SessionRecommender(units=8, embedding_dim=4, num_slots=8, epochs=1, loss="bpr_max",
                               loss_options={"regularization": 1.95, "alpha": 0.4}).fit(events)
    loss = tuned.model.loss
    assert (loss.regularization, loss.alpha, loss.num_negatives) == (1.95, 0.4, 2048)
    with pytest.raises(ValueError, match=r"`loss_options` \['bpreg'\] are not settings of the bpr_max loss \(BPRMax "
                                         r"takes \['alpha', 'elu', 'num_negatives', 'regularization', 'seed'\]\)"):
        SessionRecommender(loss="bpr_max", loss_options={"bpreg": 1.95})
    with pytest.raises(ValueError, match="cross_entropy takes none"):
        SessionRecommender(loss_options={"alpha": 0.4})
    with pytest.raises(ValueError, match=r"session_gap_seconds=1, no session has two events \(a user's events are "
                                         r"a median [\d,]+ s apart\).*Give a longer session_gap_seconds"):
        SessionRecommender(units=8, embedding_dim=4, num_slots=8, session_gap_seconds=1).fit(events)


def test_step_endpoint_follows_a_session_by_item_ids_and_skips_unknown_ones(habits, tmp_path):
    import tensorflow as tf

    habits.export(tmp_path / "step", k=2)
    exported = tf.saved_model.load(str(tmp_path / "step"))  # kept referenced: it owns the variables
    step = exported.step
    start, zeros = tf.constant([1.0]), tf.zeros((1, 8))
    first = step(tf.constant(["a"]), start, start, zeros, zeros)
    assert first["item_ids"].numpy()[0, 0] == b"b"
    second = step(tf.constant(["b"]), 1.0 - start, 1.0 - start, first["session_state"], first["user_state"])
    assert second["item_ids"].numpy()[0, 0] == b"c"  # a, b -> c
    unknown = step(tf.constant(["zzz"]), 1.0 - start, 1.0 - start, second["session_state"], second["user_state"])
    np.testing.assert_array_equal(unknown["session_state"], second["session_state"])


def test_litert_step_follows_a_session_and_the_scan_is_refused_by_name(habits, tmp_path):
    from kerasts.export import load_litert

    habits.export(tmp_path / "step.tflite", format="litert", k=2)
    step = load_litert(tmp_path / "step.tflite").get_signature_runner("step")
    start, zeros = np.ones(1, "float32"), np.zeros((1, 8), "float32")
    first = step(item_ids=np.array(["a"], dtype=object), session_start=start, user_start=start, session_state=zeros,
                 user_state=zeros)
    second = step(item_ids=np.array(["b"], dtype=object), session_start=1 - start, user_start=1 - start,
                  session_state=first["session_state"], user_state=first["user_state"])
    assert first["item_ids"][0, 0] == b"b" and second["item_ids"][0, 0] == b"c"  # a, b -> c, as the SavedModel
    with pytest.raises(ValueError, match=r"\['serve'\] of HRNN need TensorFlow operators LiteRT lacks"):
        habits.export(tmp_path / "both.tflite", format="litert", k=2, endpoints=["serve", "step"])
