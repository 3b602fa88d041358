"""Models of the zoo (each registered as serializable under the `kerasts` package)."""

from kerasts.models.deepar import DeepAR, DeepAREnsemble, DeepARForecaster
from kerasts.models.hrnn import HRNN, SessionRecommender
from kerasts.models.mmoe import MMoE, SharedBottom
from kerasts.models.point_forecaster import point_forecaster
from kerasts.models.two_stage import TwoStageRecommender
from kerasts.models.two_tower import TwoTower, TwoTowerRecommender, history_two_tower

__all__ = [
    "DeepAR", "DeepAREnsemble", "DeepARForecaster", "HRNN", "MMoE", "SessionRecommender", "SharedBottom",
    "TwoStageRecommender", "TwoTower", "TwoTowerRecommender", "history_two_tower", "point_forecaster",
]
