import dataclasses

import numpy as np
import pandas as pd

from kerasts.evaluation.forecast_evaluation import DEFAULT_QUANTILES, evaluate_sample_forecast


def backtest_origins(length, prediction_length, num_windows, window_offset=None):
    """Grid indices where backtest windows start: the last window ends at the grid's end,
    earlier ones `window_offset` steps apart (default: back to back)."""
    window_offset = prediction_length if window_offset is None else window_offset
    if num_windows < 1 or window_offset < 1:
        raise ValueError("`num_windows` and `window_offset` must be at least 1.")
    origins = [length - prediction_length - index * window_offset for index in reversed(range(num_windows))]
    if origins[0] < 1:
        raise ValueError(
            f"{num_windows} windows {window_offset} steps apart with horizon {prediction_length} do not fit in "
            f"{length} steps."
        )
    return origins


BACKTEST_ORIGINS = ("dataset_end", "series_end")


def series_backtest_origins(panel, prediction_length, num_windows, window_offset=None, origin="dataset_end"):
    """Each series' backtest window starts, `(series, num_windows)`, earliest first.

    `origin="dataset_end"` cuts the same windows for every series from the end of the grid;
    `"series_end"` cuts each series' windows from its own last observation, so a discontinued item
    is scored on its last weeks, not on the empty steps after them. A series too short for its
    windows (or never observed) gets -1: it is neither fitted past nor scored. So does a window
    before which a series has no value (an item launched inside the backtest): there is nothing to
    forecast it from, and every candidate is scored on the same windows.
    """
    window_offset = prediction_length if window_offset is None else window_offset
    if origin not in BACKTEST_ORIGINS:
        raise ValueError(f"`origin` must be one of {BACKTEST_ORIGINS}, got {origin!r}.")
    length = panel.target.shape[1]
    if origin == "dataset_end":
        starts = np.tile(backtest_origins(length, prediction_length, num_windows, window_offset), (len(panel.keys), 1))
    else:
        if num_windows < 1 or window_offset < 1:
            raise ValueError("`num_windows` and `window_offset` must be at least 1.")
        ends = panel.last_observed + 1
        starts = ends[:, None] - prediction_length - window_offset * np.arange(num_windows)[::-1][None, :]
        usable = (starts[:, 0] >= 1) & (ends > 0)
        if not usable.any():
            raise ValueError(f"No series is long enough for {num_windows} windows {window_offset} steps apart with "
                             f"horizon {prediction_length} before its own last observation.")
        starts = np.where(usable[:, None], starts, -1)
    observed = panel.observed  # filled-in values count: the forecaster sees them
    first = np.where(observed.any(axis=1), observed.argmax(axis=1), length)
    starts = np.where(starts > first[:, None], starts, -1)
    empty = np.flatnonzero((starts < 0).all(axis=0))
    if empty.size:
        raise ValueError(f"No series has a value before backtest window {int(empty[-1]) + 1} of {num_windows} "
                         "(counted from the earliest): use fewer windows or a shorter horizon.")
    return starts


def predict_from_origins(forecaster, panel, origins, num_samples, seed):
    """Sample paths `(series, num_samples, horizon)` with series `i` forecast from step `origins[i]`
    (one `predict_paths` call per distinct origin); series at origin -1 get NaN. Where no value before an
    origin is negative (`TimeSeriesPanel.never_negative`), its paths are raised to zero: demand, counts and
    loads cannot go below it, whatever a Gaussian interval or a Student-t draws."""
    origins = np.asarray(origins, dtype="int64")
    paths = None
    for start in np.unique(origins[origins >= 0]):
        rows = np.flatnonzero(origins == start)
        part = panel if rows.size == len(origins) else panel.select(rows)
        values = np.asarray(forecaster.predict_paths(part, int(start), num_samples, seed), dtype="float64")
        if panel.never_negative(int(start)):  # the panel's, as DeepAR's recipe decides for the whole panel
            values = np.maximum(values, 0.0)  # NaN stays NaN
        if paths is None:
            paths = np.full((len(origins),) + values.shape[1:], np.nan)
        paths[rows] = values
    return paths


def _before(panel, origins):
    """The panel with each series' target hidden from its first backtest window on."""
    target = panel.target.copy()
    target[np.arange(target.shape[1])[None, :] >= np.where(origins < 0, 0, origins)[:, None]] = np.nan
    return dataclasses.replace(panel, target=target)


def window_arrays(panel, origins, prediction_length):
    """Recorded actuals `(series, horizon)` from each series' origin, and recorded histories right-aligned
    before them (filled-in steps are missing: scores compare against what was recorded)."""
    target = panel.recorded_target
    rows = np.arange(len(origins))
    usable = origins >= 0
    steps = np.where(usable, origins, 0)[:, None] + np.arange(prediction_length)[None, :]
    actuals = np.where(usable[:, None], target[rows[:, None], np.minimum(steps, target.shape[1] - 1)], np.nan)
    longest = int(origins.max())
    back = np.where(usable, origins, 0)[:, None] - longest + np.arange(longest)[None, :]
    history = np.where(back >= 0, target[rows[:, None], np.maximum(back, 0)], np.nan)
    return actuals, history


def backtest(forecasters, panel, num_windows, window_offset=None, quantiles=DEFAULT_QUANTILES, num_samples=100,
             seed=0, fit=False, return_paths=False, origin="dataset_end"):
    """Amazon Forecast-style backtest: rolling windows at the end of the data.

    Args:
        forecasters: dict of name -> `kerasts.protocols.Forecaster` (DeepAR, the baselines), all
            with the same `prediction_length`.
        panel: the `kerasts.data.TimeSeriesPanel`; each forecaster only sees the data before each
            window's origin.
        num_windows, window_offset: see `backtest_origins`.
        quantiles: levels scored by wQL.
        num_samples, seed: passed to every forecaster (window `i` uses `seed + i`).
        fit: first fit each forecaster on the data before the first window (as Forecast trains a
            predictor before its backtest windows); otherwise they are used as fitted, not retrained.
        return_paths: also return each forecaster's sample paths per window.
        origin: `"dataset_end"` (every series' windows end at the grid's end) or `"series_end"` (each
            series' at its own last observation; see `series_backtest_origins`). With `"series_end"`
            and `fit`, each series' data from its first window on is hidden from the fit.

    Returns:
        A DataFrame indexed by (forecaster, window), one row per window plus a `"mean"`
        row per forecaster averaging the windows; columns are the metrics of
        `evaluate_sample_forecast` and `window_start` (the latest series' start with
        `"series_end"`). With `return_paths`, `(scores, {name: [(origins (series,), paths
        (series, num_samples, horizon)), ...]})`.
    """
    if not isinstance(forecasters, dict) or not forecasters:
        raise ValueError("`forecasters` must be a non-empty dict of name -> forecaster.")
    for name, forecaster in forecasters.items():
        if not (callable(getattr(forecaster, "predict_paths", None)) and callable(getattr(forecaster, "fit", None))):
            raise TypeError(f"Forecaster {name!r} ({type(forecaster).__name__}) lacks fit/predict_paths: give a "
                            "kerasts.protocols.Forecaster (e.g. DeepARForecaster, not the DeepAR network).")
    horizons = {name: getattr(forecaster, "prediction_length", None) for name, forecaster in forecasters.items()}
    if len(set(horizons.values())) != 1 or None in horizons.values():
        raise ValueError(f"Every forecaster must have the same `prediction_length`; got {horizons}.")
    prediction_length = next(iter(horizons.values()))
    origins = series_backtest_origins(panel, prediction_length, num_windows, window_offset, origin)
    tables, all_paths = [], {}
    for name, forecaster in forecasters.items():
        if fit:
            first = origins[:, 0]
            if origin == "dataset_end":
                forecaster.fit(panel, end=int(first.max()))
            else:
                forecaster.fit(_before(panel, first), end=int(first.max()))
        all_paths[name] = [(origins[:, index], predict_from_origins(forecaster, panel, origins[:, index], num_samples,
                                                                    seed + index)) for index in range(num_windows)]
        tables.append(score_backtest_paths(name, panel, all_paths[name], quantiles))
    scores = pd.concat(tables)
    return (scores, all_paths) if return_paths else scores


def score_backtest_paths(name, panel, window_paths, quantiles=DEFAULT_QUANTILES):
    """`backtest`'s scores of one forecaster from its paths: `window_paths` is `[(origins (series,),
    paths (series, num_samples, horizon)), ...]`, one pair per window."""
    rows = []
    for index, (origins, paths) in enumerate(window_paths):
        actuals, history = window_arrays(panel, origins, paths.shape[-1])
        scores = evaluate_sample_forecast(actuals, np.moveaxis(paths, 1, 0), history, panel.frequency, quantiles)
        rows.append({"forecaster": name, "window": index,
                     "window_start": panel.step_timestamps(int(origins.max()), 1)[0], **scores})
    means = pd.DataFrame(rows).drop(columns=["forecaster", "window", "window_start"]).mean()
    rows.append({"forecaster": name, "window": "mean", **means})
    return pd.DataFrame(rows).set_index(["forecaster", "window"])


def item_quantile_losses(panel, window_paths, quantiles):
    """Each series' quantile loss summed over the levels, steps and windows of `window_paths` (as in
    `score_backtest_paths`); NaN for a series with no observed step in its windows."""
    levels = np.asarray(quantiles, dtype="float64")[:, None, None]
    total, counted = np.zeros(len(panel.keys)), np.zeros(len(panel.keys), dtype=bool)
    for origins, paths in window_paths:
        actuals, _ = window_arrays(panel, origins, paths.shape[-1])
        error = actuals[None] - np.quantile(paths, levels.ravel(), axis=1)
        loss = np.maximum(levels * error, (levels - 1) * error)
        observed = ~np.isnan(actuals)
        total += np.where(observed[None], loss, 0.0).sum(axis=(0, 2))
        counted |= observed.any(axis=1)
    return np.where(counted, total, np.nan)
