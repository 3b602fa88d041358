"""The algorithms a predictor can train: one registry entry each, building a `Forecaster` for a panel."""

from kerasts._registry import Registry
from kerasts.baselines import NPTS, MLPForecaster, SeasonalNaive, StatisticalForecaster
from kerasts.baselines.statistical import METHODS, statsforecast_available
from kerasts.metrics.forecast import seasonality_for_frequency
from kerasts.models.deepar.forecaster import DeepARForecaster

ALGORITHMS = Registry("forecasting algorithm", "kerasts.forecast.register_algorithm")
# The forecaster classes a saved predictor may hold, by name.
FORECASTERS = {cls.__name__: cls for cls in (DeepARForecaster, MLPForecaster, NPTS, SeasonalNaive,
                                              StatisticalForecaster)}


def register_algorithm(name, factory, forecaster_class=None):
    """Adds an algorithm: `factory(horizon, panel, training_length, **settings) -> Forecaster`.
    Give its `forecaster_class` so saved predictors that hold one load back."""
    ALGORITHMS.register(name, factory)
    if forecaster_class is not None:
        FORECASTERS[forecaster_class.__name__] = forecaster_class


def default_context_length(frequency, horizon, training_length):
    """Steps a windowed model is conditioned on: seven seasons (a week of hours, as the electricity
    benchmark measured) but at most a third of the longest series' training history, and at least the horizon."""
    return max(horizon, min(7 * seasonality_for_frequency(frequency), training_length // 3))


def _season(panel):
    return seasonality_for_frequency(panel.frequency)


def _deepar(horizon, panel, training_length, context_length=None, **settings):
    context = context_length or default_context_length(panel.frequency, horizon, training_length)
    return DeepARForecaster(horizon, context, **settings)


def _mlp(horizon, panel, training_length, context_length=None, likelihood="student_t", **settings):
    context = context_length or default_context_length(panel.frequency, horizon, training_length)
    return MLPForecaster(context, horizon, likelihood, **settings)


register_algorithm("deepar", _deepar, DeepARForecaster)
register_algorithm("deepar_nested_lstm", lambda horizon, panel, length, **settings: _deepar(
    horizon, panel, length, cell="nested_lstm", **settings))
register_algorithm("mlp", _mlp, MLPForecaster)
register_algorithm("npts", lambda horizon, panel, length, **settings: NPTS(
    _season(panel), prediction_length=horizon, **settings), NPTS)
register_algorithm("seasonal_naive", lambda horizon, panel, length, **settings: SeasonalNaive(
    _season(panel), prediction_length=horizon, **settings), SeasonalNaive)

for _method in METHODS:  # statsforecast's, with the optional extra kerasts[stats]
    register_algorithm(_method, lambda horizon, panel, length, method=_method, **settings: StatisticalForecaster(
        method, _season(panel), prediction_length=horizon, **settings))

# AutoPredictor's candidates when none are named: ETS, ARIMA and Theta too where statsforecast is installed.
AUTO_CANDIDATES = ("deepar", "mlp", "npts", "seasonal_naive") + (METHODS if statsforecast_available() else ())


# The algorithms that read holidays (Forecast's holiday supplementary feature) and back their training
# up for a restarted job; the others ignore both.
DEEPAR_ALGORITHMS = ("deepar", "deepar_nested_lstm")
NEURAL_ALGORITHMS = DEEPAR_ALGORITHMS + ("mlp",)  # those trained for epochs, with a likelihood


def with_settings(algorithm, **settings):
    """`algorithm` (a name or `{"name", "config"}`) with `settings` (holidays, backups) added where it is one
    of `DEEPAR_ALGORITHMS`; unchanged otherwise or without settings."""
    name = algorithm if isinstance(algorithm, str) else algorithm["name"]
    settings = {key: value for key, value in settings.items() if value}
    if not settings or name not in DEEPAR_ALGORITHMS:
        return algorithm
    config = {} if isinstance(algorithm, str) else dict(algorithm.get("config", {}))
    return {"name": name, "config": {**config, **settings}}


def algorithm_names():
    return ALGORITHMS.names()


def build_forecaster(algorithm, horizon, panel, training_end):
    """The forecaster of `algorithm` (a name, or `{"name": ..., "config": {settings}}`) to be trained on `panel`'s
    steps before `training_end` (a grid index, or one per series); its factory is given the longest series'
    history there (`TimeSeriesPanel.longest_history`), not the grid's length, which ragged series overstate."""
    return ALGORITHMS.create(algorithm, horizon, panel, panel.longest_history(training_end))
