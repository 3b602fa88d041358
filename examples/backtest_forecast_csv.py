"""Backtest DeepAR against its baselines on your own table in the Amazon Forecast layout.

    python examples/backtest_forecast_csv.py sales.csv --frequency D --context 56 --horizon 14 \
        --likelihood negative_binomial --forecast-out forecast.csv

The CSV needs one row per series and period (columns `item_id`, `timestamp`, `target_value` by
default; rename with --item/--timestamp/--target; extra key columns with --dimensions). Values in one
period are summed and gaps are missing values. It trains DeepAR and the likelihood-head MLP on all but
the last `--windows` horizons, backtests them with NPTS and seasonal naive, prints the mean metrics,
and writes DeepAR's forecast of the next horizon in Forecast's export layout.
"""

import argparse

import pandas as pd

import kerasts

SHOWN_METRICS = ["mean_wQL", "ND", "WAPE", "RMSE", "MAPE", "MASE", "CRPS", "coverage_80"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("csv")
    parser.add_argument("--item", default="item_id")
    parser.add_argument("--dimensions", nargs="*", default=[], help="further key columns, e.g. store")
    parser.add_argument("--timestamp", default="timestamp")
    parser.add_argument("--target", default="target_value")
    parser.add_argument("--frequency", default="H")
    parser.add_argument("--context", type=int, default=168)
    parser.add_argument("--horizon", type=int, default=24)
    parser.add_argument("--windows", type=int, default=7, help="rolling test windows")
    parser.add_argument("--likelihood", default="student_t", choices=kerasts.likelihoods.names())
    parser.add_argument("--epochs", type=int, default=20, help="DeepAR epochs of 50 batches")
    parser.add_argument("--forecast-out", default="forecast.csv")
    arguments = parser.parse_args()

    table = pd.read_csv(arguments.csv)
    try:
        panel = kerasts.data.align_target(table, arguments.frequency, arguments.item, arguments.dimensions,
                                          arguments.timestamp, arguments.target)
        scores, forecasters = kerasts.evaluation.compare_forecasters(
            panel, prediction_length=arguments.horizon, context_length=arguments.context,
            test_windows=arguments.windows, likelihood=arguments.likelihood, epochs=arguments.epochs)
    except ValueError as error:
        parser.error(str(error))
    print(scores.xs("mean", level="window")[SHOWN_METRICS].to_string(float_format=lambda value: f"{value:.3f}"))
    forecasters["DeepAR"].forecast_dataframe(panel).to_csv(arguments.forecast_out, index=False)
    print(f"Wrote {arguments.forecast_out}")


if __name__ == "__main__":
    main()
