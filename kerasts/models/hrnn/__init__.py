from kerasts.models.hrnn.hrnn import HRNN

__all__ = ["HRNN"]
