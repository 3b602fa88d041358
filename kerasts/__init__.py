"""kerasts: Keras 3 models for probabilistic demand forecasting and personalization.

Importing the package registers every serializable layer, loss and model with Keras,
so `.keras` files that use them load with plain `keras.saving.load_model`.
"""

from kerasts._quiet_tensorflow import import_quietly

import_quietly()

from kerasts import data, layers, likelihoods, losses, metrics  # noqa: E402

__version__ = "0.1.0"

__all__ = ["data", "layers", "likelihoods", "losses", "metrics", "__version__"]
