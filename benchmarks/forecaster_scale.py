"""One workflow algorithm's fit and forecast on a large synthetic daily panel: seconds and peak memory.

    .venv/bin/python benchmarks/forecaster_scale.py [--algorithm mlp] [--series 5000] [--steps 730]
        [--horizon 28] [--settings '{"epochs": 1}']

The panel is a retailer's: daily counts (Poisson around a weekly cycle) of `--series` items whose levels span
four orders of magnitude, 40% of them starting late (new items), built through `DatasetGroup` as the CLI
builds it. The forecaster is the workflow's (`build_forecaster`, its defaults with `--settings` on top),
fitted on all but the last `--horizon` steps and forecasting them. Printed: the seconds of `fit` and of
`predict_paths`, and the process's peak resident memory before the fit and at the end (Linux, MiB)."""

import argparse
import json
import resource
import time

import numpy as np
import pandas as pd

import kerasts  # noqa: F401 - first, to silence TensorFlow's start-up logging
from kerasts.forecast import DatasetGroup
from kerasts.forecast.algorithms import build_forecaster


def synthetic_sales(num_series, num_steps, seed=0):
    rng = np.random.default_rng(seed)
    steps = np.arange(num_steps)
    levels = np.exp(rng.normal(1.5, 1.5, num_series))
    weekly = 1 + 0.3 * np.sin(2 * np.pi * (steps[None] + rng.integers(0, 7, num_series)[:, None]) / 7)
    counts = rng.poisson(levels[:, None] * weekly)
    starts = np.where(rng.random(num_series) < 0.6, 0, rng.integers(0, num_steps // 2, num_series))
    rows, columns = np.nonzero(steps[None] >= starts[:, None])
    days = pd.date_range("2024-01-01", periods=num_steps, freq="D")
    return pd.DataFrame({"item_id": np.char.add("item_", rows.astype(str)), "timestamp": days[columns],
                         "target_value": counts[rows, columns]})


def peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--algorithm", default="mlp")
    parser.add_argument("--series", type=int, default=5000)
    parser.add_argument("--steps", type=int, default=730)
    parser.add_argument("--horizon", type=int, default=28)
    parser.add_argument("--settings", default="{}", help="the forecaster's settings as JSON, over its defaults")
    arguments = parser.parse_args()
    panel = DatasetGroup(synthetic_sales(arguments.series, arguments.steps), frequency="D").panel(arguments.horizon)
    end = panel.target.shape[1] - arguments.horizon
    forecaster = build_forecaster({"name": arguments.algorithm, "config": json.loads(arguments.settings)},
                                  arguments.horizon, panel, end)
    before = peak_mib()
    started = time.perf_counter()
    forecaster.fit(panel, end=end)
    fitted = time.perf_counter()
    forecaster.predict_paths(panel, origin=end)
    print(f"{arguments.algorithm} {arguments.settings} on {arguments.series} series x {arguments.steps} steps: "
          f"fit {fitted - started:.1f} s, predict_paths {time.perf_counter() - fitted:.1f} s, "
          f"peak memory {before:.0f} MiB before the fit, {peak_mib():.0f} MiB at the end", flush=True)


if __name__ == "__main__":
    main()
