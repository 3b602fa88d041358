"""The shared test harness for kerasts layers and models (and for users' own layers)."""

from kerasts.testing.devices import configure_logical_cpus, logical_cpu_names
from kerasts.testing.ports import free_local_ports
from kerasts.testing.test_case import TestCase

__all__ = ["TestCase", "configure_logical_cpus", "free_local_ports", "logical_cpu_names"]
