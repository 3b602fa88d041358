"""kerasts: Keras 3 models for probabilistic demand forecasting and personalization.

Importing the package registers every serializable layer, loss and model with Keras,
so `.keras` files that use them load with plain `keras.saving.load_model`.
"""

from kerasts._quiet_tensorflow import import_quietly

import_quietly()

from kerasts import (  # noqa: E402
    baselines, data, evaluation, export, layers, likelihoods, losses, metrics, models, optimizers, protocols,
)

__version__ = "0.1.0"

# The workflows, the server and tuning sit above the zoo and import more (keras-tuner, pandas I/O, FastAPI):
# `kerasts.forecast` and the like load on first use, so `import kerasts` alone reaches them.
_ON_FIRST_USE = ("cli", "distributed", "forecast", "personalize", "plotting", "serving", "tuning")


def __getattr__(name):
    if name in _ON_FIRST_USE:
        import importlib

        return importlib.import_module(f"kerasts.{name}")
    raise AttributeError(f"module 'kerasts' has no attribute {name!r}")

__all__ = [
    "baselines", "data", "evaluation", "export", "layers", "likelihoods", "losses", "metrics", "models", "optimizers",
    "protocols", "__version__",
]
