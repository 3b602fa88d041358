"""Likelihood-head MLP on the electricity benchmark protocol of ../shared/BENCHMARK-TARGETS.md.

    .venv/bin/python benchmarks/likelihood_heads.py [--data PATH] [--runs 3] [--epochs 5]

321 hourly series (2014-11-27 .. 2014-12-31), train on all but the last 7 days, 7 rolling 24-hour
test windows, context 168, 100 sample paths; ND of the median, mean wQL over 0.1..0.9, rho-risk.
Each likelihood is trained `--runs` times with different seeds: the accuracy columns are from the
first seed, throughput is the median over runs. This is the floor DeepAR must clear, not a peer.
"""

import argparse
import os
import platform
import statistics

import numpy as np
import pandas as pd

import kerasts  # noqa: F401 - quiet TensorFlow import
from kerasts.demo import backtest_head_network

DEFAULT_DATA = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data",
                            "electricity-uci-321-last35days", "electricity35.npy")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=DEFAULT_DATA, help="electricity35.npy (321 x 840)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--likelihoods", nargs="+", default=["student_t", "negative_binomial", "gaussian"])
    arguments = parser.parse_args()
    values = np.load(arguments.data).astype("float32")
    print(f"{values.shape[0]} series x {values.shape[1]} hours; {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores")
    rows = {}
    for likelihood in arguments.likelihoods:
        throughputs = []
        for run in range(arguments.runs):
            scores, forecast = backtest_head_network(values, likelihood=likelihood, epochs=arguments.epochs,
                                                     batch_size=256, seed=run, log=lambda message: None)
            throughputs.append(forecast["windows_per_second"])
            if run == 0:
                model_scores, naive_scores = scores.iloc[0], scores.iloc[1]
        rows[f"MLP {likelihood}"] = {**model_scores[["ND", "mean_wQL", "rho_risk_0.5", "rho_risk_0.9"]],
                                     "windows/s (median)": statistics.median(throughputs)}
    rows["seasonal naive (lag 24)"] = {**naive_scores[["ND", "mean_wQL", "rho_risk_0.5", "rho_risk_0.9"]]}
    print(pd.DataFrame(rows).T.to_string(float_format=lambda value: f"{value:.3f}"))


if __name__ == "__main__":
    main()
