"""Forecast's featurization and analyses: missing-value filling (what models see and what they are
scored on), holidays, past-only covariates and what-if forecasts; saved with the predictor, on the CLI,
and their bad input."""

import kerasts  # first, to silence TensorFlow's start-up logging

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from kerasts.data.filling import check_filling, fill_related, fill_target  # noqa: E402
from kerasts.data.windows import ForecastWindows  # noqa: E402
from kerasts.evaluation.backtest import window_arrays  # noqa: E402
from kerasts.forecast import DatasetGroup, load_predictor, train_predictor  # noqa: E402

NAN = np.nan
SERIES = np.array([[NAN, 1.0, NAN, 3.0, 8.0, NAN, NAN],
                   [2.0, NAN, NAN, 4.0, NAN, 6.0, 6.0]])


@pytest.mark.parametrize("method, middle_row0, middle_row1, back_row0", [
    ("zero", 0.0, 0.0, 0.0),
    ("mean", 4.0, 4.5, 4.0),
    ("median", 3.0, 5.0, 3.0),
    ("min", 1.0, 2.0, 1.0),
    ("max", 8.0, 6.0, 8.0),
])
def test_target_middle_and_back_fill_use_each_series_own_values(method, middle_row0, middle_row1, back_row0):
    filling = check_filling({"target_value": {"middlefill": method, "backfill": method}}, "target_value")
    values, filled = fill_target(SERIES, filling["target_value"])
    assert np.isnan(values[0, 0])  # frontfill is none: a series starts at its first value
    assert values[0, 2] == middle_row0 and values[1, 1] == values[1, 2] == values[1, 4] == middle_row1
    assert values[0, 5] == values[0, 6] == back_row0
    np.testing.assert_array_equal(filled, np.isnan(SERIES) & ~np.isnan(values))
    assert np.isnan(SERIES[0, 2])  # the input is not altered


def test_target_defaults_are_zero_and_nan_and_value_fill():
    assert check_filling(None, "demand")["demand"] == {"middlefill": "zero", "backfill": "zero"}
    filling = check_filling({"demand": {"middlefill": "value", "middlefill_value": "2.5", "backfill": "nan"}},
                            "demand")["demand"]
    values, filled = fill_target(SERIES, filling)
    assert values[0, 2] == 2.5 and np.isnan(values[0, 5]) and not filled[0, 5]


def test_related_fill_regions_and_the_default_hold():
    # Two history steps missing in the middle, one at the end, and the future (last two steps) partly missing.
    wide = np.array([[1.0, NAN, NAN, 5.0, NAN, 7.0, NAN]])
    held = fill_related(wide, {}, history_length=5)
    np.testing.assert_array_equal(held[0, :6], [1, 1, 1, 5, 5, 7])
    assert np.isnan(held[0, 6])  # the future is never guessed without a futurefill
    chosen = fill_related(wide, {"middlefill": "max", "backfill": "value", "backfill_value": -1.0,
                                 "futurefill": "min"}, history_length=5)
    np.testing.assert_array_equal(chosen[0], [1, 5, 5, 5, -1, 7, 1])


@pytest.mark.parametrize("filling, message", [
    ({"target_value": {"middlefill": "linear"}}, "Unknown middlefill method 'linear' for 'target_value'"),
    ({"target_value": {"backfill": "value"}}, "backfill='value' for 'target_value' needs 'backfill_value'"),
    ({"target_value": {"frontfill": "zero"}}, "frontfill can only be 'none'"),
    ({"target_value": {"futurefill": "zero"}}, "Unknown filling parameter 'futurefill' for 'target_value'"),
    ({"price": {"middlefill": "nan"}}, "Unknown middlefill method 'nan' for 'price'"),
    ({"colour": {"middlefill": "zero"}}, r"`filling` names attribute\(s\) \['colour'\]"),
    ({"target_value": {"middlefill": "value", "middlefill_value": "lots"}}, "'middlefill_value' for 'target_value' "
                                                                           "must be a number"),
    ({"target_value": {"middlefill": "zero", "middlefill_value": 3}}, "apply only with the 'value' method"),
])
def test_bad_filling_is_named(filling, message):
    with pytest.raises(ValueError, match=message):
        check_filling(filling, "target_value", ["price"])


def _gappy_group(related_future=True):
    target = kerasts.data.synthetic_forecast_table(2, 24 * 6, frequency="h", seed=0)
    target["target_value"] = target["target_value"].astype(float)
    gaps = target.index[(target.index % 24 >= 5) & (target.index % 24 < 8)]
    target.loc[gaps, "target_value"] = np.nan
    hours = pd.date_range("2024-01-01", periods=24 * 6 + 12, freq="h")
    related = pd.DataFrame({"item_id": np.repeat(["item_0", "item_1"], len(hours)),
                            "timestamp": np.tile(hours, 2), "price": 1.0})
    if not related_future:
        related = related[related["timestamp"] < hours[24 * 6]]
    return DatasetGroup(target, related=related, frequency="H")


def test_filled_steps_are_inputs_but_neither_targets_nor_scored():
    group = _gappy_group()
    panel = group.panel(12, {"target_value": {"middlefill": "value", "middlefill_value": 1000.0}})
    assert panel.filled.sum() > 0 and (panel.target[panel.filled] == 1000.0).all()
    windows = ForecastWindows(panel, context_length=24, prediction_length=12, lags=[1, 24])
    series, origins = np.array([0, 1]), np.array([60, 61])
    inputs, labels = windows.labelled_windows(series, origins)
    steps = origins[:, None] + np.arange(-24, 12)[None]
    filled = panel.filled[series[:, None], steps]
    assert filled.any()
    np.testing.assert_array_equal(inputs["observed"][:, 24:], 1.0)  # the model reads the filled values...
    np.testing.assert_array_equal(labels[..., 1], (~filled).astype("float32"))  # ...but is not trained on them
    actuals, _ = window_arrays(panel, np.array([50, 50]), 12)
    assert np.isnan(actuals).any() and not (actuals == 1000.0).any()
    trained_on = group.panel(12, {"target_value": {"middlefill": "value", "middlefill_value": 1000.0}},
                             train_on_filled=True)
    assert trained_on.filled is None and (window_arrays(trained_on, np.array([50, 50]), 12)[0] == 1000.0).any()


def test_the_predictor_records_and_saves_its_filling(tmp_path):
    group = _gappy_group(related_future=False)
    with pytest.raises(ValueError, match="Covariate 'price' is missing over the forecast horizon.*futurefill.*"
                                         "past-only \\(`past_only_columns`\\)"):
        train_predictor(group, 12, algorithm="seasonal_naive", verbose=0)
    filling = {"target_value": {"middlefill": "median"}, "price": {"futurefill": "value", "futurefill_value": 2}}
    predictor = train_predictor(group, 12, algorithm="seasonal_naive", verbose=0, filling=filling)
    assert predictor.settings["filling"] == {"target_value": {"middlefill": "median", "backfill": "zero"},
                                             "price": {"futurefill": "value", "futurefill_value": 2.0}}
    assert (predictor.panel.covariates[:, -12:, 0] == 2.0).all()
    predictor.save(tmp_path / "predictor")
    loaded = load_predictor(tmp_path / "predictor")
    assert loaded.settings["filling"] == predictor.settings["filling"]
    np.testing.assert_array_equal(loaded.panel.filled, predictor.panel.filled)
    pd.testing.assert_frame_equal(loaded.forecast(), predictor.forecast())


def test_the_cli_takes_filling_as_json(tmp_path, capsys):
    import kerasts.cli

    group = _gappy_group()
    group.tables["target"].to_csv(tmp_path / "target.csv", index=False)
    arguments = ["forecast", "train", "--target", str(tmp_path / "target.csv"), "--frequency", "H",
                 "--horizon", "12", "--algorithm", "seasonal_naive", "--quiet", "--output", str(tmp_path / "p")]
    assert kerasts.cli.main(arguments + ["--filling", '{"target_value": {"middlefill": "max"}}']) == 0
    assert load_predictor(tmp_path / "p").settings["filling"]["target_value"]["middlefill"] == "max"
    with pytest.raises(SystemExit) as stop:
        kerasts.cli.main(arguments + ["--filling", '{"target_value": {"middlefill": "maximum"}}'])
    assert stop.value.code == 2
    assert "Unknown middlefill method 'maximum'" in capsys.readouterr().err


def test_holidays_travel_with_the_predictor_and_its_savedmodel(tmp_path):
    import tensorflow as tf

    target = kerasts.data.synthetic_forecast_table(3, 24 * 8, frequency="h", seed=0)
    group = DatasetGroup(target, frequency="H")
    tiny = {"name": "deepar", "config": {"epochs": 1, "batches_per_epoch": 3, "units": 8, "num_layers": 1,
                                         "batch_shards": 1, "num_samples": 10, "num_networks": 1}}
    with pytest.raises(ValueError, match="Unknown holiday country 'Narnia'"):
        train_predictor(group, 12, algorithm=tiny, verbose=0, holidays=("Narnia",))
    with pytest.raises(ValueError, match=r"`holidays` are features of deepar and deepar_nested_lstm; none of the "
                                         r"algorithms trained \(ets, theta\) reads them"):  # not silently dropped
        train_predictor(group, 12, candidates=["ets", "theta"], verbose=0, holidays=("US",))
    predictor = train_predictor(group, 12, algorithm=tiny, verbose=0, holidays=("US",), num_samples=10)
    model = predictor.forecaster.model
    assert predictor.settings["holidays"] == ["US"] and "holidays_US" in model.calendar.feature_names
    assert predictor.forecaster.get_config()["holidays"] == ["US"]
    predictor.save(tmp_path / "predictor")
    loaded = load_predictor(tmp_path / "predictor")
    pd.testing.assert_frame_equal(loaded.forecast(), predictor.forecast())
    predictor.export(tmp_path / "saved")
    inputs = predictor.forecaster.windows(predictor.panel, model.lags).last_windows(with_future_target=False)
    exported = tf.saved_model.load(str(tmp_path / "saved"))
    served = exported.forecast({name: tf.constant(value) for name, value in inputs.items()}, tf.constant([3, 0]))
    np.testing.assert_allclose(served["samples"], model.forecast(inputs, seed=3)["samples"], rtol=1e-5)
    steps = DatasetGroup(target.assign(timestamp=np.tile(np.arange(24 * 8), 3)), frequency="step-24")
    with pytest.raises(ValueError, match="Holidays need a calendar; the 'step-24' frequency has none"):
        train_predictor(steps, 12, algorithm=tiny, verbose=0, holidays=("US",))


def _with_past_traffic(series=3, length=24 * 8):
    target = kerasts.data.synthetic_forecast_table(series, length, frequency="h", seed=0)
    hours = pd.date_range("2024-01-01", periods=length + 12, freq="h")
    items = np.repeat([f"item_{index}" for index in range(series)], len(hours))
    related = pd.DataFrame({"item_id": items, "timestamp": np.tile(hours, series),
                            "price": np.tile(np.cos(np.arange(len(hours))), series),
                            "visits": np.random.default_rng(1).poisson(50, len(items)).astype(float)})
    related.loc[related["timestamp"] >= hours[length], "visits"] = np.nan  # unknown after the data
    return target, related


def test_past_only_covariates_are_read_over_the_context_and_need_no_future(tmp_path):
    import tensorflow as tf

    target, related = _with_past_traffic()
    with pytest.raises(ValueError, match="Covariate 'visits' is missing over the forecast horizon"):
        DatasetGroup(target, related=related, frequency="H").panel(12)
    with pytest.raises(ValueError, match=r"`past_only_columns` names \['footfall'\]"):
        DatasetGroup(target, related=related, frequency="H", past_only_columns=("footfall",))
    group = DatasetGroup(target, related=related, frequency="H", past_only_columns=("visits",))
    panel = group.panel(12)
    assert panel.covariate_names == ("price",) and panel.past_covariate_names == ("visits",)
    assert panel.past_covariates.shape == panel.target.shape + (1,)
    windows = ForecastWindows(panel, context_length=24, prediction_length=12, lags=[1, 24])
    inputs = windows.windows(np.array([2]), np.array([100]))
    np.testing.assert_array_equal(inputs["past_covariates"][0, :, 0], panel.past_covariates[2, 76:100, 0])
    tiny = {"name": "deepar", "config": {"epochs": 1, "batches_per_epoch": 3, "units": 8, "num_layers": 1,
                                         "batch_shards": 1, "num_samples": 10, "num_networks": 1}}
    predictor = train_predictor(group, 12, algorithm=tiny, verbose=0, num_samples=10)
    model = predictor.forecaster.model
    assert model.num_past_covariates == 1 and model.num_covariates == 1
    last = predictor.forecaster.windows(predictor.panel, model.lags).last_windows(with_future_target=False)
    changed = {**last, "past_covariates": last["past_covariates"] * 3.0}
    assert not np.allclose(model.forecast(last, seed=1)["mean"], model.forecast(changed, seed=1)["mean"])
    predictor.save(tmp_path / "predictor")
    loaded = load_predictor(tmp_path / "predictor")
    assert loaded.panel.past_covariate_names == ("visits",)
    pd.testing.assert_frame_equal(loaded.forecast(), predictor.forecast())
    predictor.export(tmp_path / "saved")
    exported = tf.saved_model.load(str(tmp_path / "saved"))
    served = exported.forecast({name: tf.constant(value) for name, value in last.items()}, tf.constant([1, 0]))
    np.testing.assert_allclose(served["samples"], model.forecast(last, seed=1)["samples"], rtol=1e-5)


@pytest.fixture(scope="module")
def priced_predictor():
    target, related = _with_past_traffic()
    group = DatasetGroup(target, related=related, frequency="H", past_only_columns=("visits",))
    tiny = {"name": "deepar", "config": {"epochs": 2, "batches_per_epoch": 5, "units": 8, "num_layers": 1,
                                         "batch_shards": 1, "num_samples": 10, "num_networks": 1}}
    return train_predictor(group, 12, algorithm=tiny, verbose=0, num_samples=10,
                           forecast_types=("0.1", "0.5", "0.9", "mean"))


def test_what_if_changes_only_the_series_and_steps_the_scenario_names(priced_predictor):
    predictor = priced_predictor
    future = "2024-01-09 05:00"  # the horizon runs 2024-01-09 00:00 .. 11:00
    cut = {"Action": {"AttributeName": "price", "Operation": "MULTIPLY", "Value": 50},
           "TimeSeriesConditions": [{"AttributeName": "item_id", "AttributeValue": "item_1", "Condition": "EQUALS"},
                                    {"AttributeName": "timestamp", "AttributeValue": future,
                                     "Condition": "GREATER_THAN"}]}
    table = predictor.what_if(transformations=[cut])
    assert list(table.columns) == ["item_id", "date", "baseline_p10", "baseline_p50", "baseline_p90",
                                   "baseline_mean", "what_if_p10", "what_if_p50", "what_if_p90", "what_if_mean"]
    pd.testing.assert_frame_equal(table[["item_id", "date"] + [c for c in table if c.startswith("baseline_")]]
                                  .rename(columns=lambda c: c.removeprefix("baseline_")), predictor.forecast())
    moved = ~np.isclose(table["baseline_mean"], table["what_if_mean"])
    assert moved.any() and (table.loc[moved, "item_id"] == "item_1").all()
    assert (table.loc[moved, "date"] > pd.Timestamp(future)).all()  # an autoregressive model: from the change on
    untouched = predictor.panel.covariates.copy()
    replacement = pd.DataFrame({"item_id": ["item_2"] * 3, "timestamp": pd.date_range("2024-01-09 02:00", periods=3,
                                                                                      freq="h"), "price": 9.0})
    replaced = predictor.what_if(replacements=replacement)
    moved = ~np.isclose(replaced["baseline_mean"], replaced["what_if_mean"])
    assert moved.any() and (replaced.loc[moved, "item_id"] == "item_2").all()
    np.testing.assert_array_equal(predictor.panel.covariates, untouched)  # the predictor's data is unchanged


@pytest.mark.parametrize("arguments, message", [
    ({}, "Give `replacements`"),
    ({"transformations": [{"Action": {"AttributeName": "cost", "Operation": "ADD", "Value": 1}}]},
     "transformation 0 changes 'cost', not a related series"),
    ({"transformations": [{"Action": {"AttributeName": "price", "Operation": "POWER", "Value": 2}}]},
     "unknown Operation 'POWER'"),
    ({"transformations": [{"Action": {"AttributeName": "price", "Operation": "ADD", "Value": 1},
                           "TimeSeriesConditions": [{"AttributeName": "item_id", "AttributeValue": "item_9",
                                                     "Condition": "EQUALS"}]}]}, "no series has item_id = 'item_9'"),
    ({"transformations": [{"Action": {"AttributeName": "price", "Operation": "ADD", "Value": 1},
                           "TimeSeriesConditions": [{"AttributeName": "colour", "AttributeValue": "red",
                                                     "Condition": "EQUALS"}]}]}, "must be a key column"),
    ({"replacements": pd.DataFrame({"item_id": ["item_7"], "timestamp": ["2024-01-09"], "price": [1.0]})},
     r"names series the predictor does not have: \[\('item_7',\)\]"),
    ({"replacements": pd.DataFrame({"item_id": ["item_1"], "timestamp": ["2024-01-09"], "cost": [1.0]})},
     r"column\(s\) \['cost'\] are not related series"),
    ({"replacements": pd.DataFrame({"item_id": ["item_1"], "timestamp": ["2031-01-09"], "price": [1.0]})},
     "outside the predictor's grid and horizon"),
    ({"replacements": pd.DataFrame({"item_id": ["item_1", "item_1"], "timestamp": ["2024-01-09 00:00", "2024-01-09 01:00"],
                                    "price": [1.0, "cheap"]})},  # was dropped without a word
     "`replacements` column 'price' must be numeric; e.g. row 1 holds 'cheap'"),
    ({"replacements": pd.DataFrame({"item_id": ["item_1"], "timestamp": ["2024-01-09"], "price": [np.inf]})},
     "`replacements` column 'price' must hold finite numbers"),
    ({"transformations": [{"Action": {"AttributeName": "price", "Operation": "MULTIPLY", "Value": float("inf")}}]},
     "Value must be a finite number, got inf"),
    ({"transformations": [{"Action": {"AttributeName": "price", "Operation": "MULTIPLY", "Value": "half"}}]},
     "Value must be a finite number, got 'half'"),
])
def test_what_if_names_bad_scenarios(priced_predictor, arguments, message):
    with pytest.raises(ValueError, match=message):
        priced_predictor.what_if(**arguments)


def test_what_if_conditions_on_item_attributes_and_related_values_as_forecasts_do():
    import dataclasses

    from kerasts.data import TimeSeriesPanel
    from kerasts.forecast.what_if import transform_related

    panel = TimeSeriesPanel(keys=pd.DataFrame({"item_id": ["soap", "bread", "cake", "new"]}),
                            timestamps=pd.date_range("2025-01-01", periods=6, freq="D"), target=np.ones((4, 6)),
                            frequency="D")
    prices = np.tile(np.arange(8, dtype="float32"), (4, 1))[..., None]  # 0 .. 7 over 6 days and 2 ahead
    panel = panel.with_related(covariates=prices, covariate_names=["price"], static_categories=[[1, 2], [2, 1],
                               [2, 3], [0, 0]], cardinalities=[3, 4], category_names=["category", "size"],
                               category_vocabularies=[["bath", "bakery"], ["9", "10", "250"]])

    def changed(*conditions):
        action = {"AttributeName": "price", "Operation": "ADD", "Value": 100}
        scenario = transform_related(panel, [{"Action": action, "TimeSeriesConditions": list(conditions)}])
        return scenario.covariates[..., 0] != panel.covariates[..., 0]

    bakery = changed({"AttributeName": "category", "AttributeValue": "bakery", "Condition": "EQUALS"})
    assert bakery.all(axis=1).tolist() == [False, True, True, False] and not bakery[[0, 3]].any()
    # Numbers as numbers: "9" < "10" < "250" (as text "10" < "250" < "9"); an item without a size is not greater.
    large = changed({"AttributeName": "size", "AttributeValue": "9", "Condition": "GREATER_THAN"})
    assert large.all(axis=1).tolist() == [True, False, True, False]
    cheap = changed({"AttributeName": "price", "AttributeValue": "3", "Condition": "LESS_THAN"},
                    {"AttributeName": "category", "AttributeValue": "bath", "Condition": "NOT_EQUALS"})
    assert cheap[1:, :3].all() and not cheap[1:, 3:].any() and not cheap[0].any()  # "new" has no category: not bath
    ids = dataclasses.replace(panel, keys=pd.DataFrame({"item_id": ["7", "007", "8", "10"]}))
    equal = transform_related(ids, [{"Action": {"AttributeName": "price", "Operation": "ADD", "Value": 1},
                                     "TimeSeriesConditions": [{"AttributeName": "item_id", "AttributeValue": "7",
                                                               "Condition": "EQUALS"}]}])
    assert (equal.covariates != ids.covariates).any(axis=(1, 2)).tolist() == [True, False, False, False]
    with pytest.raises(ValueError, match="a related series \\['price'\\] or 'timestamp', got 'colour'"):
        changed({"AttributeName": "colour", "AttributeValue": "red", "Condition": "EQUALS"})
    with pytest.raises(ValueError, match="related series 'price' needs a numeric AttributeValue, got 'low'"):
        changed({"AttributeName": "price", "AttributeValue": "low", "Condition": "LESS_THAN"})
    with pytest.raises(ValueError, match="no series has category = 'toys'"):
        changed({"AttributeName": "category", "AttributeValue": "toys", "Condition": "EQUALS"})


def test_what_if_on_the_cli(priced_predictor, tmp_path, capsys):
    import json

    import kerasts.cli

    priced_predictor.save(tmp_path / "predictor")
    pd.DataFrame({"item_id": ["item_0"], "timestamp": ["2024-01-09 00:00"], "price": [5.0]}).to_csv(
        tmp_path / "prices.csv", index=False)
    rule = [{"Action": {"AttributeName": "price", "Operation": "ADD", "Value": 3}}]
    assert kerasts.cli.main(["forecast", "what-if", str(tmp_path / "predictor"), "--replacements",
                             str(tmp_path / "prices.csv"), "--transformations", json.dumps(rule), "--output",
                             str(tmp_path / "what_if.csv")]) == 0
    table = pd.read_csv(tmp_path / "what_if.csv")
    assert len(table) == 3 * 12 and not np.allclose(table["baseline_p50"], table["what_if_p50"])


def _category_tables(length=24 * 6):
    """Four items per category, the category setting the level (10 or 1,000); one new item in each
    category has item metadata and related prices but no target history."""
    rows, generator = [], np.random.default_rng(0)
    hours = pd.date_range("2024-01-01", periods=length, freq="h")
    daily = 1 + 0.3 * np.sin(2 * np.pi * np.arange(length) / 24)
    for category, level in (("small", 10.0), ("large", 1000.0)):
        for index in range(4):
            values = level * daily * generator.uniform(0.9, 1.1, length)
            rows.append(pd.DataFrame({"item_id": f"{category}_{index}", "timestamp": hours, "target_value": values}))
    target = pd.concat(rows, ignore_index=True)
    items = [f"{category}_{index}" for category in ("small", "large") for index in range(5)]
    metadata = pd.DataFrame({"item_id": items, "category": [item.split("_")[0] for item in items]})
    return target, metadata


@pytest.mark.parametrize("algorithm", ["seasonal_naive", "deepar"])
def test_cold_start_items_are_forecast_at_their_category_level(algorithm, tmp_path):
    target, metadata = _category_tables()
    group = DatasetGroup(target, item_metadata=metadata, frequency="H")
    assert group.cold_start_items() == ["large_4", "small_4"]
    spec = algorithm if algorithm != "deepar" else {
        "name": "deepar", "config": {"epochs": 2, "batches_per_epoch": 10, "units": 8, "num_layers": 1,
                                     "batch_shards": 1, "num_samples": 20, "num_networks": 1}}
    predictor = train_predictor(group, 12, algorithm=spec, verbose=0, num_samples=20)
    table = predictor.forecast()
    assert list(table.columns[:3]) == ["item_id", "cold_start", "date"]
    assert set(table.loc[table["cold_start"], "item_id"]) == {"large_4", "small_4"}
    medians = table.groupby("item_id")["p50"].median()
    assert 500 < medians["large_4"] < 2000 and 5 < medians["small_4"] < 20
    assert predictor.backtest_forecasts.query("item_id == 'large_4'")["target_value"].isna().all()  # not scored
    predictor.save(tmp_path / "predictor")
    loaded = load_predictor(tmp_path / "predictor")
    pd.testing.assert_frame_equal(loaded.forecast(), table)  # the forecast kept with it
    redrawn = predictor.settings["seed"] + 1  # another seed: the loaded model forecasts again
    pd.testing.assert_frame_equal(loaded.forecast(seed=redrawn), predictor.forecast(seed=redrawn))


def test_a_numeric_item_attribute_is_a_category_as_in_forecast():
    target, metadata = _category_tables()
    packs = metadata.assign(category=metadata["category"].map({"small": 6, "large": 24}))
    group = DatasetGroup(target, item_metadata=packs, frequency="H")
    panel = group.panel(12)
    assert list(panel.category_names) == ["category"] and list(panel.cardinalities) == [3]  # 6, 24 and unknown
    table = train_predictor(group, 12, algorithm="seasonal_naive", verbose=0).forecast()
    medians = table.groupby("item_id")["p50"].median()
    assert 500 < medians["large_4"] < 2000 and 5 < medians["small_4"] < 20  # cold items placed by their pack


def test_cold_start_items_need_metadata_to_be_placed():
    target, metadata = _category_tables()
    prices = pd.DataFrame({"item_id": "ghost", "timestamp": pd.date_range("2024-01-01", periods=3, freq="h"),
                           "price": 1.0})
    with pytest.raises(ValueError, match=r"no target history and no item metadata: \['ghost'\]"):
        DatasetGroup(target, related=prices, item_metadata=metadata, frequency="H")
    bare = metadata.assign(category=lambda frame: frame["category"].where(frame["item_id"] != "small_4"))
    with pytest.raises(ValueError, match=r"Cold-start items \['small_4'\] have no attribute value"):
        DatasetGroup(target, item_metadata=bare, frequency="H").panel(12)
    ids_only = metadata[["item_id"]]
    with pytest.raises(ValueError, match=r"Items \['large_4', 'small_4'\] have no target history"):
        DatasetGroup(target, item_metadata=ids_only, frequency="H").panel(12)


class _PriceDriven(kerasts.protocols.Forecaster):
    """Forecasts 10 x (1 + price) over the horizon, plus 5 for attribute code 2: a known response to score."""

    def fit(self, panel, end=None):
        return self

    def predict_paths(self, panel, origin=None, num_samples=1, seed=0):
        origin = self.forecast_origin(panel, origin)
        price = panel.covariates[:, origin:origin + self.prediction_length, 0]
        level = 10 * (1 + price) + 5 * (panel.static_categories[:, :1] == 2)
        return np.repeat(level[:, None], num_samples, axis=1)


def test_impact_scores_find_what_moves_the_forecast_and_not_what_does_not():
    from kerasts.forecast.impact import impact_scores

    target, metadata = _category_tables()
    hours = pd.date_range("2024-01-01", periods=24 * 6 + 12, freq="h")
    items = sorted(target["item_id"].unique())
    related = pd.DataFrame({"item_id": np.repeat(items, len(hours)), "timestamp": np.tile(hours, len(items)),
                            "price": np.tile(np.linspace(0, 2, len(hours)), len(items)),
                            "noise": np.random.default_rng(0).normal(size=len(items) * len(hours))})
    panel = DatasetGroup(target, related=related, item_metadata=metadata[metadata["item_id"].isin(items)],
                         frequency="H").panel(12)
    per_series, overall = impact_scores(_PriceDriven(12), panel, np.full(len(items), 24 * 6), 3, 0, 24 * 6)
    assert list(overall.index) == ["price", "category", "noise"] and per_series.shape == (len(items), 3)
    assert overall.loc["noise", "magnitude"] == 0
    price = np.linspace(0, 2, len(hours))
    with_price, held = 10 * (1 + price[24 * 6:]), 10 * (1 + price[:24 * 6].mean())
    large = [name.startswith("large") for name in per_series.index]  # code 1 "large", 2 "small" (sorted)
    expected = np.mean((with_price - held) / (with_price + held))  # in the large items, without the attribute's 5
    np.testing.assert_allclose(per_series.loc[large, "price"], expected, rtol=1e-5)
    assert expected > 0.15
    assert (per_series.loc[large, "category"] == 0).all() and (per_series.loc[~np.array(large), "category"] > 0).all()


def test_impact_scores_of_a_predictor_and_on_the_cli(priced_predictor, tmp_path, capsys):
    import kerasts.cli

    overall, per_item = priced_predictor.impact_scores()
    assert set(overall.index) == {"price", "visits"} and set(overall["kind"]) == {"related series",
                                                                                   "past-only related series"}
    assert overall["magnitude"].between(0, 1).all() and len(per_item) == 3
    priced_predictor.save(tmp_path / "predictor")
    assert kerasts.cli.main(["forecast", "explain", str(tmp_path / "predictor"), "--output", str(tmp_path / "i.csv"),
                             "--per-item", str(tmp_path / "items.csv"), "--plot", str(tmp_path / "i.png")]) == 0
    assert list(pd.read_csv(tmp_path / "i.csv")["feature"]) == list(overall.index)
    assert (tmp_path / "i.png").stat().st_size > 0 and "Impact scores" in capsys.readouterr().out


def test_each_series_can_read_its_own_countrys_holidays(tmp_path):
    import tensorflow as tf

    days = pd.date_range("2024-05-01", "2024-07-10", freq="D")
    target = pd.DataFrame({"item_id": np.repeat(["boston", "osaka", "nowhere"], len(days)),
                           "timestamp": np.tile(days, 3), "target_value": 10.0 + np.arange(3 * len(days)) % 7})
    metadata = pd.DataFrame({"item_id": ["boston", "osaka", "nowhere"], "country": ["US", "JP", None]})
    group = DatasetGroup(target, item_metadata=metadata, frequency="D")
    tiny = {"name": "deepar", "config": {"epochs": 1, "batches_per_epoch": 3, "units": 8, "num_layers": 1,
                                         "batch_shards": 1, "num_samples": 10, "context_length": 14, "num_networks": 1}}
    with pytest.raises(ValueError, match=r"`holiday_attribute` 'region' must be a column of the item metadata.*"
                                         r"\['country'\]"):
        train_predictor(group, 7, algorithm=tiny, verbose=0, holiday_attribute="region")
    with pytest.raises(ValueError, match="`holiday_attribute` 'country' names a column of the item metadata, and the "
                                         "dataset group has none"):
        train_predictor(DatasetGroup(target, frequency="D"), 7, algorithm=tiny, verbose=0, holiday_attribute="country")
    bad = DatasetGroup(target, item_metadata=metadata.replace({"JP": "Atlantis"}), frequency="D")
    with pytest.raises(ValueError, match="`holiday_attribute` 'country': Unknown holiday country 'Atlantis'"):
        train_predictor(bad, 7, algorithm=tiny, verbose=0, holiday_attribute="country")
    predictor = train_predictor(group, 7, algorithm=tiny, verbose=0, holiday_attribute="country", num_samples=10)
    model = predictor.forecaster.model
    windows = predictor.forecaster.windows(predictor.panel, model.lags)
    origin = int(np.flatnonzero(predictor.panel.timestamps == "2024-07-01")[0])  # the horizon holds July 4th
    inputs = windows.windows(np.arange(3), np.full(3, origin), with_future_target=False)
    features = np.asarray(model._dynamic_features(inputs, tf.constant(inputs["observed"], tf.float32)))
    holiday = features[:, :, 3]  # daily: day of week, month and year, then the own country's holidays
    july_4 = 14 + 3  # the context's 14 days, then July 1st, 2nd, 3rd, 4th
    assert list(predictor.panel.keys["item_id"]) == ["boston", "nowhere", "osaka"]
    assert holiday[0, july_4] == 1 and holiday[2, july_4] == 0 and not holiday[1].any()
    assert holiday[0].sum() == 2 and holiday[2].sum() == 0  # Memorial Day isn't in the window; Juneteenth is
    predictor.save(tmp_path / "predictor")
    pd.testing.assert_frame_equal(load_predictor(tmp_path / "predictor").forecast(), predictor.forecast())
