"""Mean and spread over seeds, as the benchmark scripts print them."""

import math
import statistics


def mean_and_spread(values, standard_error=False):
    """`"mean ± sd"` (or `± standard error` of the mean) of `values`, three decimals."""
    values = list(values)
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.3f} ± {spread / math.sqrt(len(values)) if standard_error else spread:.3f}"
