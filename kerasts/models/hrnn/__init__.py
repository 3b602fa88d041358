from kerasts.models.hrnn.hrnn import HRNN
from kerasts.models.hrnn.session_recommender import SessionRecommender

__all__ = ["HRNN", "SessionRecommender"]
