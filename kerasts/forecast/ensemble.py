"""Combining AutoPredictor's candidates: which forecast each series gets, and the quantile average of
several forecasters' sample paths."""

import numpy as np
import pandas as pd

from kerasts.protocols import Forecaster

# "best": Forecast's AutoPredictor, one algorithm for every series; "ensemble": the quantile average
# of the ENSEMBLE_SIZE best on the backtest; "per_item": each series its own best on the backtest.
SELECTIONS = ("best", "ensemble", "per_item")
ENSEMBLE_SIZE = 3


def quantile_average(member_paths, weights=None):
    """The (weighted) quantile average ("Vincentization") of several forecasters' sample paths.

    Each member's samples are sorted at every step and the sorted samples averaged across members,
    so the combined forecast's q-quantile is the mean of the members' q-quantiles (it stays as sharp
    as its members, where mixing the paths would widen the band). Members draw the same number of
    samples, or one (a point forecast, every quantile). The result's "paths" keep each step's
    distribution, not the order across steps.

    Args:
        member_paths: a list of `(series, num_samples, horizon)` arrays.
        weights: `(series, members)`, rows summing to 1; equal weights if None.

    Returns:
        `(series, num_samples, horizon)`.
    """
    member_paths = [np.asarray(paths, dtype="float64") for paths in member_paths]
    if not member_paths:
        raise ValueError("`member_paths` is empty.")
    samples = max(paths.shape[1] for paths in member_paths)
    target = (member_paths[0].shape[0], samples, member_paths[0].shape[2])
    if any(paths.ndim != 3 or paths.shape[1] not in (1, samples) or paths.shape[::2] != target[::2]
           for paths in member_paths):
        shapes = sorted({paths.shape for paths in member_paths})
        raise ValueError(f"Members' sample paths must be (series, num_samples or 1, horizon) alike, got {shapes}.")
    if weights is None:
        weights = np.full((target[0], len(member_paths)), 1 / len(member_paths))
    combined = np.zeros(target)
    for member, paths in enumerate(member_paths):
        used = weights[:, member] > 0  # a member weighted 0 may be NaN there (e.g. not fitted for it)
        combined[used] += weights[used, member, None, None] * np.broadcast_to(np.sort(paths, axis=1), target)[used]
    return combined


def member_weights(leaderboard, item_losses, selection, size=ENSEMBLE_SIZE):
    """Each series' weight on each candidate, `(series, candidates)` as a DataFrame like `item_losses`.

    Args:
        leaderboard: the candidates' Average wQL on the backtest (a Series by candidate name).
        item_losses: each series' quantile loss on the backtest windows per candidate
            (series x candidates; NaN where a series was not scored).
        selection: one of `SELECTIONS`.
    """
    if selection not in SELECTIONS:
        raise ValueError(f"`selection` must be one of {SELECTIONS}, got {selection!r}.")
    ranked = leaderboard.astype(float).sort_values(kind="stable").index
    weights = pd.DataFrame(0.0, index=item_losses.index, columns=item_losses.columns)
    if selection == "best":
        weights[ranked[0]] = 1.0
    elif selection == "ensemble":
        weights[list(ranked[:size])] = 1.0 / min(size, len(ranked))
    else:
        scored = item_losses[list(ranked)].notna().all(axis=1)
        # The first of equal losses in leaderboard order; series not scored get the overall best.
        chosen = item_losses.loc[scored, list(ranked)].idxmin(axis=1)
        weights[ranked[0]] = (~scored).astype(float)
        for name in ranked:
            weights.loc[chosen.index[chosen == name], name] = 1.0
    return weights


class WeightedForecaster(Forecaster):
    """Several fitted forecasters combined per series by `quantile_average` with fixed weights.

    Args:
        members: dict of name -> forecaster (same `prediction_length`).
        weights: DataFrame of series id (`TimeSeriesPanel.series_ids`) x member name; a series not
            in it gets `default_weights`.
        default_weights: dict of member name -> weight, summing to 1.
    """

    def __init__(self, members, weights, default_weights):
        horizons = {member.prediction_length for member in members.values()}
        if len(horizons) != 1:
            raise ValueError(f"Members must share one prediction_length, got {sorted(horizons)}.")
        super().__init__(horizons.pop())
        self.members = dict(members)
        self.weights = weights[list(self.members)]
        self.default_weights = dict(default_weights)

    def fit(self, panel, end=None):
        for member in self.members.values():
            member.fit(panel, end)
        return self

    def get_config(self):
        return {"prediction_length": self.prediction_length, "members": list(self.members),
                "default_weights": self.default_weights}

    def series_weights(self, panel):
        default = pd.Series(self.default_weights)[list(self.members)]
        return self.weights.reindex(panel.series_ids).fillna(default).to_numpy()

    def predict_paths(self, panel, origin=None, num_samples=100, seed=0):
        weights = self.series_weights(panel)
        paths = [member.predict_paths(panel, origin, num_samples, seed) if weights[:, index].any()
                 else np.full((len(panel.keys), 1, self.prediction_length), np.nan)
                 for index, member in enumerate(self.members.values())]
        return quantile_average(paths, weights)
