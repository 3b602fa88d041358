"""The first forecast's overhead: how long DeepAR's first `predict_paths` takes beyond a warm one (#23).

    .venv/bin/python benchmarks/first_forecast.py [--series 300] [--horizons 24 48]

300 generated hourly series (40 days), context 168; for each horizon a network is fitted for one epoch of
two batches, then `predict_paths` is timed four times: the first call traces the sampling graph, the next
three are warm. Prints the first call, the warm median and their difference. To time an older commit, run
the same file from a worktree of it with `PYTHONPATH` set to that worktree (mean scaling is then the only
choice, and is what this script uses everywhere, so both time the same arithmetic).
"""

import argparse
import inspect
import statistics
import time

import kerasts
from kerasts.data import align_target
from kerasts.models import DeepARForecaster


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--series", type=int, default=300)
    parser.add_argument("--horizons", type=int, nargs="+", default=[24, 48])
    arguments = parser.parse_args()
    same_arithmetic = ({"scaling": "mean", "sampling": "scale"}
                       if "scaling" in inspect.signature(DeepARForecaster).parameters else {})
    panel = align_target(kerasts.data.synthetic_forecast_table(arguments.series, 24 * 40, likelihood="student_t",
                                                               seed=0), "H")
    for horizon in arguments.horizons:
        forecaster = DeepARForecaster(horizon, 168, epochs=1, batches_per_epoch=2, **same_arithmetic).fit(panel)
        seconds = []
        for call in range(4):
            started = time.perf_counter()
            forecaster.predict_paths(panel, seed=call)
            seconds.append(time.perf_counter() - started)
        warm = statistics.median(seconds[1:])
        print(f"horizon {horizon}: first call {seconds[0]:.2f} s, warm median {warm:.2f} s, first-call overhead "
              f"{seconds[0] - warm:.2f} s", flush=True)


if __name__ == "__main__":
    main()
