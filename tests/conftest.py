import kerasts.testing

# MirroredStrategy tests need two logical CPUs, fixed before TensorFlow starts its devices.
kerasts.testing.configure_logical_cpus(2)
