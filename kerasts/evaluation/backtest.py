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


def backtest(forecasters, panel, num_windows, window_offset=None, quantiles=DEFAULT_QUANTILES, num_samples=100,
             seed=0, fit=False, return_paths=False):
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

    Returns:
        A DataFrame indexed by (forecaster, window), one row per window plus a `"mean"`
        row per forecaster averaging the windows; columns are the metrics of
        `evaluate_sample_forecast` and `window_start`. With `return_paths`, `(scores,
        {name: [(origin, paths (series, num_samples, horizon)), ...]})`.
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
    origins = backtest_origins(panel.target.shape[1], prediction_length, num_windows, window_offset)
    rows, all_paths = [], {}
    for name, forecaster in forecasters.items():
        if fit:
            forecaster.fit(panel, end=origins[0])
        window_rows = []
        for index, origin in enumerate(origins):
            paths = np.asarray(forecaster.predict_paths(panel, origin, num_samples, seed + index))
            all_paths.setdefault(name, []).append((origin, paths))
            actuals = panel.target[:, origin:origin + prediction_length]
            scores = evaluate_sample_forecast(actuals, np.moveaxis(paths, 1, 0), panel.target[:, :origin],
                                              panel.frequency, quantiles)
            window_rows.append({"forecaster": name, "window": index, "window_start": panel.step_timestamps(origin, 1)[0],
                                **scores})
        means = pd.DataFrame(window_rows).drop(columns=["forecaster", "window", "window_start"]).mean()
        rows += window_rows + [{"forecaster": name, "window": "mean", **means}]
    scores = pd.DataFrame(rows).set_index(["forecaster", "window"])
    return (scores, all_paths) if return_paths else scores
