"""keras-tuner's chief/worker search through random_search: a chief and two workers on 127.0.0.1."""

import json
import os
import pathlib
import subprocess
import sys

import pytest

from kerasts.testing import free_local_ports

SCRIPT = pathlib.Path(__file__).with_name("distributed_search.py")


@pytest.mark.slow
def test_chief_and_two_workers_share_one_search(tmp_path):
    port, = free_local_ports()

    def start(tuner_id):
        environment = {**os.environ, "KERASTUNER_TUNER_ID": tuner_id, "KERASTUNER_ORACLE_IP": "127.0.0.1",
                       "KERASTUNER_ORACLE_PORT": str(port), "TF_CPP_MIN_LOG_LEVEL": "3"}
        return subprocess.Popen([sys.executable, str(SCRIPT), str(tmp_path)], env=environment, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    chief = start("chief")
    workers = [start("tuner0"), start("tuner1")]
    try:
        for worker in workers:
            _, errors = worker.communicate(timeout=300)
            assert worker.returncode == 0, errors[-3000:]
        output, errors = chief.communicate(timeout=120)
        assert chief.returncode == 0, errors[-3000:]
    finally:
        for process in [chief] + workers:
            process.kill()
    ran = {name: [json.loads(line) for line in (tmp_path / f"{name}.jsonl").read_text().splitlines()]
           for name in ("tuner0", "tuner1") if (tmp_path / f"{name}.jsonl").exists()}
    trials = [json.dumps(values, sort_keys=True) for values in sum(ran.values(), [])]
    assert len(trials) == 4 and len(set(trials)) == 4  # every trial trained once, by one worker
    assert all(ran.get(name) for name in ("tuner0", "tuner1")), ran  # both workers took part
    best = json.loads(output.strip().splitlines()[-1])
    assert json.dumps(best, sort_keys=True) in trials
