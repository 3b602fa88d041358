from kerasts.models.two_tower.history_recommender import HistoryRecommender, history_two_tower
from kerasts.models.two_tower.two_tower import TwoTower

__all__ = ["HistoryRecommender", "TwoTower", "history_two_tower"]
