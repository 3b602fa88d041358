"""Per-series scores and their means by series level: what pooled ND and wQL, which weigh large
series most, hide."""

import contextlib
import warnings

import numpy as np
import pandas as pd

from kerasts.evaluation.backtest import window_arrays
from kerasts.metrics.forecast import mase_per_series, seasonality_for_frequency, smape_per_series


def per_series_scores(panel, window_paths):
    """Each series' sMAPE and MASE of the median forecast, averaged over its backtest windows.

    Args:
        panel: the `kerasts.data.TimeSeriesPanel` the paths forecast.
        window_paths: `[(origins (series,), paths (series, num_samples, horizon)), ...]`, one pair per
            window, as `backtest(..., return_paths=True)` returns them per forecaster.

    Returns:
        A DataFrame indexed by the panel's series ids with columns `sMAPE` and `MASE` (NaN where a
        series has nothing to score, or a constant history for MASE's scale).
    """
    season = seasonality_for_frequency(panel.frequency)
    smapes, mases = [], []
    for origins, paths in window_paths:
        actuals, history = window_arrays(panel, np.asarray(origins), paths.shape[-1])
        median = np.median(paths, axis=1)
        # A series not forecast in a window (origin -1) has NaN paths and NaN actuals: no score.
        median = np.where(np.isnan(actuals), 0.0, median)
        smapes.append(smape_per_series(actuals, median))
        mases.append(mase_per_series(actuals, median, history, season_length=season))
    with _quiet_empty_means():
        return pd.DataFrame({"sMAPE": np.nanmean(smapes, axis=0), "MASE": np.nanmean(mases, axis=0)},
                            index=pd.Index(panel.series_ids, name="series"))


def series_levels(panel, end):
    """Each series' level: the mean absolute recorded target before grid index `end` (or one per series,
    e.g. each series' first backtest window under `origin="series_end"`)."""
    before = np.arange(panel.target.shape[1])[None, :] < np.reshape(end, (-1, 1))
    with _quiet_empty_means():
        return np.nanmean(np.where(before, np.abs(panel.recorded_target), np.nan), axis=1)


def scores_by_level(levels, scores, num_groups=5):
    """Means of per-series scores within groups of series cut by level (quantiles of `levels`).

    Args:
        levels: `(series,)` levels (`series_levels`).
        scores: `{name: DataFrame}` of `per_series_scores`, rows in the order of `levels`.
        num_groups: 5 for quintiles; group 1 holds the lowest levels.

    Returns:
        A DataFrame with one row per name and columns `Q1 sMAPE`, ..., `Q{n} sMAPE`, `Q1 MASE`, ...
    """
    groups = pd.qcut(np.asarray(levels), num_groups, labels=[f"Q{number}" for number in range(1, num_groups + 1)])
    rows = {}
    for name, frame in scores.items():
        by_group = frame.reset_index(drop=True).groupby(np.asarray(groups), observed=False).mean()
        rows[name] = {f"{group} {metric}": by_group.loc[group, metric]
                      for metric in ("sMAPE", "MASE") for group in groups.categories}
    return pd.DataFrame(rows).T


@contextlib.contextmanager
def _quiet_empty_means():
    """numpy warns on the mean of an all-NaN row; such rows are expected (series with nothing to score)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Mean of empty slice", RuntimeWarning)
        yield
