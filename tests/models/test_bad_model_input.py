"""Bad arguments and inputs to the models, recommenders and commands (#30): each a clear error naming
the culprit, or a documented, tested behaviour."""

import kerasts  # first, to silence TensorFlow's start-up logging
import kerasts.cli  # noqa: E402

import shutil  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

from kerasts.baselines import Popularity  # noqa: E402
from kerasts.data import (  # noqa: E402
    ForecastWindows, align_target, leave_last_session_out, sessionize, synthetic_forecast_table,
    synthetic_interactions, validate_interactions,
)
from kerasts.evaluation import backtest, evaluate_next_items  # noqa: E402
from kerasts.layers import Tower  # noqa: E402
from kerasts.models import HRNN, MMoE, DeepAR, SessionRecommender, TwoTower  # noqa: E402

SMALL = {"prediction_length": 6, "context_length": 12, "frequency": "H", "lags": [1, 24], "units": 4,
         "num_layers": 1, "likelihood": "negative_binomial", "num_samples": 5, "batch_shards": 1}


@pytest.fixture(scope="module")
def deepar_inputs():
    panel = align_target(synthetic_forecast_table(2, 24 * 4), "H")
    return DeepAR(**SMALL), ForecastWindows(panel, 12, 6, [1, 24]).last_windows(with_future_target=False)


@pytest.mark.parametrize("options, error, message", [
    ({"num_samples": 0}, ValueError, "`num_samples` must be a positive integer, got 0"),
    ({"num_samples": -3}, ValueError, "`num_samples` must be a positive integer, got -3"),
    ({"quantiles": [1.5]}, ValueError, r"`quantiles` must be numbers strictly between 0 and 1, got \[1.5\]"),
])
def test_deepar_forecast_arguments(deepar_inputs, options, error, message):
    model, inputs = deepar_inputs
    with pytest.raises(error, match=message):
        model.forecast(inputs, **options)


def test_deepar_refuses_timestamps_that_are_not_integer_seconds(deepar_inputs):
    model, inputs = deepar_inputs
    with pytest.raises(TypeError, match="'timestamps' must hold integer Unix seconds .*got dtype <U"):
        model.forecast({**inputs, "timestamps": inputs["timestamps"].astype(str)})


def test_a_check_failing_inside_fit_is_the_plain_error_it_carries():
    # Windows cut with the likelihood unchecked, so only the loss's own check sees the negative count.
    table = synthetic_forecast_table(2, 24 * 4, likelihood="poisson", seed=0)
    table.loc[30, "target_value"] = -3.0
    windows = ForecastWindows(align_target(table, "H"), 12, 6, [1, 24])
    inputs, labels = windows.labelled_windows(np.array([0, 1]), np.array([40, 40]))
    model = DeepAR(**SMALL)
    model.compile("adam", loss=kerasts.losses.NegativeLogLikelihood("negative_binomial"))
    with pytest.raises(ValueError, match="^The negative_binomial likelihood needs non-negative targets"):
        model.fit(inputs, labels, epochs=1, verbose=0)


def test_backtest_names_a_forecaster_without_the_protocol(deepar_inputs):
    panel = align_target(synthetic_forecast_table(2, 24 * 4), "H")
    with pytest.raises(TypeError, match="Forecaster 'net' \\(DeepAR\\) lacks fit/predict_paths"):
        backtest({"net": deepar_inputs[0]}, panel, 1)


@pytest.fixture(scope="module")
def indexed_two_tower():
    items = [f"i{index}" for index in range(6)]
    model = TwoTower(Tower({"HISTORY": {"type": "multi_categorical", "vocabulary": items, "embedding_dim": 4}},
                           output_dim=4),
                     Tower({"ITEM_ID": {"type": "categorical", "vocabulary": items, "embedding_dim": 4}}, output_dim=4))
    return model.index_candidates({"ITEM_ID": np.array(items, dtype=object)})


def test_two_tower_never_returns_excluded_items_when_k_exceeds_what_is_left(indexed_two_tower):
    ids, scores = indexed_two_tower.retrieve({"HISTORY": ["i1|i2"]}, k=100, seen_item_ids=[["i1", "i2"]])
    assert ids.shape == (1, 6)  # at most the catalog
    assert set(ids[0, :4]) == {"i0", "i3", "i4", "i5"} and list(ids[0, 4:]) == ["", ""]
    assert np.isneginf(scores[0, 4:]).all()


@pytest.mark.parametrize("query, k, error, message", [
    ({"HISTORY": ["i1"]}, 0, ValueError, "`k` must be a positive integer, got 0"),
    ({"HISTORY": ["i1"]}, -1, ValueError, "`k` must be a positive integer, got -1"),
    ({"HISTORY": [1, 2]}, 3, TypeError, "Query feature 'HISTORY' holds strings .* one value is 1 \\(int\\)"),
    ({"HISTORY": "i1|i2"}, 3, TypeError, "must hold one value per query .* got a single str"),
    ({"HISTORY": [np.nan]}, 3, TypeError, "one value is nan"),
    ({}, 3, ValueError, r"lacks feature\(s\) \['HISTORY'\]"),
])
def test_two_tower_retrieve_arguments(indexed_two_tower, query, k, error, message):
    with pytest.raises(error, match=message):
        indexed_two_tower.retrieve(query, k)


def test_mmoe_checks_what_it_predicts_on():
    model = MMoE({"x": {"type": "numeric", "size": 4, "units": None}}, {"y": "regression"}, num_experts=2,
                 expert_units=(4,))
    model.compile("adam")
    x = np.random.default_rng(0).normal(size=(200, 4)).astype("float32")
    model.fit({"x": x}, {"y": x[:, 0]}, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="'x' has 3 column\\(s\\) per row; the model reads 4"):
        model.predict({"x": x[:, :3]}, verbose=0)
    x[5, 1] = np.nan
    with pytest.raises(ValueError, match="'x' holds NaN in 1 rows"):
        model.predict({"x": x}, verbose=0)
    assert model.predict({"x": np.nan_to_num(x)}, verbose=0)["y"].shape == (200, 1)  # rows in, rows out


@pytest.fixture(scope="module")
def sessions():
    events = validate_interactions(synthetic_interactions(num_users=30, num_items=20, seed=3))
    return leave_last_session_out(sessionize(events, gap_seconds=86400), known_items_only=True)


@pytest.fixture(scope="module")
def live(sessions):
    return SessionRecommender(units=4, embedding_dim=3, num_slots=4, epochs=1).fit(sessions[0])


def test_hrnn_arguments_and_inputs(live):
    with pytest.raises(ValueError, match="`item_ids` must list each catalog item once; got 0 ids"):
        HRNN([])
    with pytest.raises(ValueError, match="got 3 ids of which 2 are distinct"):
        HRNN(["a", "b", "a"])
    model = live.model
    zeros = model.zero_states(2)
    beyond, _, _ = model.step(np.array([model.num_items + 5, -1], "int32"), np.ones(2), np.ones(2), *zeros)
    unknown, _, _ = model.step(np.array([0, 0], "int32"), np.ones(2), np.ones(2), *zeros)
    np.testing.assert_allclose(beyond, unknown)  # indices outside the catalog read as unknown
    with pytest.raises(TypeError, match="HRNN steps take item indices"):
        model.step(tf.constant(["i1", "i2"]), np.ones(2), np.ones(2), *zeros)
    batch = {"items": np.ones((3, 2), "int32"), "session_start": np.ones((3, 2), "float32"),
             "user_start": np.ones((3, 2), "float32")}
    with pytest.raises(ValueError, match="num_slots=4 rows per replica .* got 3"):
        model(batch, training=True)


def test_session_recommender_arguments(live, sessions, tmp_path):
    with pytest.raises(ValueError, match="`k` must be a positive integer, got -1"):
        live.recommend(user_id="anyone", k=-1)
    item = live.items.ids[0]
    live.put_events("carol", item, session_id="s1")  # one id alone is one event, not its characters
    assert live.session_items("carol") == [item]
    live.put_events("carol", [item], session_id="s2")
    with pytest.raises(ValueError, match="already left session 's1'"):
        live.put_events("carol", [item], session_id="s1")
    with pytest.raises(ValueError, match="writes one .npz file"):
        live.save(tmp_path)
    with pytest.raises(ValueError, match="no directory"):
        live.save(tmp_path / "missing" / "states.npz")
    live.save(tmp_path / "states.npz")
    other = HRNN(list(reversed(live.items.ids)), units=4, embedding_dim=3, num_slots=4)
    with pytest.raises(ValueError, match="saved over another catalog"):
        SessionRecommender.load(tmp_path / "states.npz", other)
    (tmp_path / "broken.npz").write_bytes((tmp_path / "states.npz").read_bytes()[:50])
    with pytest.raises(ValueError, match="is not a SessionRecommender save \\(or it is damaged\\)"):
        SessionRecommender.load(tmp_path / "broken.npz", live.model)
    history, test = sessions
    with pytest.raises(ValueError, match="None of the .* targets is in the recommender's catalog"):
        evaluate_next_items(Popularity().fit(pd.DataFrame({"USER_ID": ["x"], "ITEM_ID": ["new"], "TIMESTAMP": [0]})),
                            test)


def test_outputs_are_checked_before_the_work(tmp_path, capsys):
    blocked = tmp_path / "file"
    blocked.write_text("")
    with pytest.raises(SystemExit):
        kerasts.cli.main(["demo", "--output-dir", str(blocked / "out"), "--epochs", "1"])
    assert "Cannot write to" in capsys.readouterr().err
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="Cannot write to"):
        kerasts.export.export_saved_model(model, blocked / "saved")


def test_an_interrupted_export_leaves_the_previous_one_whole(tmp_path, monkeypatch):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    kerasts.export.export_saved_model(model, tmp_path / "saved")
    archive_class = type(keras.export.ExportArchive())  # the backend's archive
    original = archive_class.write_out

    def crash_midway(self, filepath, *args, **kwargs):
        original(self, filepath, *args, **kwargs)
        raise KeyboardInterrupt  # the process is stopped after the files were written, before the rename

    monkeypatch.setattr(archive_class, "write_out", crash_midway)
    with pytest.raises(KeyboardInterrupt):
        kerasts.export.export_saved_model(keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)]),
                                          tmp_path / "saved")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["saved"]  # no partial copy left behind
    reloaded = tf.saved_model.load(str(tmp_path / "saved"))
    assert reloaded.serve(tf.zeros((1, 2))).shape == (1, 1)  # the first export, whole


@pytest.fixture(scope="module")
def saved_files(tmp_path_factory):
    directory = tmp_path_factory.mktemp("saved")
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.save(directory / "model.keras")
    kerasts.export.export_saved_model(model, directory / "saved_model")
    return directory


def _damaged_model_file(saved, tmp_path, damage):
    data = (saved / "model.keras").read_bytes()
    damaged = {"empty": b"", "truncated": data[:len(data) // 2], "text": b"not a model",
               "flipped byte": data[:100] + bytes([data[100] ^ 0xFF]) + data[101:]}[damage]
    path = tmp_path / "model.keras"
    path.write_bytes(damaged)
    return path


@pytest.mark.parametrize("damage, message", [
    ("empty", "is not a .keras model file .*empty, truncated.* \\(0 bytes\\)"),
    ("truncated", "is not a .keras model file .*empty, truncated"),
    ("text", "is not a .keras model file"),
    ("flipped byte", "model file .* is damaged .*(checksum|CRC)"),
])
def test_load_model_names_a_damaged_keras_file(saved_files, tmp_path, damage, message):
    path = _damaged_model_file(saved_files, tmp_path, damage)
    with pytest.raises(ValueError, match=message) as raised:
        kerasts.export.load_model(path)
    assert str(path) in str(raised.value)
    with pytest.raises(ValueError, match="There is no model file"):
        kerasts.export.load_model(tmp_path / "absent.keras")
    assert kerasts.export.load_model(saved_files / "model.keras").predict(np.zeros((1, 2)), verbose=0).shape == (1, 1)


def _damage_saved_model(directory, damage):
    variables = directory / "variables"
    if damage == "no graph":
        (directory / "saved_model.pb").unlink()
    elif damage == "graph truncated":
        graph = (directory / "saved_model.pb").read_bytes()
        (directory / "saved_model.pb").write_bytes(graph[:len(graph) // 2])
    elif damage == "no variables index":
        (variables / "variables.index").unlink()
    else:
        shard = next(variables.glob("variables.data-*"))
        shard.write_bytes(shard.read_bytes()[:4])


@pytest.mark.parametrize("damage, message", [
    ("no graph", "is not a SavedModel: it has no saved_model.pb"),
    ("graph truncated", "is damaged or incomplete"),
    ("no variables index", "is incomplete: variables/variables.index is missing"),
    ("variables truncated", "is damaged or incomplete"),
])
def test_load_saved_model_names_a_damaged_export(saved_files, tmp_path, damage, message):
    directory = tmp_path / "saved_model"
    shutil.copytree(saved_files / "saved_model", directory)
    _damage_saved_model(directory, damage)
    with pytest.raises(ValueError, match=message) as raised:
        kerasts.export.load_saved_model(directory)
    assert str(directory) in str(raised.value)
    with pytest.raises(ValueError, match="There is no SavedModel directory"):
        kerasts.export.load_saved_model(tmp_path / "absent")
    assert kerasts.export.load_saved_model(saved_files / "saved_model").serve(tf.zeros((1, 2))).shape == (1, 1)
