"""Median latency of single calls, as the benchmark scripts time queries and steps."""

import statistics
import time


def median_ms(call, inputs):
    """Median milliseconds of `call(value)` over `inputs`, after one untimed call on the first."""
    call(inputs[0])
    latencies = []
    for value in inputs:
        start = time.perf_counter()
        call(value)
        latencies.append(time.perf_counter() - start)
    return statistics.median(latencies) * 1000
