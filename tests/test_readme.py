import pathlib
import re

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_readme_layer_and_loss_example_runs():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    namespace = {}
    exec(compile(blocks[0], "README.md example", "exec"), namespace)  # noqa: S102 - our own docs
    assert tuple(namespace["samples"].shape) == (100, 64, 24)
    assert tuple(namespace["p90"].shape) == (64, 24)
