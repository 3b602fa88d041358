"""Models of the zoo (each registered as serializable under the `kerasts` package)."""

from kerasts.models.deepar import DeepAR

__all__ = ["DeepAR"]
