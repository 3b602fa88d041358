"""keras-tuner HyperModels for the zoo (issue #5 adds the forecasters and the search helpers)."""

from kerasts.tuning.mmoe_hypermodel import MMoEHyperModel
from kerasts.tuning.two_tower_hypermodel import TwoTowerHyperModel

__all__ = ["MMoEHyperModel", "TwoTowerHyperModel"]
