import contextlib
import socket


def free_local_ports(count=1):
    """`count` distinct TCP ports of 127.0.0.1 that were free a moment ago, for servers and workers that
    tests and benchmarks start (each probe stays bound until all are chosen, so none repeats)."""
    with contextlib.ExitStack() as stack:
        probes = [stack.enter_context(socket.socket()) for _ in range(count)]
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]
