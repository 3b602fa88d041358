"""Small datasets shipped with kerasts (each with its license in SOURCE.md)."""

from importlib import resources

import pandas as pd


def load_electricity_sample():
    """Hourly load (kW) of 11 UCI electricity clients over 35 days, Forecast layout.

    Columns `item_id` (str), `timestamp` (datetime64), `target_value` (float). Data from
    the UCI ElectricityLoadDiagrams20112014 dataset (Trindade, 2015), CC BY 4.0; see
    `kerasts/data/bundled/SOURCE.md` for the derivation.
    """
    path = resources.files(__name__).joinpath("electricity_hourly_11_clients.csv.gz")
    with resources.as_file(path) as local_path:
        table = pd.read_csv(local_path, parse_dates=["timestamp"], dtype={"item_id": str})
    table["target_value"] = table["target_value"].astype("float64")
    return table
