"""keras-tuner HyperModels for the zoo and a one-call random search.

Every HyperModel documents its default search space and stable `hp` names; `random_search`
checks the space first, records NaN trials as failed, resumes, and returns the best model refit.
"""

from kerasts.tuning.deepar_hypermodel import DeepARHyperModel, ForecastValidation
from kerasts.tuning.hrnn_hypermodel import HRNNHyperModel
from kerasts.tuning.mmoe_hypermodel import MMoEHyperModel
from kerasts.tuning.point_forecaster_hypermodel import PointForecasterHyperModel
from kerasts.tuning.search import SearchResult, check_search_space, random_search
from kerasts.tuning.two_tower_hypermodel import TwoTowerHyperModel

__all__ = [
    "DeepARHyperModel", "ForecastValidation", "HRNNHyperModel", "MMoEHyperModel", "PointForecasterHyperModel",
    "SearchResult", "TwoTowerHyperModel", "check_search_space", "random_search",
]
