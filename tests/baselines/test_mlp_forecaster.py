import dataclasses
import gc

import keras
import numpy as np
import pytest
from tensorflow.python.framework import func_graph

import kerasts
from kerasts._training_graph_release import replica_sum_gradient_names
from kerasts.baselines import MLPForecaster


def test_a_seeded_fit_repeats_whatever_ran_before_it():
    panel = kerasts.data.align_target(kerasts.data.synthetic_forecast_table(3, 24 * 6, seed=0), "H")

    def paths(global_seed):
        keras.utils.set_random_seed(global_seed)  # what an earlier model in the process left behind
        forecaster = MLPForecaster(24, 12, hidden_units=8, epochs=2, seed=3).fit(panel)
        return forecaster.predict_paths(panel, num_samples=5, seed=1)

    np.testing.assert_array_equal(paths(0), paths(99))
    assert MLPForecaster(24, 12, seed=3).get_config()["seed"] == 3
    with pytest.raises(ValueError, match="MLPForecaster is not fitted"):
        MLPForecaster(24, 12).predict_paths(panel)


def test_fits_leave_no_training_graph_behind():
    panel = kerasts.data.align_target(kerasts.data.synthetic_forecast_table(2, 24 * 4, seed=0), "H")

    def training_graphs():
        gc.collect()
        return sum(isinstance(graph, func_graph.FuncGraph) and graph.name.startswith("one_step_on_data")
                   for graph in gc.get_objects())

    registered, graphs = replica_sum_gradient_names(), training_graphs()
    for _ in range(2):
        MLPForecaster(24, 12, hidden_units=4, epochs=1).fit(panel)
    assert replica_sum_gradient_names() == registered and training_graphs() == graphs  # gone with their networks


def test_student_t_paths_come_in_antithetic_pairs_about_each_steps_median():
    panel = kerasts.data.align_target(kerasts.data.synthetic_forecast_table(3, 24 * 6, seed=0), "H")
    forecaster = MLPForecaster(24, 12, "student_t", hidden_units=8, epochs=2, seed=3).fit(panel)
    paths = forecaster.predict_paths(panel, num_samples=6, seed=1)
    assert paths.shape == (3, 6, 12)
    centres = (paths[:, :3] + paths[:, 3:]) / 2  # every pair reflects about the one median of its series and step
    np.testing.assert_allclose(centres, np.broadcast_to(centres[:, :1], centres.shape), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(np.median(paths, axis=1), centres[:, 0], rtol=1e-5, atol=1e-4)
    assert not np.allclose(paths[:, 0], paths[:, 1])


def test_beta_reads_the_rates_unscaled_and_forecasts_inside_the_unit_interval():
    panel = kerasts.data.align_target(kerasts.data.synthetic_forecast_table(3, 24 * 6, seed=0), "H")
    rates = 1 / (1 + np.exp(-(panel.target - np.nanmean(panel.target)) / np.nanstd(panel.target)))
    panel = dataclasses.replace(panel, target=rates)
    forecaster = MLPForecaster(24, 12, "beta", hidden_units=8, epochs=2, seed=3).fit(panel)
    assert "scaler" not in [layer.name for layer in forecaster.model.layers]  # beta cannot be rescaled
    paths = forecaster.predict_paths(panel, num_samples=5)
    assert paths.shape == (3, 5, 12) and ((paths > 0) & (paths < 1)).all()


def test_auto_likelihood_picks_by_the_training_targets_and_a_loaded_forecaster_reads_it_back():
    panel = kerasts.data.align_target(kerasts.data.synthetic_forecast_table(3, 24 * 6, seed=0), "H")
    sparse = dataclasses.replace(panel, target=np.where(np.arange(panel.target.shape[1]) % 3, 0.0,
                                                        np.round(panel.target)))
    counts = MLPForecaster(24, 12, "auto", hidden_units=8, epochs=2).fit(sparse)
    assert counts.likelihood_name == "negative_binomial" and counts.get_config()["likelihood"] == "auto"
    paths = counts.predict_paths(sparse, num_samples=5)
    assert (paths == np.round(paths)).all() and (paths >= 0).all()
    loaded = MLPForecaster(**counts.get_config())  # as a saved predictor comes back: the config and the network
    loaded.model = counts.model
    assert loaded.likelihood_name == "negative_binomial"
    assert MLPForecaster(24, 12, "auto", hidden_units=8, epochs=2).fit(panel).likelihood_name == "student_t"
    with pytest.raises(ValueError, match="picks its family when fitting"):
        MLPForecaster(24, 12, "auto").likelihood_name


def test_an_epoch_is_a_pass_over_every_window_up_to_the_cap():
    panel = kerasts.data.align_target(kerasts.data.synthetic_forecast_table(3, 24 * 6, seed=0), "H")
    windows = 3 * (24 * 6 - 36 + 1)  # the grid's sliding windows
    full = MLPForecaster(24, 12, hidden_units=8, epochs=2, batch_size=32).fit(panel)
    assert int(full.model.optimizer.iterations) == 2 * -(-windows // 32)
    capped = MLPForecaster(24, 12, hidden_units=8, epochs=2, batch_size=32, max_batches_per_epoch=3).fit(panel)
    assert int(capped.model.optimizer.iterations) == 6 and capped.get_config()["max_batches_per_epoch"] == 3
    with pytest.raises(ValueError, match="max_batches_per_epoch"):
        MLPForecaster(24, 12, max_batches_per_epoch=0)
