"""Warm starts: a new model over a grown (or changed) catalog begins from a trained one's weights."""

import re

import numpy as np


def transfer_weights(model, item_ids, previous, previous_item_ids, item_axes):
    """Copies `previous`'s weights into `model` (same architecture and settings, built), matching
    catalog rows by item id.

    Args:
        model, item_ids: the new model and its catalog (index `i + 1` is `item_ids[i]`; 0 is padding
            or out-of-vocabulary).
        previous, previous_item_ids: the trained model and its catalog.
        item_axes: for each variable indexed by item, its path (see `variable_key`) -> the axis of
            items. Items new to the catalog keep the new model's initial values; every other variable
            is copied whole. Variables are paired in order, their keys checked to agree.

    Returns:
        How many items' rows were carried over.
    """
    for built in (model, previous):
        if not built.built:
            built.build()
    old_rows = {item: row + 1 for row, item in enumerate(previous_item_ids)}
    shared = [(row + 1, old_rows[item]) for row, item in enumerate(item_ids) if item in old_rows]
    new_index = np.array([0] + [new for new, _ in shared])
    old_index = np.array([0] + [old for _, old in shared])
    keys = [variable_key(model, variable) for variable in model.weights]
    if keys != [variable_key(previous, variable) for variable in previous.weights]:
        raise ValueError("The previous model's variables differ from the new one's: warm starts need the same "
                         "architecture and settings.")
    for variable, old_variable, path in zip(model.weights, previous.weights, keys):
        old = np.asarray(old_variable.numpy())
        if path in item_axes:
            axis = item_axes[path]
            values = np.moveaxis(np.asarray(variable.numpy()), axis, 0).copy()
            values[new_index] = np.moveaxis(old, axis, 0)[old_index]
            variable.assign(np.moveaxis(values, 0, axis))
        elif tuple(old.shape) == tuple(variable.shape):
            variable.assign(old)
        else:
            raise ValueError(f"Variable {path!r} is {tuple(old.shape)} in the previous model and "
                             f"{tuple(variable.shape)} in the new one: warm starts need the same settings.")
    return len(shared)


def variable_key(model, variable):
    """A variable's path without `model`'s name and without the numbers Keras adds to repeated layer
    names (`two_tower_3/tower_5/groups/ITEM_ID_embedding/embeddings` -> `tower/groups/ITEM_ID_embedding/
    embeddings`), the same in two models built alike. A model loaded from a file may hold its layers'
    variables outside its name (`tower_6/groups/...`), so the name goes only where it leads the path."""
    parts = variable.path.split("/")
    if parts[0] == model.name:
        parts = parts[1:]
    return "/".join(re.sub(r"_\d+$", "", part) for part in parts)
