"""Named components that users can add to: likelihood families and recurrent cells.

A component is given by name (`"student_t"`) or by name with arguments
(`{"name": "nested_lstm", "config": {"depth": 3}}`); `serialize` writes it back the same way, so a
configuration that names a user's registered component round-trips through `get_config` and
`.keras` files (the module that registers it must be imported before loading, as for Keras's own
custom objects).
"""


class Registry:
    """Factories by name. `create(spec, *args)` calls the factory with `*args` and the spec's config.

    Args:
        kind: what the entries are, for messages (e.g. `"likelihood"`).
        register_call: the public function users register with, named in messages.
    """

    def __init__(self, kind, register_call):
        self.kind = kind
        self.register_call = register_call
        self._factories = {}

    def register(self, name, factory):
        if not isinstance(name, str) or not name:
            raise ValueError(f"A {self.kind} needs a non-empty string name to register, got {name!r}.")
        if not callable(factory):
            raise TypeError(f"The {self.kind} {name!r} must be registered with a callable, got {factory!r}.")
        self._factories[name] = factory
        return factory

    def names(self):
        return tuple(self._factories)

    def get(self, spec):
        """The registered entry itself, for a name or spec."""
        return self._factories[self.parse(spec)[0]]

    def parse(self, spec):
        """`(name, config)` of a name or a `{"name": ..., "config": {...}}` dict, the name known."""
        if isinstance(spec, str):
            name, config = spec, {}
        elif isinstance(spec, dict) and set(spec) <= {"name", "config"} and "name" in spec:
            name, config = spec["name"], dict(spec.get("config") or {})
        else:
            raise TypeError(f"A {self.kind} is given by name or as {{'name': ..., 'config': {{...}}}}, "
                            f"got {spec!r}.")
        if name not in self._factories:
            raise ValueError(f"Unknown {self.kind} {name!r}: expected one of {self.names()}, or one added with "
                             f"{self.register_call}.")
        return name, config

    def create(self, spec, *args):
        name, config = self.parse(spec)
        try:
            return self._factories[name](*args, **config)
        except TypeError as error:
            raise ValueError(f"The {self.kind} {name!r} does not take the arguments {config}: {error}") from error

    @staticmethod
    def serialize(name, config):
        """The spec that `create` reads back: the bare name when there are no arguments."""
        return {"name": name, "config": dict(config)} if config else name
