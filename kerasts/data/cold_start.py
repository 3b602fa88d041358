"""Histories for cold-start items: items known from their metadata (and related series) but with no
target history, as Amazon Forecast's DeepAR+ forecasts them."""

import warnings

import numpy as np


def cold_start_histories(target, static_categories):
    """Each series without a single value (`target` rows all NaN) gets the per-step mean of the series
    that share the most of its item attributes (`static_categories` codes; 0, unknown, never matches),
    all series where it shares none. Returns the target with those rows filled and their mask.

    A model then reads a cold item's history as its peers' average: its level (and so DeepAR's scale)
    and its seasonal shape are those of the items most like it, and its own attribute embeddings do
    the rest.
    """
    target = np.asarray(target, dtype="float64")
    codes = np.asarray(static_categories)
    warm = ~np.isnan(target).all(axis=1)
    filled_target, filled = target.copy(), np.zeros(target.shape, dtype=bool)
    if warm.all() or not warm.any():
        return filled_target, filled
    warm_rows = np.flatnonzero(warm)
    for row in np.flatnonzero(~warm):
        shared = ((codes[warm_rows] == codes[row]) & (codes[row] > 0)).sum(axis=1)
        peers = warm_rows[shared == shared.max()]
        with warnings.catch_warnings():  # steps no peer has stay missing, without numpy's warning
            warnings.simplefilter("ignore", RuntimeWarning)
            filled_target[row] = np.nanmean(target[peers], axis=0)
        filled[row] = ~np.isnan(filled_target[row])
    return filled_target, filled
