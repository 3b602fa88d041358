from kerasts.models.two_stage.recommender import TwoStageRecommender

__all__ = ["TwoStageRecommender"]
