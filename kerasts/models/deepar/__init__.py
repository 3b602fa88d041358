from kerasts.models.deepar.deepar import DeepAR

__all__ = ["DeepAR"]
