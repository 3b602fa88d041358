"""Optimizers the recipes train with."""

from kerasts.optimizers.adam import Adam

__all__ = ["Adam"]
