"""The Forecast workflow: dataset group -> predictor (AutoPredictor) -> metrics, forecasts, queries,
backtest export, save and load, SavedModel; and its bad input."""

import kerasts  # first, to silence TensorFlow's start-up logging

import json  # noqa: E402
import re  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

from kerasts.forecast import DOMAINS, DatasetGroup, load_predictor, train_predictor  # noqa: E402
from kerasts.forecast import predictor as predictor_module  # noqa: E402

# One network keeps the suite fast; the default ensemble goes through the workflow in test_deepar.py's
# predictor test, the featurization fixture and the demo.
TINY_DEEPAR = {"name": "deepar", "config": {"epochs": 1, "batches_per_epoch": 5, "units": 8, "num_layers": 1,
                                            "batch_shards": 1, "num_samples": 20, "num_networks": 1}}


def _tables(series=3, length=24 * 8, seed=0):
    target = kerasts.data.synthetic_forecast_table(series, length, frequency="h", seed=seed)
    hours = pd.date_range("2024-01-01", periods=length + 24, freq="h")
    related = pd.DataFrame({"item_id": np.repeat([f"item_{index}" for index in range(series)], len(hours)),
                            "timestamp": np.tile(hours, series), "price": np.tile(np.sin(np.arange(len(hours))), series)})
    metadata = pd.DataFrame({"item_id": [f"item_{index}" for index in range(series)],
                             "category": ["a", "b", "a"][:series]})
    return target, related, metadata


@pytest.fixture(scope="module")
def predictor():
    target, related, metadata = _tables()
    group = DatasetGroup(target, related=related, item_metadata=metadata, frequency="H")
    return train_predictor(group, 12, backtest_windows=2, candidates=(TINY_DEEPAR, "npts", "seasonal_naive"),
                           forecast_types=("0.1", "0.5", "0.9", "mean"), num_samples=20, verbose=0)


def test_auto_predictor_backtests_every_candidate_and_keeps_the_best(predictor):
    board = predictor.leaderboard
    assert list(board.index) == sorted(board.index, key=lambda name: board.loc[name, "Average wQL"])
    assert set(board.index) == {"deepar", "npts", "seasonal_naive"} and predictor.algorithm == board.index[0]
    metrics = predictor.metrics
    assert list(metrics.index) == [0, 1, "average"]
    for name in ("wQL[0.1]", "wQL[0.5]", "wQL[0.9]", "Average wQL", "WAPE", "RMSE", "MAPE", "MASE", "sMAPE"):
        assert np.isfinite(metrics.loc["average", name]), name
    assert metrics.loc["average", "Average wQL"] == pytest.approx(metrics.loc[[0, 1], "Average wQL"].mean())


def test_forecasts_and_queries_in_forecast_layouts(predictor):
    table = predictor.forecast()
    assert list(table.columns) == ["item_id", "date", "p10", "p50", "p90", "mean"] and len(table) == 3 * 12
    assert table["date"].min() == predictor.panel.timestamps[-1] + pd.Timedelta(hours=1)
    answer = predictor.query_forecast("item_1")["Forecast"]["Predictions"]
    assert set(answer) == {"p10", "p50", "p90", "mean"} and len(answer["p50"]) == 12
    exported = table[table["item_id"] == "item_1"]["p50"].tolist()
    assert [point["Value"] for point in answer["p50"]] == pytest.approx(exported)  # the same forecast
    with pytest.raises(ValueError, match="No series {'item_id': 'nope'}"):
        predictor.query_forecast("nope")
    with pytest.raises(ValueError, match=r"Unknown dimension\(s\) \['store'\]"):
        predictor.query_forecast("item_1", store="3")


def test_save_and_load_forecast_exactly_the_same(predictor, tmp_path):
    predictor.save(tmp_path / "predictor")
    loaded = load_predictor(tmp_path / "predictor")
    pd.testing.assert_frame_equal(loaded.forecast(), predictor.forecast())
    redrawn = predictor.settings["seed"] + 1  # another seed: the loaded models forecast again
    pd.testing.assert_frame_equal(loaded.forecast(seed=redrawn), predictor.forecast(seed=redrawn))
    pd.testing.assert_frame_equal(loaded.leaderboard, predictor.leaderboard)
    assert loaded.algorithm == predictor.algorithm
    predictor.export_backtest(tmp_path / "backtest")
    values = pd.read_csv(tmp_path / "backtest" / "forecasted-values.csv")
    assert {"backtest_window", "item_id", "date", "target_value", "p10", "p50", "p90", "mean"} <= set(values.columns)
    accuracy = pd.read_csv(tmp_path / "backtest" / "accuracy-metric-values.csv")
    assert len(accuracy) == 3 * 2 and {"wQL[0.5]", "Average wQL", "WAPE", "RMSE"} <= set(accuracy.columns)


def test_a_saved_predictor_keeps_its_forecast(predictor, tmp_path, monkeypatch):
    table = predictor.forecast()
    predictor.save(tmp_path / "predictor")

    def forecasting_again(*args, **kwargs):
        raise AssertionError("the loaded predictor forecast every series again")

    monkeypatch.setattr(predictor_module, "predict_from_origins", forecasting_again)
    loaded = load_predictor(tmp_path / "predictor")
    pd.testing.assert_frame_equal(loaded.forecast(), table)
    assert loaded.query_forecast("item_1") == predictor.query_forecast("item_1")
    np.testing.assert_array_equal(loaded.sample_paths(), predictor.sample_paths())


def test_a_deepar_predictor_exports_its_savedmodel(tmp_path):
    target, related, metadata = _tables()
    group = DatasetGroup(target, related=related, item_metadata=metadata, frequency="H")
    predictor = train_predictor(group, 12, algorithm=TINY_DEEPAR, num_samples=20, verbose=0)
    network = predictor.forecaster.networks[0]
    assert predictor.algorithm == "deepar" and network.num_covariates == 1
    assert network.cardinalities == [3]  # the metadata category, unknown code included
    predictor.export(tmp_path / "saved")
    exported = tf.saved_model.load(str(tmp_path / "saved"))
    assert {"serve", "forecast"} <= set(dir(exported))
    predictor.save(tmp_path / "predictor")
    pd.testing.assert_frame_equal(load_predictor(tmp_path / "predictor").forecast(), predictor.forecast())


def test_an_auto_likelihood_predictor_saves_and_loads_with_the_family_it_picked(tmp_path):
    target, _, _ = _tables()
    spec = {"name": "deepar", "config": {**TINY_DEEPAR["config"], "likelihood": "auto"}}
    predictor = train_predictor(DatasetGroup(target, frequency="H"), 12, algorithm=spec, num_samples=20, verbose=0)
    assert predictor.forecaster.likelihood_name == "student_t"  # the synthetic loads are counts of a higher level
    predictor.save(tmp_path / "predictor")
    loaded = load_predictor(tmp_path / "predictor")
    assert loaded.forecaster.likelihood_name == "student_t"
    pd.testing.assert_frame_equal(loaded.forecast(), predictor.forecast())


def test_series_that_end_early_are_forecast_from_their_own_end():
    target, _, _ = _tables()
    target = target[~((target["item_id"] == "item_2") & (target["timestamp"] >= "2024-01-07"))]  # discontinued
    with pytest.warns(UserWarning, match="end before the backtest windows"):
        predictor = train_predictor(DatasetGroup(target, frequency="H"), 12, algorithm="seasonal_naive", verbose=0)
    own = predictor.forecast(origin="series_end")
    dates = own.groupby("item_id")["date"].min()
    assert dates["item_2"] == pd.Timestamp("2024-01-07") and dates["item_0"] == predictor.panel.timestamps[-1] + \
        pd.Timedelta(hours=1)
    assert predictor.forecast()["date"].min() == dates["item_0"]  # from the dataset's end, every series


def test_series_end_backtests_cut_each_series_windows_at_its_own_end():
    target, _, _ = _tables()
    target = target[~((target["item_id"] == "item_2") & (target["timestamp"] >= "2024-01-07"))]  # discontinued
    group = DatasetGroup(target, frequency="H")
    with pytest.warns(UserWarning, match=r"1 of 3 series end before the backtest windows, e\.g\. 'item_2' \(last value "
                      r"at 2024-01-06 23:00\).* as much as 49 steps after .*forecast_origin='series_end'"):
        from_dataset_end = train_predictor(group, 12, algorithm="seasonal_naive", backtest_windows=2, verbose=0)
    rows = from_dataset_end.backtest_forecasts.query("item_id == 'item_2'")
    assert rows["target_value"].isna().all()  # its windows fall after it stopped: nothing to score
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # its own windows score every series
        own = train_predictor(group, 12, algorithm="seasonal_naive", backtest_windows=2, forecast_origin="series_end",
                              verbose=0)
    rows = own.backtest_forecasts.query("item_id == 'item_2'")
    assert rows["target_value"].notna().all() and rows["date"].max() == pd.Timestamp("2024-01-06 23:00")
    assert rows.groupby("backtest_window")["date"].min().tolist() == [pd.Timestamp("2024-01-06 00:00"),
                                                                       pd.Timestamp("2024-01-06 12:00")]
    assert own.forecast()["date"].min() == pd.Timestamp("2024-01-07")  # the predictor's origin by default
    first = own.query_forecast("item_2")["Forecast"]["Predictions"]["p50"][0]["Timestamp"]
    assert first == "2024-01-07T00:00:00"


def test_windowed_models_context_follows_the_longest_series_not_the_grid():
    from kerasts.forecast.algorithms import build_forecaster

    # Two items of 90 days, years apart (real dates of a competition set): a grid of 1,190 days.
    days = pd.date_range("2020-01-01", periods=90, freq="D")
    table = pd.concat([pd.DataFrame({"item_id": item, "timestamp": days + pd.Timedelta(days=shift),
                                     "target_value": 10.0 + np.arange(90) % 7})
                       for item, shift in (("a", 0), ("b", 1100))])
    panel = DatasetGroup(table, frequency="D").panel(7)
    assert panel.target.shape[1] == 1190
    assert panel.longest_history(len(panel.timestamps)) == 90 and panel.longest_history(1150) == 90
    assert panel.longest_history(np.array([60, -1])) == 60  # one end per series; a negative one leaves it out
    assert panel.longest_history(np.array([-1, 1150])) == 50
    # Seven weeks (49 days) would be more than a third of each item's 90 days: 30 steps, as for one item alone.
    assert build_forecaster("deepar", 7, panel, 1190).context_length == 30
    assert build_forecaster("mlp", 7, panel, np.array([83, 1183])).context_length == 27
    alone = DatasetGroup(table[table["item_id"] == "a"], frequency="D").panel(7)
    assert build_forecaster("deepar", 7, alone, 90).context_length == 30  # unchanged where a series spans the grid


def test_items_launched_late_or_never_observed_are_left_out_where_nothing_precedes():
    target, _, _ = _tables()
    hours = pd.date_range(target["timestamp"].max() - pd.Timedelta(hours=5), periods=6, freq="h")
    target = pd.concat([
        target,
        pd.DataFrame({"item_id": "launched", "timestamp": hours, "target_value": np.arange(6.0)}),  # in the last window
        pd.DataFrame({"item_id": "ghost", "timestamp": hours, "target_value": np.nan}),  # listed, never observed
        pd.DataFrame({"item_id": "even_hours", "timestamp": pd.date_range("2024-01-01", periods=96, freq="2h"),
                      "target_value": 5.0}),  # half the day never observed (the gaps left unfilled below)
    ])
    predictor = train_predictor(DatasetGroup(target, frequency="H"), 12, algorithm="seasonal_naive",
                                backtest_windows=2, filling={"target_value": {"middlefill": "nan"}}, verbose=0)
    scored = predictor.backtest_forecasts.dropna(subset=["p50"])
    assert not {"launched", "ghost"} & set(scored["item_id"])  # no window has a value before it to forecast from
    assert np.isfinite(predictor.metrics.loc["average", "Average wQL"])
    forecast = predictor.forecast()
    assert "ghost" not in set(forecast["item_id"])
    assert forecast.query("item_id == 'launched'")["p50"].eq(5.0).all()  # shorter than a season: its last value
    with pytest.raises(ValueError, match="'ghost' has no observation to forecast from"):
        predictor.query_forecast("ghost")
    answer = predictor.query_forecast("even_hours")["Forecast"]["Predictions"]["p50"]
    assert {point["Value"] for point in answer} == {5.0, None}  # odd hours: no value a season back
    json.loads(json.dumps(answer, allow_nan=False))


def test_series_end_backtest_hides_each_series_windows_from_the_fit():
    target, _, _ = _tables()
    target = target[~((target["item_id"] == "item_2") & (target["timestamp"] >= "2024-01-07"))]
    panel = DatasetGroup(target, frequency="H").panel(12)
    seen = {}

    class Recording(kerasts.baselines.SeasonalNaive):
        def fit(self, panel, end=None):
            seen["target"], seen["end"] = panel.target.copy(), end
            return super().fit(panel, end)

    kerasts.evaluation.backtest({"naive": Recording(24, prediction_length=12)}, panel, 2, fit=True,
                                origin="series_end")
    item_2_end = int(panel.last_observed[2]) + 1
    assert np.isnan(seen["target"][2, item_2_end - 24:]).all() and not np.isnan(seen["target"][2, :item_2_end - 24]).any()
    assert seen["end"] == panel.target.shape[1] - 24 and not np.isnan(seen["target"][0, :seen["end"]]).any()


def test_domains_schemas_dimensions_and_csv_paths(tmp_path):
    target, _, _ = _tables(series=2)
    target = target.rename(columns={"item_id": "metric_name", "target_value": "metric_value"})
    target["region"] = "eu"
    target.to_csv(tmp_path / "target.csv", index=False)
    schema = {"attributes": [{"attributeName": "metric_name", "attributeType": "string"},
                             {"attributeName": "timestamp", "attributeType": "timestamp"},
                             {"attributeName": "metric_value", "attributeType": "float"},
                             {"attributeName": "region", "attributeType": "string"}]}
    group = DatasetGroup(str(tmp_path / "target.csv"), frequency="H", domain="METRICS", dimensions=["region"],
                         schemas={"target": schema})
    panel = group.panel(12)
    assert list(panel.keys.columns) == ["metric_name", "region"] and panel.target.shape == (2, 24 * 8)
    predictor = train_predictor(group, 12, algorithm="npts", verbose=0)
    assert len(predictor.query_forecast("item_0", region="eu")["Forecast"]["Predictions"]["p50"]) == 12
    with pytest.raises(ValueError, match=r"\['region'\] missing \(give region=VALUE too"):
        predictor.query_forecast("item_0")
    assert set(DOMAINS) == {"RETAIL", "INVENTORY_PLANNING", "EC2_CAPACITY", "WORK_FORCE", "WEB_TRAFFIC", "METRICS",
                            "CUSTOM"}


def test_the_cli_trains_evaluates_exports_queries_and_plots(tmp_path, capsys):
    import kerasts.cli

    target, _, _ = _tables(series=2)
    target.rename(columns={"item_id": "sku"}).to_csv(tmp_path / "sales.csv", index=False)
    run = kerasts.cli.main
    assert run(["forecast", "train", "--target", str(tmp_path / "sales.csv"), "--item", "sku", "--frequency", "H",
                "--horizon", "12", "--candidates", "npts", "seasonal_naive", "--output", str(tmp_path / "p"),
                "--quiet"]) == 0
    assert "Leaderboard" in capsys.readouterr().out
    assert run(["forecast", "train", "--target", str(tmp_path / "sales.csv"), "--item", "sku", "--frequency", "H",
                "--horizon", "12", "--algorithm", "npts", "--training-parameters", '{"npts": {"max_seasons": 2}}',
                "--output", str(tmp_path / "npts"), "--quiet"]) == 0
    assert load_predictor(tmp_path / "npts").forecaster.max_seasons == 2
    for parameters, refusal in [('{"mlp": {"epochs": 2}}', "both set mlp's 'epochs'"),
                                ('{"deepar": {"epochs": 2}}', r"names \['deepar'\], which this run does not train"),
                                ('{"mlp": 2}', "a JSON object of algorithm name -> its settings")]:
        with pytest.raises(SystemExit):  # refused before any training
            run(["forecast", "train", "--target", str(tmp_path / "sales.csv"), "--item", "sku", "--frequency", "H",
                 "--horizon", "12", "--algorithm", "mlp", "--epochs", "1", "--training-parameters", parameters,
                 "--output", str(tmp_path / "q")])
        assert re.search(refusal, capsys.readouterr().err)
    assert run(["forecast", "evaluate", str(tmp_path / "p")]) == 0 and "Average wQL" in capsys.readouterr().out
    assert run(["forecast", "export", str(tmp_path / "p"), "--output", str(tmp_path / "f.csv")]) == 0
    assert list(pd.read_csv(tmp_path / "f.csv").columns) == ["sku", "date", "p10", "p50", "p90"]
    capsys.readouterr()
    assert run(["forecast", "query", str(tmp_path / "p"), "--item", "item_1"]) == 0
    assert len(json.loads(capsys.readouterr().out)["Forecast"]["Predictions"]["p90"]) == 12
    assert run(["forecast", "plot", str(tmp_path / "p"), "--item", "item_1", "--output", str(tmp_path / "fan.png")]) == 0
    assert (tmp_path / "fan.png").stat().st_size > 10_000
    with pytest.raises(SystemExit):
        run(["forecast", "evaluate", str(tmp_path / "missing")])
    assert "There is no predictor directory" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # --likelihood reaches DeepAR (refused before any training)
        run(["forecast", "train", "--target", str(tmp_path / "sales.csv"), "--item", "sku", "--frequency", "H",
             "--horizon", "12", "--algorithm", "deepar", "--likelihood", "gamma", "--output", str(tmp_path / "q")])
    error = capsys.readouterr().err
    assert "Unknown likelihood 'gamma'" in error and "Or 'auto', to pick one by the targets' support" in error


def _group(**changes):
    target, related, metadata = _tables(series=2)
    tables = {"target": target, "related": related, "item_metadata": metadata, **changes}
    return DatasetGroup(tables["target"], related=tables["related"], item_metadata=tables["item_metadata"],
                        frequency="H")


BAD_INPUT = [
    ("a misnamed target column", lambda: DatasetGroup(_tables()[0].rename(columns={"target_value": "sales"}),
                                                      frequency="H"), ValueError,
     r"The target table lacks column\(s\) \['target_value'\]"),
    ("a timestamp column given that the related table lacks", lambda: DatasetGroup(
        _tables()[0].rename(columns={"timestamp": "date"}), related=_tables()[1], frequency="H",
        timestamp_column="date"),
     ValueError, r"The related table lacks column\(s\) \['date'\].*: the series 'item_id' and the timestamp 'date' "
                 r"as given\)"),
    ("a missing key column", lambda: DatasetGroup(_tables()[0].drop(columns="item_id"), frequency="H"), ValueError,
     r"target table lacks column\(s\) \['item_id'\]"),
    ("a key column in other case", lambda: DatasetGroup(_tables()[0].rename(columns={"item_id": "Item_ID"}),
                                                        frequency="H"), ValueError,
     r"lacks column\(s\) \['item_id'\].*; names are case-sensitive: rename 'Item_ID' to 'item_id'\."),
    ("a series column given that the table lacks", lambda: DatasetGroup(_tables()[0], frequency="H", item_column="sku"),
     ValueError, r"lacks column\(s\) \['sku'\].*: the series 'sku' as given, the target 'target_value' and the "
                 r"timestamp 'timestamp'\)"),
    ("an unknown domain", lambda: DatasetGroup(_tables()[0], domain="SPORTS"), ValueError, "Unknown dataset domain"),
    ("a schema that disagrees", lambda: DatasetGroup(_tables()[0], frequency="H", schemas={"target": {"attributes": [
        {"attributeName": "item_id", "attributeType": "string"}]}}), ValueError,
     r"the table lacks \[\] and the schema lacks \['target_value', 'timestamp'\]"),
    ("a schema type the data breaks", lambda: DatasetGroup(_tables()[0].assign(target_value="many"), frequency="H",
                                                           schemas={"target": {"attributes": [
        {"attributeName": "item_id", "attributeType": "string"}, {"attributeName": "timestamp", "attributeType": "timestamp"},
        {"attributeName": "target_value", "attributeType": "float"}]}}), ValueError, "says 'target_value' is float"),
    ("unparsable timestamps", lambda: _group(target=_tables()[0].assign(timestamp="someday")).panel(), ValueError,
     "not timestamps"),
    ("a non-numeric target", lambda: _group(target=_tables()[0].assign(target_value="x")).panel(), ValueError,
     "'target_value' must be numeric"),
    ("duplicate items in the metadata", lambda: _group(item_metadata=pd.concat([_tables()[2]] * 2)), ValueError,
     "lists item 'item_0' more than once"),
    ("related series that stop early", lambda: train_predictor(_group(related=_tables(series=2)[1].iloc[:-40]), 12,
                                                               algorithm="npts", verbose=0), ValueError,
     "missing over the forecast horizon"),
    ("a horizon the history cannot hold", lambda: train_predictor(_group(), 150, algorithm="npts", verbose=0),
     ValueError, r"cannot hold a backtest window of 150 steps and still train on at least twice the horizon before "
                 r"it: the longest horizon that fits is about \d+ steps\.$"),
    ("too many backtest windows", lambda: train_predictor(_group(), 24, backtest_windows=7, algorithm="npts",
                                                         verbose=0), ValueError,
     "cannot hold 7 backtest windows of 24 steps 24 apart.*or use fewer"),
    ("an unknown algorithm", lambda: train_predictor(_group(), 12, algorithm="prophet", verbose=0), ValueError,
     "Unknown forecasting algorithm 'prophet'"),
    ("a bad forecast type", lambda: train_predictor(_group(), 12, forecast_types=("p50",), verbose=0), ValueError,
     "Forecast types are quantiles"),
    ("a group that is not one", lambda: train_predictor(_tables()[0], 12), TypeError, "must be a kerasts.forecast"),
]


@pytest.mark.parametrize("case, call, error, message", BAD_INPUT, ids=[case[0] for case in BAD_INPUT])
def test_bad_input_names_the_culprit(case, call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_missing_corrupt_and_foreign_predictor_directories(tmp_path):
    with pytest.raises(ValueError, match="There is no predictor directory"):
        load_predictor(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="is not a kerasts predictor"):
        load_predictor(tmp_path / "empty")
    predictor = train_predictor(_group(), 12, algorithm="npts", verbose=0)
    predictor.save(tmp_path / "p")
    description = json.loads((tmp_path / "p" / "predictor.json").read_text())
    (tmp_path / "p" / "predictor.json").write_text(json.dumps({**description, "format": 99}))
    with pytest.raises(ValueError, match="of format 99"):
        load_predictor(tmp_path / "p")
    predictor.save(tmp_path / "p")  # over the foreign one: replaced whole
    (tmp_path / "p" / "panel.npz").write_bytes(b"broken")
    with pytest.raises(ValueError, match="is damaged"):
        load_predictor(tmp_path / "p")
    predictor.sample_paths()
    predictor.save(tmp_path / "p")  # now with its forecast's paths
    paths_file = tmp_path / "p" / "forecast_paths.npy"
    for damage in (b"", paths_file.read_bytes()[:-8]):  # empty, then cut short
        paths_file.write_bytes(damage)
        with pytest.raises(ValueError, match="is damaged"):
            load_predictor(tmp_path / "p")
    np.save(paths_file, predictor.sample_paths()[:, :, :-1])  # another horizon's paths
    with pytest.raises(ValueError, match=r"holds paths of shape .* the predictor forecasts 2 series 12 steps"):
        load_predictor(tmp_path / "p")


def test_statistical_algorithms_train_save_and_load(tmp_path):
    predictor = train_predictor(_group(), 12, algorithm="theta", verbose=0)
    assert predictor.algorithm == "theta" and np.isfinite(predictor.metrics.loc["average", "Average wQL"])
    predictor.save(tmp_path / "p")
    pd.testing.assert_frame_equal(load_predictor(tmp_path / "p").forecast(), predictor.forecast())
    assert {"ets", "arima", "theta"} <= set(kerasts.forecast.algorithm_names())


def test_a_candidate_setting_is_refused_before_any_candidate_trains(capsys):
    bad = {"name": "arima", "config": {"options": {"aproximation": True}}}
    with pytest.raises(ValueError, match="'aproximation'"):
        train_predictor(_group(), 12, candidates=("seasonal_naive", bad), verbose=1)
    assert "Backtesting" not in capsys.readouterr().out  # seasonal naive, first, did not start


@pytest.mark.parametrize("selection", ["ensemble", "per_item"])
def test_combined_candidates_backtest_forecast_save_and_load(tmp_path, selection):
    target, _, _ = _tables(series=3)
    group = DatasetGroup(target, frequency="H")
    predictor = train_predictor(group, 12, backtest_windows=2, selection=selection, verbose=0, num_samples=20,
                                candidates=("npts", "seasonal_naive", TINY_DEEPAR))
    losses = predictor.item_losses
    if selection == "ensemble":
        assert predictor.algorithm == "ensemble"
        assert set(predictor.forecaster.members) == {"npts", "seasonal_naive", "deepar"}
        assert np.allclose(predictor.forecaster.weights.to_numpy(), 1 / 3)
    else:  # each series its lowest backtest loss: one member when one candidate wins everywhere
        chosen = predictor.forecaster.weights.idxmax(axis=1) if predictor.algorithm == "per_item" else \
            pd.Series(predictor.algorithm, index=losses.index)
        for series, name in chosen.items():
            assert losses.loc[series, name] == losses.loc[series].min()
    combined = predictor.algorithm in ("ensemble", "per_item")
    if combined:
        assert predictor.algorithm in predictor.leaderboard.index
    assert predictor.metrics.shape[0] == 3
    forecast = predictor.forecast()
    assert (forecast["p10"] <= forecast["p90"]).all() and len(forecast) == 3 * 12
    predictor.save(tmp_path / "p")
    loaded = load_predictor(tmp_path / "p")
    pd.testing.assert_frame_equal(loaded.forecast(), forecast)
    if combined:
        with pytest.raises(ValueError, match="not one network"):
            predictor.export(tmp_path / "saved")


def test_quantile_average_averages_the_members_quantiles():
    from kerasts.forecast.ensemble import quantile_average

    rng = np.random.default_rng(0)
    first, second = rng.normal(0, 1, (2, 400, 3)), rng.normal(10, 3, (2, 400, 3))
    combined = quantile_average([first, second])
    for level in (0.1, 0.5, 0.9):
        expected = (np.quantile(first, level, axis=1) + np.quantile(second, level, axis=1)) / 2
        assert np.allclose(np.quantile(combined, level, axis=1), expected, atol=1e-9)
    point = np.ones((2, 1, 3))  # a point forecast is every quantile
    assert np.allclose(quantile_average([point, first], np.array([[1.0, 0.0], [0.5, 0.5]]))[0], 1.0)
    with pytest.raises(ValueError, match="alike"):
        quantile_average([first, rng.normal(size=(2, 50, 3))])


def test_selection_is_checked():
    target, _, _ = _tables(series=2)
    with pytest.raises(ValueError, match="selection"):
        train_predictor(DatasetGroup(target, frequency="H"), 12, selection="vote", verbose=0)
    with pytest.raises(ValueError, match="algorithm='auto'"):
        train_predictor(DatasetGroup(target, frequency="H"), 12, algorithm="npts", selection="ensemble", verbose=0)


def test_member_weights_per_selection():
    from kerasts.forecast.ensemble import member_weights

    board = pd.Series({"a": 0.3, "b": 0.1, "c": 0.2, "d": 0.4})
    losses = pd.DataFrame({"a": [1.0, 5.0, np.nan], "b": [2.0, 1.0, np.nan], "c": [3.0, 1.0, np.nan],
                           "d": [0.5, 9.0, np.nan]}, index=["x", "y", "z"])
    assert member_weights(board, losses, "best")["b"].tolist() == [1.0, 1.0, 1.0]
    ensemble = member_weights(board, losses, "ensemble")
    assert np.allclose(ensemble[["b", "c", "a"]], 1 / 3) and (ensemble["d"] == 0).all()
    per_item = member_weights(board, losses, "per_item")
    # x: d's loss is lowest; y: b and c tie, b ranks higher; z, never scored: the overall best.
    assert per_item.idxmax(axis=1).tolist() == ["d", "b", "b"] and np.allclose(per_item.sum(axis=1), 1)


class _RefusesShortSeries(kerasts.protocols.Forecaster):
    def predict_paths(self, panel, origin=None, num_samples=1, seed=0):
        raise ValueError("needs at least a year of history")


def test_short_series_keep_auto_predictor_going_and_a_refusing_candidate_is_left_out(tmp_path, capsys):
    import kerasts.cli
    from kerasts.forecast import register_algorithm

    register_algorithm("refuses_short_series", lambda horizon, panel, length: _RefusesShortSeries(horizon))
    days = pd.date_range("2024-01-01", periods=40, freq="D")
    table = pd.concat([pd.DataFrame({"item_id": "long", "timestamp": days, "target_value": 10 + np.arange(40) % 7}),
                       pd.DataFrame({"item_id": "stopped", "timestamp": days[:8], "target_value": 5.0 + np.arange(8) % 3})])
    group = DatasetGroup(table, frequency="D")
    # The stopped series has 6 steps before its backtest window, under a weekly season.
    with pytest.warns(UserWarning, match="leaves refuses_short_series out: needs at least a year"):
        predictor = train_predictor(group, 2, forecast_origin="series_end", verbose=0,
                                    candidates=("seasonal_naive", "npts", "ets", "theta", "refuses_short_series"))
    assert set(predictor.leaderboard.index) == {"seasonal_naive", "npts", "ets", "theta"}
    assert predictor.settings["left_out"] == {"refuses_short_series": "needs at least a year of history"}
    forecast = predictor.forecast()
    assert np.isfinite(forecast.select_dtypes("number").to_numpy()).all()
    with pytest.raises(ValueError, match="No candidate algorithm could backtest this data: refuses_short_series"), \
            pytest.warns(UserWarning):
        train_predictor(group, 2, candidates=("refuses_short_series",), verbose=0)
    with pytest.raises(ValueError, match="needs at least a year"), \
            pytest.warns(UserWarning, match="1 of 2 series end before"):  # named, not auto: the error itself
        train_predictor(group, 2, algorithm="refuses_short_series", verbose=0)
    table.to_csv(tmp_path / "sales.csv", index=False)
    with pytest.raises(SystemExit):
        kerasts.cli.main(["forecast", "train", "--target", str(tmp_path / "sales.csv"), "--frequency", "D",
                          "--horizon", "2", "--algorithm", "refuses_short_series", "--output", str(tmp_path / "p")])
    assert "needs at least a year" in capsys.readouterr().err
    assert not (tmp_path / "p").exists()  # a failed run leaves no empty predictor directory
