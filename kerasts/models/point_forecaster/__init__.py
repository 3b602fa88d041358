from kerasts.models.point_forecaster.point_forecaster import point_forecaster

__all__ = ["point_forecaster"]
