"""The likelihood-head MLP per likelihood on the electricity protocol (a floor for DeepAR).

    .venv/bin/python benchmarks/likelihood_heads.py [--runs 3] [--epochs 5]

Protocol of ../shared/BENCHMARK-TARGETS.md (see benchmarks/electricity.py); metrics pooled over
the 2,247 test windows. Accuracy from the seed-0 run; throughput is the median over runs.
"""

import argparse
import os
import platform
import statistics
import sys

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(__file__))
import electricity  # noqa: E402

import kerasts  # noqa: E402, F401 - first, to silence TensorFlow's start-up logging
from kerasts.baselines import MLPForecaster, seasonal_naive_forecast  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=electricity.DEFAULT_DATA)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--likelihoods", nargs="+", default=["student_t", "negative_binomial", "gaussian"])
    arguments = parser.parse_args()
    values = electricity.load_values(arguments.data)
    panel = electricity.panel(values)
    origins = electricity.test_origins(values.shape[1])
    actuals = np.concatenate([values[:, o:o + electricity.PREDICTION_LENGTH] for o in origins])
    insample = np.concatenate([values[:, o - 504:o] for o in origins])
    print(f"{values.shape[0]} series x {values.shape[1]} hours; {platform.machine()}, {os.cpu_count()} cores")
    rows = {}
    for likelihood in arguments.likelihoods:
        throughputs, scores = [], None
        for run in range(arguments.runs):
            forecaster = MLPForecaster(electricity.CONTEXT_LENGTH, electricity.PREDICTION_LENGTH, likelihood,
                                       epochs=arguments.epochs, batch_size=256, seed=run)
            forecaster.fit(panel, end=origins[0])
            throughputs.append(forecaster.windows_per_second)
            if run == 0:
                paths = np.concatenate([forecaster.predict_paths(panel, o, 100, run) for o in origins])
                scores = electricity.pooled_scores(actuals, np.moveaxis(paths, 1, 0), insample)
        rows[f"MLP {likelihood}"] = {**scores, "windows/s (median)": statistics.median(throughputs)}
    naive = seasonal_naive_forecast(insample, electricity.PREDICTION_LENGTH, 24)
    rows["seasonal naive (lag 24)"] = electricity.pooled_scores(actuals, naive[None], insample)
    print(pd.DataFrame(rows).T.to_string(float_format=lambda value: f"{value:,.3f}"))


if __name__ == "__main__":
    main()
