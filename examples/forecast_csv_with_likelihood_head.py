"""Backtest the likelihood-head network on your own table in the Amazon Forecast layout.

    python examples/forecast_csv_with_likelihood_head.py sales.csv --frequency D --season 7 \
        --context 56 --horizon 14 --likelihood negative_binomial

The CSV needs one row per series and period (columns `item_id`, `timestamp`,
`target_value` by default; rename with --item/--timestamp/--target), every series on the
same regular time grid. It trains on all but the last `--windows` horizons, backtests on
those, and prints the metrics next to seasonal naive.
"""

import argparse

import pandas as pd

import kerasts  # noqa: F401 - quiet TensorFlow import and registrations
from kerasts.demo import backtest_head_network, series_matrix


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("csv")
    parser.add_argument("--item", default="item_id")
    parser.add_argument("--timestamp", default="timestamp")
    parser.add_argument("--target", default="target_value")
    parser.add_argument("--frequency", default="H", help="pandas-style frequency, for MASE")
    parser.add_argument("--season", type=int, default=24, help="seasonal-naive lag")
    parser.add_argument("--context", type=int, default=168)
    parser.add_argument("--horizon", type=int, default=24)
    parser.add_argument("--windows", type=int, default=7, help="rolling test windows")
    parser.add_argument("--likelihood", default="student_t", choices=kerasts.likelihoods.names())
    parser.add_argument("--epochs", type=int, default=20)
    arguments = parser.parse_args()

    table = pd.read_csv(arguments.csv, parse_dates=[arguments.timestamp])
    missing = {arguments.item, arguments.timestamp, arguments.target} - set(table.columns)
    if missing:
        parser.error(f"{arguments.csv} lacks column(s) {sorted(missing)}; it has {list(table.columns)}")
    _, values = series_matrix(table, arguments.item, arguments.timestamp, arguments.target)
    scores, _ = backtest_head_network(
        values, likelihood=arguments.likelihood, context_length=arguments.context,
        prediction_length=arguments.horizon, test_windows=arguments.windows, frequency=arguments.frequency,
        season_length=arguments.season, epochs=arguments.epochs,
    )
    print(scores.to_string(float_format=lambda value: f"{value:.3f}"))


if __name__ == "__main__":
    main()
