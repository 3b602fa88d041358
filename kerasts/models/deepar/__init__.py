from kerasts.models.deepar.deepar import DeepAR
from kerasts.models.deepar.ensemble import DeepAREnsemble
from kerasts.models.deepar.forecaster import DeepARForecaster

__all__ = ["DeepAR", "DeepAREnsemble", "DeepARForecaster"]
