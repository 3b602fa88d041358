import dataclasses
import warnings

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

import kerasts
from kerasts.data import ForecastWindows, align_target
from kerasts.losses import NegativeLogLikelihood
from kerasts.models import DeepAR, DeepARForecaster
from kerasts.testing import TestCase

LAGS = [1, 2, 24]
# One batch shard keeps the graphs small and the suite fast; tests/layers/test_recurrent_stack.py
# checks the sharded stack (outputs, gradients, harness with export and distribution).
SMALL = {"prediction_length": 6, "context_length": 12, "frequency": "H", "lags": LAGS, "units": 8,
         "num_layers": 2, "likelihood": "negative_binomial", "num_samples": 20, "batch_shards": 1}


def _panel(num_series=4, length=24 * 8, likelihood="negative_binomial", **related):
    table = kerasts.data.synthetic_forecast_table(num_series, length, likelihood=likelihood, seed=0)
    return align_target(table, "H").with_related(**related)


def _windows(num_series=4, length=24 * 8, likelihood="negative_binomial", **related):
    return ForecastWindows(_panel(num_series, length, likelihood, **related), SMALL["context_length"],
                           SMALL["prediction_length"], LAGS, likelihood=likelihood)


def _batch(windows, size=8, seed=0):
    inputs, labels = next(iter(windows.training_dataset(size, seed=seed)))
    return {name: np.asarray(value) for name, value in inputs.items()}, np.asarray(labels)


class DeepARHarnessTest(TestCase):
    def test_harness(self):
        windows = _windows()
        inputs, labels = _batch(windows)
        forecast_inputs = (windows.last_windows(with_future_target=False), np.array([7, 0], "int32"))
        self.run_model_test(DeepAR, SMALL, inputs, expected_output_shape=(8, 18, 2), target=labels,
                            loss=NegativeLogLikelihood("negative_binomial"),
                            endpoint_inputs={"forecast": forecast_inputs})

    def test_harness_with_covariates_and_categories_and_gru(self):
        windows = _windows(covariates=np.random.default_rng(1).normal(size=(4, 24 * 8 + 6, 2)),
                           static_categories=np.array([[1, 0], [2, 1], [1, 1], [0, 0]]), cardinalities=[3, 2])
        inputs, labels = _batch(windows)
        mean, std = windows.covariate_statistics()
        config = {**SMALL, "cell": "gru", "num_covariates": 2, "covariate_mean": mean, "covariate_std": std,
                  "cardinalities": [3, 2]}
        forecast_inputs = (windows.last_windows(with_future_target=False), np.array([7, 0], "int32"))
        self.run_model_test(DeepAR, config, inputs, expected_output_shape=(8, 18, 2), target=labels,
                            loss=NegativeLogLikelihood("negative_binomial"), run_distribution_check=False,
                            endpoint_inputs={"forecast": forecast_inputs})


    def test_harness_standardised_student_t(self):
        self._run_with(_windows(likelihood="student_t"), "student_t", "std", parameters=3)

    def test_harness_beta_unscaled(self):
        self._run_with(_rate_windows(), "beta", "none", parameters=2)

    def _run_with(self, windows, likelihood, scaling, parameters):
        inputs, labels = _batch(windows)
        forecast_inputs = (windows.last_windows(with_future_target=False), np.array([7, 0], "int32"))
        config = {**SMALL, "likelihood": likelihood, "scaling": scaling}
        self.run_model_test(DeepAR, config, inputs, expected_output_shape=(8, 18, parameters), target=labels,
                            loss=NegativeLogLikelihood(likelihood), run_distribution_check=False,
                            endpoint_inputs={"forecast": forecast_inputs})


def _rate_panel():
    """The synthetic panel squashed into (0, 1): rates, for the beta likelihood."""
    panel = _panel(likelihood="student_t")
    rates = 1 / (1 + np.exp(-(panel.target - np.nanmean(panel.target)) / np.nanstd(panel.target)))
    return dataclasses.replace(panel, target=rates)


def _rate_windows():
    return ForecastWindows(_rate_panel(), SMALL["context_length"], SMALL["prediction_length"], LAGS, likelihood="beta")


def _trained(windows, epochs=2, **overrides):
    keras.utils.set_random_seed(0)
    model = DeepAR(**{**SMALL, **overrides})
    model.compile(kerasts.optimizers.Adam(0.01), loss=NegativeLogLikelihood(model.likelihood))
    model.fit(windows.training_dataset(16), steps_per_epoch=10, epochs=epochs, verbose=0)
    return model


def test_fit_takes_validation_data_and_callbacks():
    windows = _windows()
    end = len(windows.panel.timestamps) - SMALL["prediction_length"]
    model = DeepAR(**SMALL)
    model.compile(kerasts.optimizers.Adam(0.01), loss=NegativeLogLikelihood("negative_binomial"))
    history = model.fit(windows.training_dataset(16, end=end), steps_per_epoch=5, epochs=4, verbose=0,
                        validation_data=windows.validation_data(len(windows.panel.timestamps)),
                        callbacks=[keras.callbacks.EarlyStopping(patience=1, restore_best_weights=True)])
    assert len(history.history["val_loss"]) == len(history.history["loss"]) >= 2
    assert np.all(np.isfinite(history.history["val_loss"]))


def test_forecast_is_seeded_and_shaped():
    windows = _windows()
    model = _trained(windows, epochs=1)
    inputs = windows.last_windows(with_future_target=False)
    first = model.forecast(inputs, num_samples=30, seed=4)
    assert first["samples"].shape == (4, 30, 6) and first["quantiles"].shape == (4, 3, 6)
    np.testing.assert_array_equal(first["samples"], model.forecast(inputs, num_samples=30, seed=4)["samples"])
    assert not np.array_equal(first["samples"], model.forecast(inputs, num_samples=30, seed=5)["samples"])
    assert np.all(first["samples"] >= 0) and np.all(first["samples"] % 1 == 0)  # negative binomial counts
    np.testing.assert_allclose(first["mean"], first["samples"].mean(axis=1), rtol=1e-5)
    np.testing.assert_allclose(first["quantiles"][:, 1], np.quantile(first["samples"], 0.5, axis=1), rtol=1e-5)


def test_forecast_in_chunks_keeps_each_series_rows_and_seed(monkeypatch):
    monkeypatch.setattr(kerasts.models.deepar.sampling, "PATHS_PER_CHUNK", 20)  # 2 series per chunk of 10 paths
    windows = _windows()
    model = _trained(windows, epochs=1)
    series = np.array([0, 1, 2, 3, 0])  # 3 chunks, the last one filled up with a zero row
    inputs = windows.windows(series, np.full(5, 150), with_future_target=False)
    chunked = model.forecast(inputs, num_samples=10, seed=2)["samples"]
    assert chunked.shape == (5, 10, 6) and np.all(np.isfinite(chunked))
    first_chunk = model.forecast({name: value[:2] for name, value in inputs.items()}, num_samples=10, seed=2)
    np.testing.assert_array_equal(chunked[:2], first_chunk["samples"])
    assert not np.array_equal(chunked[4], chunked[0])  # same window, another chunk: its own draws


@pytest.mark.parametrize("likelihood, scaling", [("negative_binomial", "mean"), ("student_t", "std")])
def test_sampling_loop_fed_the_truth_reproduces_teacher_forcing(likelihood, scaling, monkeypatch):
    windows = _windows(likelihood=likelihood)
    model = DeepAR(**{**SMALL, "likelihood": likelihood, "scaling": scaling})
    full = windows.windows(np.arange(4), np.full(4, 150))
    teacher_forced = np.asarray(model(full))[:, SMALL["context_length"]:]
    truth = full["target"][:, -SMALL["prediction_length"]:]
    recorded = []

    def feed_truth(likelihood, parameters, num_samples, seed):
        recorded.append(np.asarray(parameters))
        return tf.constant(truth[:, len(recorded) - 1])

    monkeypatch.setattr(kerasts.models.deepar.sampling, "_draw", feed_truth)  # eager, so parameters are readable
    past = windows.windows(np.arange(4), np.full(4, 150), with_future_target=False)
    kerasts.models.deepar.sampling.sample_paths(model, past, 1, tf.constant([0, 0]))
    assert len(recorded) == SMALL["prediction_length"]
    np.testing.assert_allclose(np.stack(recorded, axis=1), teacher_forced, rtol=1e-4, atol=1e-4)


def test_paths_of_a_symmetric_family_come_in_antithetic_pairs():
    windows = _windows(likelihood="student_t")
    model = _trained(windows, epochs=1, likelihood="student_t", scaling="std")
    paths = model.forecast(windows.last_windows(with_future_target=False), num_samples=7, seed=3)["samples"]
    # Every path of a series starts from the same state: the first step's pairs (i, i + 3) reflect each
    # other about one location, and the odd seventh path draws on its own.
    pair_means = (paths[:, :3, 0] + paths[:, 3:6, 0]) / 2
    np.testing.assert_allclose(pair_means, np.broadcast_to(pair_means[:, :1], pair_means.shape), rtol=1e-4, atol=1e-4)
    assert not np.allclose(paths[:, :3, 0], paths[:, 3:6, 0])
    assert not np.allclose((paths[:, 0, 0] + paths[:, 6, 0]) / 2, pair_means[:, 0])
    # Later steps feed each path its own draws: the pairs are no longer reflections about one location.
    last_pair_means = (paths[:, :3, -1] + paths[:, 3:6, -1]) / 2
    assert not np.allclose(last_pair_means, last_pair_means[:, :1])


RECIPE = {"units": 8, "num_layers": 1, "batch_shards": 1, "epochs": 2, "batches_per_epoch": 5, "batch_size": 16,
          "likelihood": "negative_binomial", "num_samples": 20, "num_networks": 1}  # one network: these check its settings


def test_the_recipe_fits_the_panel_it_is_given_and_repeats_with_its_seed():
    covariates = np.random.default_rng(1).normal(size=(4, 24 * 8 + 6, 1))
    panel = _panel(covariates=covariates, static_categories=np.array([[1], [2], [1], [0]]), cardinalities=[3])
    end = len(panel.timestamps) - 24
    forecaster = DeepARForecaster(6, 12, **RECIPE).fit(panel, end=end)
    model = forecaster.model
    assert model.lags == kerasts.data.lags_for_frequency("H", history_length=end)  # capped at half the history
    assert model.num_covariates == 1 and model.cardinalities == [3]
    np.testing.assert_allclose(model.covariate_mean, covariates[:, :end].mean(axis=(0, 1)), rtol=1e-4)
    paths = forecaster.predict_paths(panel, origin=end, seed=3)
    assert paths.shape == (4, 20, 6) and np.all(paths >= 0)
    again = DeepARForecaster(6, 12, **RECIPE).fit(panel, end=end)
    np.testing.assert_array_equal(again.predict_paths(panel, origin=end, seed=3), paths)
    with pytest.raises(ValueError, match="not fitted"):
        DeepARForecaster(6, 12).predict_paths(panel)
    with pytest.raises(ValueError, match=r"`origin` must be a grid index in \[1, 192\]"):
        forecaster.predict_paths(panel, origin=500)


def test_forecast_dataframe_is_in_forecast_export_layout():
    panel = _panel()
    table = DeepARForecaster(6, 12, **RECIPE).fit(panel).forecast_dataframe(panel, num_samples=10)
    assert list(table.columns) == ["item_id", "date", "p10", "p50", "p90", "mean"]
    assert len(table) == 4 * 6
    assert table["date"].iloc[0] == panel.timestamps[-1] + pd.Timedelta(hours=1)
    assert (table["p10"] <= table["p90"]).all()


def test_exported_forecast_gives_the_paths_of_forecast(tmp_path):
    windows = _windows()
    model = _trained(windows, epochs=1)
    model.export(tmp_path / "deepar")
    exported = tf.saved_model.load(str(tmp_path / "deepar"))
    inputs = windows.last_windows(with_future_target=False)
    served = exported.forecast(inputs, tf.constant([7, 0], tf.int32))
    np.testing.assert_allclose(served["samples"], model.forecast(inputs, seed=7)["samples"])


def test_keras_file_round_trip_keeps_forecasts(tmp_path):
    windows = _windows()
    model = _trained(windows, epochs=1)
    model.save(tmp_path / "deepar.keras")
    reloaded = keras.saving.load_model(tmp_path / "deepar.keras")
    inputs = windows.last_windows(with_future_target=False)
    np.testing.assert_array_equal(reloaded.forecast(inputs, seed=1)["samples"], model.forecast(inputs, seed=1)["samples"])


def test_learns_the_daily_cycle_better_than_seasonal_naive():
    panel = _panel(num_series=6, length=24 * 20)
    deepar = DeepARForecaster(6, 12, **{**RECIPE, "units": 16, "num_layers": 2, "epochs": 8, "batches_per_epoch": 10,
                                       "learning_rate": 0.01})
    scores = kerasts.evaluation.backtest(
        {"deepar": deepar, "naive": kerasts.baselines.SeasonalNaive(24, prediction_length=6)}, panel, num_windows=3,
        num_samples=50, fit=True)
    means = scores.xs("mean", level="window")
    assert means.loc["deepar", "mean_wQL"] < 0.9 * means.loc["naive", "mean_wQL"]


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"cell": "rnn"}, "Unknown recurrent cell 'rnn'"),
        ({"lags": [0, 1]}, "`lags` must be distinct positive integers"),
        ({"prediction_length": 0}, "`prediction_length` must be a positive integer"),
        ({"likelihood": "gamma"}, "Unknown likelihood 'gamma'"),
        ({"cardinalities": [3], "embedding_dims": [2, 2]}, "`embedding_dims` has 2 entries for 1"),
        ({"dropout": 1.5}, r"`dropout` must be in \[0, 1\)"),
        ({"num_covariates": 1, "covariate_mean": [0.0, 1.0]}, "`covariate_mean` has 2 entries"),
        ({"scaling": "max"}, "`scaling` must be one of"),
        ({"scaling": "std"}, "scaling='std' shifts the likelihood's location, and 'negative_binomial' has none"),
        ({"likelihood": "beta"}, "'beta' likelihood lives on a fixed interval and cannot be rescaled: use "
                                 "scaling='none' with it, not 'mean'"),
    ],
)
def test_bad_arguments(overrides, message):
    with pytest.raises(ValueError, match=message):
        DeepAR(**{**SMALL, **overrides})


def test_inputs_of_the_wrong_length_or_keys_are_named():
    model = DeepAR(**SMALL)
    inputs, _ = _batch(_windows())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError, match=r"input 'target' has 17 steps; expected 42"):
            model({**inputs, "target": inputs["target"][:, :17]})
    # The model builds on its own signature: Keras's failed build on the bad shapes warned twice and left it
    # marked built without weights.
    assert not [warning for warning in caught if "unbuilt state" in str(warning.message)] and model.weights
    with pytest.raises(ValueError, match=r"lack \['timestamps'\]"):
        model({name: value for name, value in inputs.items() if name != "timestamps"})
    with pytest.raises(ValueError, match="expected 36 = max"):
        model.forecast({**inputs})



def test_forecast_names_category_codes_the_model_cannot_embed():
    windows = _windows(static_categories=np.array([[1], [2], [1], [2]]), cardinalities=[3])
    inputs = windows.last_windows(with_future_target=False)
    inputs["static_categories"][3, 0] = 5
    model = DeepAR(**{**SMALL, "cardinalities": [3]})
    with pytest.raises(ValueError, match=r"static_categories column 0 holds codes outside \[0, 3\)"):
        model.forecast(inputs)


def test_a_user_registered_likelihood_trains_saves_loads_and_forecasts(tmp_path):
    import tensorflow_probability as tfp

    class Laplace(kerasts.likelihoods.Likelihood):
        """A family of the user's own, with a constructor argument that must survive saving."""

        name = "test_laplace"
        parameter_names = ("loc", "scale")

        def __init__(self, minimum_scale=1e-3):
            self.minimum_scale = minimum_scale

        def get_config(self):
            return {"minimum_scale": self.minimum_scale}

        def _domain_map(self, raw):
            return {"loc": raw["loc"], "scale": tf.math.softplus(raw["scale"]) + self.minimum_scale}

        def _scale(self, parameters, target_scale):
            return {"loc": parameters["loc"] * target_scale, "scale": parameters["scale"] * target_scale}

        def _distribution(self, loc, scale):
            return tfp.distributions.Laplace(loc=loc, scale=scale)

    kerasts.likelihoods.register_likelihood(Laplace)  # here, not at import: other tests list the built-ins
    assert "test_laplace" in kerasts.likelihoods.names()
    windows = _windows(likelihood="student_t")
    model = _trained(windows, epochs=1, likelihood={"name": "test_laplace", "config": {"minimum_scale": 0.01}})
    assert model.get_config()["likelihood"] == {"name": "test_laplace", "config": {"minimum_scale": 0.01}}
    model.save(tmp_path / "laplace.keras")
    reloaded = keras.saving.load_model(tmp_path / "laplace.keras")
    assert isinstance(reloaded.likelihood, Laplace) and reloaded.likelihood.minimum_scale == 0.01
    inputs = windows.last_windows(with_future_target=False)
    forecast = reloaded.forecast(inputs, num_samples=20, seed=3)["samples"]
    assert forecast.shape == (4, 20, 6) and np.all(np.isfinite(forecast))
    np.testing.assert_array_equal(forecast, model.forecast(inputs, num_samples=20, seed=3)["samples"])


def test_cells_take_their_arguments_by_name():
    model = DeepAR(**{**SMALL, "cell": {"name": "nested_lstm", "config": {"depth": 3}}})
    assert [cell.depth for cell in model.recurrent.cells] == [3, 3]
    assert DeepAR.from_config(model.get_config()).get_config()["cell"] == {"name": "nested_lstm",
                                                                           "config": {"depth": 3}}
    with pytest.raises(ValueError, match="does not take the arguments"):
        DeepAR(**{**SMALL, "cell": {"name": "lstm", "config": {"depth": 3}}})


NAN_SAMPLING = """
import sys, numpy as np, tensorflow as tf
import kerasts
from kerasts.data import ForecastWindows, align_target
table = kerasts.data.synthetic_forecast_table(3, 24 * 8, seed=0)
for likelihood in sys.argv[1:]:
    windows = ForecastWindows(align_target(table, "H"), 12, 6, [1, 24], likelihood=likelihood)
    model = kerasts.models.DeepAR(6, 12, "H", lags=[1, 24], likelihood=likelihood, units=8, num_samples=10,
                                  batch_shards=1)
    inputs = windows.last_windows(with_future_target=False)
    inputs["target"][1, 30] = np.nan  # observed, yet NaN: the boundary refuses it, the loop must still end
    paths = kerasts.models.deepar.sampling.sample_paths(model, inputs, 10, tf.constant([0, 0])).numpy()
    assert np.isnan(paths[1]).all() and np.isfinite(paths[[0, 2]]).all(), (likelihood, paths)
    print(likelihood, "ended", flush=True)
"""


def test_sampling_ends_on_non_finite_parameters():
    import subprocess
    import sys

    # A subprocess with a timeout: before the fix the count samplers looped for ever on NaN rates. One process
    # for the three count families: each new interpreter spends seconds starting TensorFlow.
    families = ["negative_binomial", "poisson", "zero_inflated_negative_binomial"]
    completed = subprocess.run([sys.executable, "-c", NAN_SAMPLING, *families], capture_output=True, text=True,
                               timeout=180)
    assert completed.returncode == 0, completed.stdout + completed.stderr[-2000:]
    assert completed.stdout.split() == [word for family in families for word in (family, "ended")]


def test_forecast_refuses_nan_targets_marked_observed():
    windows = _windows()
    inputs = windows.last_windows(with_future_target=False)
    inputs["target"][2, 30] = np.nan
    with pytest.raises(ValueError, match=r"NaN or inf at steps marked observed in row\(s\) \[2\]"):
        DeepAR(**SMALL).forecast(inputs)


def test_fit_warns_when_training_would_draw_each_window_many_times_and_max_draws_per_window_caps_it():
    import warnings

    panel = _panel(num_series=2, length=24 * 3)  # 2 series of 72 hours: few distinct windows
    many = DeepARForecaster(6, 12, **{**RECIPE, "epochs": 20, "batches_per_epoch": 20, "batch_size": 32})
    with pytest.warns(UserWarning, match=r"12,800 training windows \(20 epochs x 20 batches x 32\) from \d+ distinct"
                                         r".* compare it with a statistical method"):
        many.fit(panel)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        DeepARForecaster(6, 12, **RECIPE).fit(panel)  # 160 windows drawn: no warning
        # Capped: 2 series x 65 distinct windows x 20 draws = 2,600 draws, so 5 epochs of 640 instead of 20.
        capped = DeepARForecaster(6, 12, **{**RECIPE, "epochs": 20, "batches_per_epoch": 20, "batch_size": 32,
                                            "max_draws_per_window": 20}).fit(panel)
    assert len(capped.history.history["loss"]) == 5
    assert DeepARForecaster(6, 12, **RECIPE).get_config()["max_draws_per_window"] is None
    with pytest.raises(ValueError, match="max_draws_per_window"):
        DeepARForecaster(6, 12, max_draws_per_window=0)


def test_the_recipe_standardises_location_families_and_mean_scales_the_others():
    counts, reals = _panel(), _panel(likelihood="student_t")
    assert DeepARForecaster(6, 12, **RECIPE).build_model(counts).scaling == "mean"
    real_recipe = {**RECIPE, "likelihood": "student_t"}
    assert DeepARForecaster(6, 12, **real_recipe).build_model(reals).scaling == "std"
    assert DeepARForecaster(6, 12, **real_recipe, scaling="mean").build_model(reals).scaling == "mean"
    assert DeepARForecaster(6, 12, **real_recipe).get_config()["scaling"] == "auto"
    with pytest.raises(ValueError, match="`scaling` must be 'auto' or one of"):
        DeepARForecaster(6, 12, scaling="minmax")


def test_the_recipe_trains_beta_on_rates_unscaled():
    rates = DeepARForecaster(6, 12, **{**RECIPE, "likelihood": "beta"}).fit(_rate_panel())
    assert rates.model.scaling == "none"  # beta cannot be rescaled
    paths = rates.predict_paths(_rate_panel(), num_samples=4)
    assert ((paths > 0) & (paths < 1)).all()


def test_auto_likelihood_picks_by_the_training_targets_and_says_which(capsys):
    sparse = _panel()
    sparse = dataclasses.replace(sparse, target=np.where(np.arange(sparse.target.shape[1]) % 3, 0.0, sparse.target))
    reals = _panel(likelihood="student_t")
    recipe = {**RECIPE, "likelihood": "auto"}
    counts = DeepARForecaster(6, 12, **recipe, verbose=2).fit(sparse)
    assert counts.likelihood_name == "negative_binomial" and counts.model.scaling == "mean"
    assert "likelihood='auto' picked 'negative_binomial'" in capsys.readouterr().out
    assert counts.get_config()["likelihood"] == "auto"
    assert DeepARForecaster(6, 12, **recipe).fit(_rate_panel()).likelihood_name == "student_t"  # rates too
    real = DeepARForecaster(6, 12, **recipe).fit(reals)
    assert real.likelihood_name == "student_t" and real.model.scaling == "std"
    assert np.isfinite(real.predict_paths(reals, num_samples=4)).all()
    loaded = DeepARForecaster(**real.get_config())  # as a saved predictor comes back: the config and the network
    loaded.model = real.model
    assert loaded.likelihood_name == "student_t"
    with pytest.raises(ValueError, match="picks its family when fitting"):
        DeepARForecaster(6, 12, likelihood="auto").likelihood_name


def test_forecasts_of_a_never_negative_target_are_not_negative():
    reals = _panel(likelihood="student_t")
    recipe = {**RECIPE, "likelihood": "student_t"}
    forecaster = DeepARForecaster(6, 12, **recipe).fit(reals)
    assert forecaster.model.non_negative and np.nanmin(reals.target) >= 0
    paths = forecaster.predict_paths(reals, num_samples=50)
    assert paths.min() >= 0.0
    shifted = dataclasses.replace(reals, target=reals.target - np.nanmean(reals.target))
    assert not DeepARForecaster(6, 12, **recipe).build_model(shifted).non_negative


def test_an_ensemble_trains_several_networks_and_pools_their_paths(tmp_path):
    panel = kerasts.data.align_target(kerasts.data.synthetic_forecast_table(3, 24 * 8, seed=0), "H")
    settings = {"units": 8, "num_layers": 1, "batch_shards": 1, "epochs": 1, "batches_per_epoch": 3, "seed": 4,
                "num_samples": 9}
    single = kerasts.models.DeepARForecaster(12, 24, num_networks=1, **settings).fit(panel)
    ensemble = kerasts.models.DeepARForecaster(12, 24, num_networks=2, **settings).fit(panel)
    first, second = ensemble.networks
    for mine, alone in zip(first.get_weights(), single.model.get_weights()):
        np.testing.assert_array_equal(mine, alone)  # network k is the seed + k run
    assert not np.allclose(first.get_weights()[0], second.get_weights()[0])
    paths = ensemble.predict_paths(panel, seed=1)
    assert paths.shape == (3, 9, 12)
    inputs = ensemble.windows(panel, first.lags).last_windows(with_future_target=False)
    np.testing.assert_allclose(paths[:, :5], first.forecast(inputs, 5, 1)["samples"])  # 5 + 4 paths
    np.testing.assert_allclose(paths[:, 5:], second.forecast(inputs, 4, 1)["samples"])
    assert isinstance(ensemble.model, kerasts.models.DeepAREnsemble)
    assert single.networks == [single.model]
    with pytest.raises(ValueError, match="num_samples=1 cannot be shared by num_networks=2"):
        kerasts.models.DeepARForecaster(12, 24, num_networks=2, num_samples=1)
    assert kerasts.models.DeepARForecaster(**ensemble.get_config()).num_networks == 2


def test_an_ensemble_predictor_saves_loads_and_exports_as_one_model(tmp_path):
    from kerasts.forecast import DatasetGroup, load_predictor, train_predictor

    group = DatasetGroup(kerasts.data.synthetic_forecast_table(3, 24 * 8, seed=0), frequency="H")
    spec = {"name": "deepar", "config": {"units": 8, "num_layers": 1, "batch_shards": 1, "epochs": 1,
                                         "batches_per_epoch": 3, "num_samples": 10, "num_networks": 2}}
    predictor = train_predictor(group, 12, algorithm=spec, num_samples=10, verbose=0)
    predictor.save(tmp_path / "predictor")
    loaded = load_predictor(tmp_path / "predictor")
    assert len(loaded.forecaster.networks) == 2
    pd.testing.assert_frame_equal(loaded.forecast(), predictor.forecast())
    predictor.export(tmp_path / "saved")
    served = kerasts.export.load_saved_model(tmp_path / "saved")
    inputs = predictor.forecaster.windows(predictor.panel, predictor.forecaster.model.lags).last_windows(
        with_future_target=False)
    outputs = served.forecast({name: tf.constant(value) for name, value in inputs.items()},
                              tf.constant([0, 0], tf.int32))
    np.testing.assert_allclose(outputs["samples"].numpy(), predictor.forecaster.model.forecast(inputs, seed=0)["samples"],
                               rtol=1e-5)


def test_early_stopping_holds_out_the_last_horizon_and_keeps_the_best_epochs_weights():
    panel = _panel(num_series=2, length=24 * 3)
    forecaster = DeepARForecaster(6, 12, **{**RECIPE, "epochs": 20, "num_networks": 1, "early_stopping_patience": 1})
    forecaster.fit(panel)
    validation_losses = forecaster.history.history["val_loss"]
    assert len(validation_losses) < 20  # stopped: one epoch without a lower held-out loss
    # The weights kept are the best epoch's: the held-out windows score its validation loss again.
    inputs, targets = forecaster.windows(panel, forecaster.model.lags).validation_data(len(panel.timestamps))
    assert forecaster.model.evaluate(inputs, targets, verbose=0) == pytest.approx(min(validation_losses), rel=1e-4)
    assert forecaster.get_config()["early_stopping_patience"] == 1
    with pytest.raises(ValueError, match="early_stopping_patience"):
        DeepARForecaster(6, 12, early_stopping_patience=0)
    with pytest.raises(ValueError, match="holds out the last 36 steps"):
        DeepARForecaster(36, 12, **{**RECIPE, "early_stopping_patience": 1}).fit(panel)
