import tensorflow as tf


def configure_logical_cpus(count=2):
    """Splits the CPU into `count` logical devices so MirroredStrategy can be tested.

    Must run before TensorFlow initialises its devices (first op or device query
    after import): call it at test-session start, e.g. in `conftest.py`.
    """
    cpu = tf.config.list_physical_devices("CPU")[0]
    existing = tf.config.get_logical_device_configuration(cpu)
    if existing is not None and len(existing) == count:
        return
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * count)
    except RuntimeError as error:
        raise RuntimeError(
            "configure_logical_cpus() ran after TensorFlow initialised its devices; call it "
            "before any TensorFlow op (in conftest.py, before tests import models)."
        ) from error


def logical_cpu_names():
    return [device.name for device in tf.config.list_logical_devices("CPU")]
