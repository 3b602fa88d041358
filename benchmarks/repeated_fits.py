"""A process's resident memory over repeated fits, as HPO, AutoML and backtests fit network after network.

    .venv/bin/python benchmarks/repeated_fits.py --model two-tower|gru4rec|two-stage|deepar|mlp [--fits 10]

Each fit trains a fresh model for one epoch and drops it (recommenders: the Personalize recipe on 500 generated
users' interactions, `fit_recipe`; forecasters: `DeepARForecaster` with its 3 networks or `MLPForecaster` on 5
hourly series of 400 steps, 5 batches an epoch for DeepAR). It prints the resident memory (MiB) after each fit
and the growth per fit over the last `--fits` - 1 (the first fit also loads what every later one shares).
"""

import argparse
import gc

import kerasts  # noqa: F401 - first, to silence TensorFlow's start-up logging
from kerasts.baselines import MLPForecaster
from kerasts.data import align_target, synthetic_forecast_table, synthetic_interactions
from kerasts.models import DeepARForecaster
from kerasts.personalize import fit_recipe

RECIPES = ("two-tower", "gru4rec", "two-stage")


def resident_mib():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096 / 2**20


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=RECIPES + ("deepar", "mlp"), required=True)
    parser.add_argument("--fits", type=int, default=10)
    arguments = parser.parse_args()
    interactions = synthetic_interactions(num_users=500, num_items=1000, seed=0)
    panel = align_target(synthetic_forecast_table(5, 400, seed=0), "H")
    resident = []
    for fit in range(arguments.fits):
        if arguments.model in RECIPES:
            fit_recipe({"name": arguments.model, "config": {"epochs": 1}}, interactions)
        elif arguments.model == "deepar":
            DeepARForecaster(24, 48, epochs=1, batches_per_epoch=5).fit(panel)
        else:
            MLPForecaster(24, 48, epochs=1).fit(panel)
        gc.collect()
        resident.append(resident_mib())
        print(f"fit {fit + 1}: {resident[-1]:.0f} MiB", flush=True)
    if len(resident) > 1:
        print(f"{arguments.model}: {(resident[-1] - resident[0]) / (len(resident) - 1):.1f} MiB more per fit after the "
              f"first ({resident[0]:.0f} -> {resident[-1]:.0f} MiB)")


if __name__ == "__main__":
    main()
