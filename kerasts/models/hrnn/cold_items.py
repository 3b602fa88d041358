"""Items without interactions placed among the learned ones: HRNN-coldstart's mapping from metadata.

A trained HRNN-metadata scores an item by its learned rows (its embedding, plus its output bias, or its
column of the output layer) and its projected metadata. An item that joined the catalog after training
has metadata but no learned rows; a ridge regression from the metadata (as `FeatureGroups` reads it) to
the learned rows of the items that had interactions gives it the rows of items like it. The network is
otherwise unchanged: nothing is retrained.
"""

import numpy as np

from kerasts.models.warm_start import variable_key

# Ridge penalty per learned item, on standardised features: enough to keep the solve stable when features
# are collinear (a genre's embedding dimensions move together), small against the data.
RIDGE = 0.1


def map_item_rows(model, learned, new):
    """Sets the item-indexed rows of `new` items of `model` (an `HRNN` with `item_features`) from their
    metadata by ridge regression on the `learned` ones.

    Args:
        model: the built `HRNN`.
        learned, new: item indices (1-based, as the model's vocabulary encodes them).
    """
    learned, new = np.asarray(learned, "int64"), np.asarray(new, "int64")
    if not new.size:
        return
    if not learned.size:
        raise ValueError("No item has interactions to learn the mapping from metadata to item rows.")
    features = np.asarray(model.item_metadata_features(), "float64")  # row i is item index i + 1
    known = features[learned - 1]
    centre, scale = known.mean(axis=0), known.std(axis=0)
    scale[scale == 0] = 1.0
    features = (features - centre) / scale
    known = features[learned - 1]
    system = known.T @ known + RIDGE * learned.size * np.eye(known.shape[1])
    for variable in model.weights:
        axis = model.item_axes().get(variable_key(model, variable))
        if axis is None:
            continue
        rows = np.moveaxis(np.asarray(variable.numpy(), "float64"), axis, 0).copy()
        targets = rows[learned].reshape(learned.size, -1)
        mean = targets.mean(axis=0)  # the intercept: centred features leave it to the targets' mean
        coefficients = np.linalg.solve(system, known.T @ (targets - mean))
        rows[new] = (mean + features[new - 1] @ coefficients).reshape((new.size,) + rows.shape[1:])
        variable.assign(np.moveaxis(rows, 0, axis).astype(variable.dtype))
