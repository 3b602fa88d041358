from kerasts.models.two_tower.recommender import TwoTowerRecommender, history_two_tower
from kerasts.models.two_tower.two_tower import TwoTower

__all__ = ["TwoTower", "TwoTowerRecommender", "history_two_tower"]
