"""Small datasets shipped with kerasts (each with its license in SOURCE.md)."""

from importlib import resources

import pandas as pd


def _read_bundled(name, **read_csv_kwargs):
    with resources.as_file(resources.files(__name__).joinpath(name)) as local_path:
        return pd.read_csv(local_path, **read_csv_kwargs)


def load_tokyo_daily_cases():
    """Newly confirmed COVID-19 cases per day in Tokyo in 2020 (MHLW open data, 351 days).

    Columns `date` (datetime64) and `cases` (float). Government of Japan Standard Terms of Use
    2.0 (CC BY 4.0 compatible); see `kerasts/data/bundled/SOURCE.md`.
    """
    table = _read_bundled("tokyo_daily_cases_2020.csv.gz", parse_dates=["date"])
    return table.rename(columns={"tokyo_new_confirmed_cases": "cases"}).astype({"cases": "float64"})


def load_electricity_sample():
    """Hourly load (kW) of 11 UCI electricity clients over 35 days, Forecast layout.

    Columns `item_id` (str), `timestamp` (datetime64), `target_value` (float). Data from
    the UCI ElectricityLoadDiagrams20112014 dataset (Trindade, 2015), CC BY 4.0; see
    `kerasts/data/bundled/SOURCE.md` for the derivation.
    """
    table = _read_bundled("electricity_hourly_11_clients.csv.gz", parse_dates=["timestamp"], dtype={"item_id": str})
    table["target_value"] = table["target_value"].astype("float64")
    return table
