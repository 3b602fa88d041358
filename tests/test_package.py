import os
import subprocess
import sys

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

import kerasts
import kerasts.cli
import kerasts.forecast
import kerasts.forecast.ensemble
import kerasts.personalize


def test_public_api():
    for module in ("data", "layers", "likelihoods", "losses", "metrics"):
        assert hasattr(kerasts, module)
    assert kerasts.layers.DistributionOutput and kerasts.losses.NegativeLogLikelihood


def test_import_kerasts_alone_reaches_the_workflows_as_the_readme_uses_them():
    code = ("import kerasts, sys; assert 'kerasts.forecast' not in sys.modules; "
            "print(kerasts.forecast.DatasetGroup.__name__, kerasts.personalize.create_solution.__name__); "
            "kerasts.no_such_module")
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert completed.stdout.split() == ["DatasetGroup", "create_solution"]
    assert "module 'kerasts' has no attribute 'no_such_module'" in completed.stderr


def test_every_serializable_class_is_registered_on_import():
    for name in ("kerasts>DistributionOutput", "kerasts>MeanScaler", "kerasts>NegativeLogLikelihood"):
        assert keras.saving.get_registered_object(name) is not None, name


def test_import_prints_nothing():
    completed = subprocess.run(
        [sys.executable, "-c", "import kerasts"], capture_output=True, text=True,
        env={key: value for key, value in os.environ.items() if not key.startswith("TF_CPP")},
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == "" and completed.stderr == ""


@pytest.mark.slow
def test_demo_runs_end_to_end_from_the_command_line(tmp_path, capsys):
    # The CLI's entry point in this process (`python -m kerasts` itself is run by the test below).
    # Short: one epoch for every network (the default ensemble, and the networks' learning, are tested elsewhere).
    assert kerasts.cli.main(["demo", "--output-dir", str(tmp_path), "--epochs", "1", "--samples", "20",
                             "--networks", "1"]) == 0
    printed = capsys.readouterr().out
    for row in ("Leaderboard", "deepar", "mlp", "npts", "seasonal_naive", "Average wQL", "Chosen:"):
        assert row in printed
    assert (tmp_path / "fan_chart.png").stat().st_size > 10_000
    leaderboard = pd.read_csv(tmp_path / "metrics.csv", index_col=0)
    assert set(leaderboard.index) == {"deepar", "mlp", "npts", "seasonal_naive"}
    assert np.isfinite(leaderboard.loc["deepar", "Average wQL"])
    forecast = pd.read_csv(tmp_path / "forecast.csv", parse_dates=["date"])
    assert list(forecast.columns) == ["item_id", "date", "p10", "p50", "p90"] and len(forecast) == 11 * 24
    assert forecast["date"].min() == pd.Timestamp("2015-01-01 00:00")
    predictor = kerasts.forecast.load_predictor(tmp_path / "predictor")
    pd.testing.assert_frame_equal(predictor.forecast(), forecast, check_dtype=False)
    if (tmp_path / "saved_model").exists():  # the winner is a network
        assert "serve" in dir(tf.saved_model.load(str(tmp_path / "saved_model")))
    recommenders = pd.read_csv(tmp_path / "recommender_metrics.csv", index_col=0)
    assert set(recommenders.index) == {"two-tower", "two-stage", "hrnn", "gru4rec", "popularity-count", "sims", "swing"}
    for row in ("Serving:", "GetRecommendations for", "Batch inference job: 500 users"):
        assert row in printed
    # Generated users follow their group's items, so the two-tower (even after one epoch) and the item-to-item
    # recipes beat popularity.
    assert (recommenders.loc[["two-tower", "sims", "swing"], "recall_at_25"]
            > recommenders.loc["popularity-count", "recall_at_25"]).all()
    version = kerasts.personalize.load_solution_version(tmp_path / "solution")
    assert len((tmp_path / "batch_output.jsonl").read_text().splitlines()) == 500
    if version.recipe_name == "two-tower":
        recommender = tf.saved_model.load(str(tmp_path / "recommender_saved_model"))
        top = recommender.recommend({"HISTORY": tf.constant(["i1|i2"])}, tf.constant([["i1", "i2"]]))
        assert top["item_ids"].shape == (1, 10)
    sessions = pd.read_csv(tmp_path / "session_metrics.csv", index_col=0)
    assert list(sessions.index) == ["HRNN-all", "GRU4Rec", "popularity", "SIMS", "item-kNN (last item)"]
    # The "sequel" order is there to learn (item-to-item shows it; the recurrent models need the demo's 30 epochs,
    # and their learning it is tested in tests/evaluation): the table scores every method on the last sessions.
    assert (sessions.loc[["SIMS", "item-kNN (last item)"], "recall_at_20"]
            > 2 * sessions.loc["popularity", "recall_at_20"]).all()
    assert np.isfinite(sessions.to_numpy()).all()
    sessions_model = tf.saved_model.load(str(tmp_path / "hrnn_step_saved_model"))
    units, user_units = 64, 32
    start = tf.constant([1.0])
    advanced = sessions_model.step(tf.constant(["i3"]), start, start, tf.zeros((1, units)), tf.zeros((1, user_units)))
    assert advanced["item_ids"].shape == (1, 20) and advanced["session_state"].shape == (1, units)
    multitask = pd.read_csv(tmp_path / "multitask_metrics.csv", index_col=0)
    assert len(multitask) == 2 and np.isfinite(multitask.to_numpy()).all()


def test_cli_rejects_bad_arguments(tmp_path, capsys):
    completed = subprocess.run([sys.executable, "-m", "kerasts", "demo", "--epochs", "0"], capture_output=True, text=True)
    assert completed.returncode == 2
    assert "argument --epochs: must be a whole number of at least 1, got '0'" in completed.stderr
    # Counts are refused under the option's name, not the Python argument's it feeds (`forecast_horizon`).
    with pytest.raises(SystemExit):
        kerasts.cli.main(["forecast", "train", "--target", "t.csv", "--frequency", "D", "--horizon", "0",
                          "--output", str(tmp_path / "out")])
    assert "argument --horizon: must be a whole number of at least 1, got '0'" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # candidates that one algorithm would silently ignore
        kerasts.cli.main(["forecast", "train", "--target", "t.csv", "--frequency", "D", "--horizon", "7",
                          "--algorithm", "npts", "--candidates", "npts", "mlp", "--output", str(tmp_path / "out")])
    assert "--candidates is AutoPredictor's: give --algorithm auto" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # a combination of candidates, asked of one algorithm
        kerasts.cli.main(["forecast", "train", "--target", "t.csv", "--frequency", "D", "--horizon", "7",
                          "--algorithm", "npts", "--selection", "ensemble", "--output", str(tmp_path / "out")])
    assert "--selection is AutoPredictor's: give --algorithm auto (the default), not 'npts'" in capsys.readouterr().err
    # The workflow's refusals name the options the user gave, not the Python arguments they feed.
    pd.DataFrame({"item_id": "a", "timestamp": pd.date_range("2025-01-01", periods=30), "target_value": 1.0}).to_csv(
        tmp_path / "t.csv", index=False)
    with pytest.raises(SystemExit):
        kerasts.cli.main(["forecast", "train", "--target", str(tmp_path / "t.csv"), "--frequency", "D", "--horizon",
                          "7", "--algorithm", "npts", "--forecast-types", "mean", "--output", str(tmp_path / "out")])
    assert "error: --forecast-types needs at least one quantile" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # a setting no algorithm of the run reads is refused, not dropped
        kerasts.cli.main(["forecast", "train", "--target", str(tmp_path / "t.csv"), "--frequency", "D", "--horizon",
                          "7", "--algorithm", "npts", "--epochs", "3", "--output", str(tmp_path / "out")])
    assert ("error: --epochs is read by deepar, deepar_nested_lstm, mlp; this run trains npts, which does not read "
            "it: leave it out") in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_csv_table_missing_with_only_a_header_or_not_comma_separated_is_refused_by_name_in_both_workflows(tmp_path):
    from kerasts import forecast, personalize

    with pytest.raises(ValueError, match=r"The target table '.*sales.csv' does not exist"):
        forecast.DatasetGroup(tmp_path / "sales.csv", frequency="D")
    with pytest.raises(ValueError, match=r"The items table '.*items.csv' does not exist"):
        personalize.DatasetGroup(pd.DataFrame({"USER_ID": ["u"], "ITEM_ID": ["i"], "TIMESTAMP": [1]}),
                                 items=tmp_path / "items.csv")

    (tmp_path / "sales.csv").write_text("item_id,timestamp,target_value\n")
    with pytest.raises(ValueError, match=r"The target table '.*sales.csv' has no rows, only the header \['item_id'"):
        forecast.DatasetGroup(str(tmp_path / "sales.csv"), frequency="D")
    (tmp_path / "interactions.csv").write_text("USER_ID,ITEM_ID,TIMESTAMP\n")
    with pytest.raises(ValueError, match=r"The interactions table '.*interactions.csv' has no rows"):
        personalize.DatasetGroup(str(tmp_path / "interactions.csv"))
    # A spreadsheet's export with semicolons: one column of joined fields, named as such.
    (tmp_path / "interactions.csv").write_text("USER_ID;ITEM_ID;TIMESTAMP\nu;i;1\n")
    with pytest.raises(ValueError, match=r"has one column, 'USER_ID;ITEM_ID;TIMESTAMP': its fields are separated by "
                                         r"';', and a CSV's by commas"):
        personalize.DatasetGroup(str(tmp_path / "interactions.csv"))
    (tmp_path / "sales.csv").write_text("target_value\n1\n")  # one column, but a real one: the usual refusal
    with pytest.raises(ValueError, match=r"The target table lacks column\(s\) \['item_id', 'timestamp'\]"):
        forecast.DatasetGroup(str(tmp_path / "sales.csv"), frequency="D")


def test_the_cli_prints_each_warning_once_without_the_source_line(monkeypatch, capsys):
    import warnings

    import kerasts.cli

    def noisy(arguments, parser):  # as three networks trained in turn each warn of the same thing
        for _ in range(3):
            warnings.warn("1 batches per epoch x 10 epochs = 10 updates: the network will likely under-fit")

    monkeypatch.setattr(kerasts.cli, "_personalize_evaluate", noisy)
    assert kerasts.cli.main(["personalize", "evaluate", "any"]) == 0
    assert capsys.readouterr().err == "Warning: 1 batches per epoch x 10 epochs = 10 updates: the network will " \
        "likely under-fit\n"


def test_every_forecaster_and_recommender_implements_its_protocol():
    from kerasts.protocols import Forecaster, Recommender

    for forecaster in (kerasts.models.DeepARForecaster, kerasts.baselines.MLPForecaster, kerasts.baselines.NPTS,
                       kerasts.baselines.SeasonalNaive, kerasts.baselines.StatisticalForecaster,
                       kerasts.forecast.ensemble.WeightedForecaster):
        assert issubclass(forecaster, Forecaster), forecaster
    for recommender in (kerasts.baselines.Popularity, kerasts.baselines.SIMS, kerasts.baselines.Swing,
                        kerasts.models.TwoTowerRecommender, kerasts.models.SessionRecommender):
        assert issubclass(recommender, Recommender), recommender
