"""kerasts: Keras 3 models for probabilistic demand forecasting and personalization.

Importing the package registers every serializable layer, loss and model with Keras,
so `.keras` files that use them load with plain `keras.saving.load_model`.
"""

from kerasts._quiet_tensorflow import import_quietly

import_quietly()

from kerasts import (  # noqa: E402
    baselines, data, evaluation, export, layers, likelihoods, losses, metrics, models, protocols,
)

__version__ = "0.1.0"

__all__ = [
    "baselines", "data", "evaluation", "export", "layers", "likelihoods", "losses", "metrics", "models", "protocols",
    "__version__",
]
