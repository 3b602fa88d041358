import pathlib
import re

import numpy as np
import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


@pytest.mark.slow
def test_readme_python_examples_run(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert len(blocks) >= 2
    namespace = {}
    monkeypatch.chdir(tmp_path)  # the examples write files (a SavedModel); cwd is restored after
    for index, block in enumerate(blocks):
        exec(compile(block, f"README.md python block {index}", "exec"), namespace)  # noqa: S102 - our own docs
    assert namespace["scores"].xs("mean", level="window").shape[0] == 3
    assert list(namespace["table"].columns) == ["item_id", "date", "p10", "p50", "p90", "mean"]
    featured = namespace["featured"]
    assert featured.loc[featured["cold_start"], "item_id"].unique().tolist() == ["item_new"]
    assert {"baseline_p50", "what_if_p50"} <= set(namespace["scenario"].columns)
    assert set(namespace["overall"].index) == {"price", "web_visits", "category"}
    assert tuple(namespace["out"]["samples"].shape) == (4, 100, 24)
    assert tuple(namespace["samples"].shape) == (100, 64, 24)
    assert namespace["ids"].shape == (1, 5) and not {"5", "7", "9"} & set(namespace["ids"][0])
    assert (tmp_path / "recommender" / "saved_model.pb").exists()
    assert namespace["offline"]["recall_at_10"] > 0.15
    assert len(namespace["live"].recommend(user_id="u1", k=5).item_ids) == 5
    assert (tmp_path / "hrnn_step" / "saved_model.pb").exists()
    assert 5 <= namespace["search"].best_hyperparameters.values["n_x"] <= 10
    assert set(namespace["mmoe"].gate_entropy({"x": np.zeros((10, 8), "float32")})) == {"task_1", "task_2"}  # Swing on grouped users; chance (10 of 100 items) is 0.1
