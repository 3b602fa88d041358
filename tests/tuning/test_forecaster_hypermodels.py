import kerasts  # noqa: F401 - first, to silence TensorFlow's start-up logging

import keras_tuner  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from kerasts.data import MinMaxScaler, align_target, sliding_windows, synthetic_forecast_table  # noqa: E402
from kerasts.layers import NestedLSTMCell  # noqa: E402
from kerasts.models import point_forecaster  # noqa: E402
from kerasts.tuning import DeepARHyperModel, PointForecasterHyperModel, random_search  # noqa: E402


def test_min_max_scaling_uses_training_statistics_only():
    scaler = MinMaxScaler().fit([2.0, 4.0, 6.0])
    np.testing.assert_allclose(scaler.transform([2.0, 6.0, 10.0]), [-1.0, 1.0, 3.0])
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform([3.0, 9.0])), [3.0, 9.0])
    with pytest.raises(ValueError, match="not fitted"):
        MinMaxScaler().transform([1.0])


def test_sliding_windows_predict_the_next_value():
    x, y = sliding_windows(np.arange(6.0), 3)
    assert x.shape == (3, 3, 1) and list(x[0, :, 0]) == [0, 1, 2] and list(y) == [3, 4, 5]
    with pytest.raises(ValueError, match="longer than the window"):
        sliding_windows(np.arange(3.0), 3)


def test_point_forecaster_follows_the_specification():
    model = point_forecaster(7, 16)
    optimizer = model.optimizer
    assert (float(optimizer.learning_rate), optimizer.beta_1, optimizer.beta_2, optimizer.epsilon) == \
        pytest.approx((1e-3, 0.9, 0.999, 1e-8))
    assert optimizer.clipvalue == 1.0 and model.loss == "mean_squared_error"
    assert model.layers[-1].activation.__name__ == "relu" and model.input_shape == (None, 7, 1)
    nested = point_forecaster(7, 16, cell={"name": "nested_lstm", "config": {"depth": 3}}).layers[1].cell
    assert isinstance(nested, NestedLSTMCell) and nested.depth == 3
    with pytest.raises(ValueError, match="Unknown recurrent cell 'transformer'"):
        point_forecaster(7, 16, cell="transformer")


def _series(length=160, seed=0):
    days = np.arange(length)
    return 50 + 40 * np.sin(days / 9) + days * 0.5 + np.random.default_rng(seed).normal(scale=3, size=length)


def test_validation_windows_start_in_the_training_part():
    hp = keras_tuner.HyperParameters()
    hp.Fixed("n_x", 5)
    series = _series()
    scaler, (x, y), (x_val, y_val) = PointForecasterHyperModel().windows(hp, series[:120], series[120:])
    assert x.shape == (115, 5, 1) and x_val.shape == (40, 5, 1)
    np.testing.assert_allclose(scaler.inverse_transform(x_val[0, :, 0]), series[115:120], rtol=1e-5)
    np.testing.assert_allclose(scaler.inverse_transform(y_val), series[120:], rtol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("cell", ["lstm", "nested_lstm"])
def test_random_search_picks_a_pair_in_the_documented_ranges(tmp_path, cell):
    series = _series()
    result = random_search(PointForecasterHyperModel(cell=cell), series[:120], series[120:], max_trials=2,
                           directory=str(tmp_path), project_name=cell, epochs=3, seed=0)
    values = result.best_hyperparameters.values
    assert 16 <= values["n_a"] <= 128 and 5 <= values["n_x"] <= 25
    scores = [trial.score for trial in result.tuner.oracle.trials.values()]
    assert all(np.isfinite(scores)) and result.tuner.oracle.get_best_trials(1)[0].score == min(scores)


@pytest.mark.slow
def test_deepar_hypermodel_tunes_window_length_on_forecast_accuracy(tmp_path):
    panel = align_target(synthetic_forecast_table(num_series=3, length=24 * 10, seed=1), "h")
    # Related data travels with the panel, so the searched models read it as the recipe's do.
    hours = np.arange(24 * 10 + 12)
    panel = panel.with_related(covariates=np.tile(np.sin(hours / 24.0)[None, :, None], (3, 1, 1)),
                               covariate_names=["daylight"], static_categories=np.array([[1], [2], [1]]),
                               cardinalities=[3])
    hypermodel = DeepARHyperModel(panel, prediction_length=12, likelihood="negative_binomial", steps_per_epoch=3,
                                  num_samples=20)
    space = keras_tuner.HyperParameters()
    space.Fixed("units", 16)
    space.Fixed("num_layers", 1)
    result = random_search(hypermodel, panel, None, max_trials=2, objective=keras_tuner.Objective("val_mean_wQL", "min"),
                           directory=str(tmp_path), project_name="deepar", epochs=1, hyperparameters=space)
    trials = list(result.tuner.oracle.trials.values())
    assert all(trial.status == "COMPLETED" and 0 < trial.score < 5 for trial in trials)
    best = result.best_hyperparameters.values
    assert result.best_model.context_length == best["context_multiple"] * 12
    assert result.best_model.num_covariates == 1 and result.best_model.cardinalities == [3]
    assert max(result.best_model.lags) <= (24 * 10 - 12) // 2  # the recipe's lags, capped by the history
    assert best["batch_size"] in (16, 32, 64, 128)
