"""Training across worker processes (MultiWorkerMirroredStrategy) on 127.0.0.1: two workers train a tiny
DeepAR, TwoTower, HRNN and MMoE with a plain `fit` and must end where one process with two replicas ends."""

import os
import subprocess
import sys

import numpy as np
import pytest

from kerasts.testing import free_local_ports

pytestmark = pytest.mark.slow  # processes that start TensorFlow and train: over 40 s each

JOB = os.path.join(os.path.dirname(__file__), "job.py")
RESUME_JOB = os.path.join(os.path.dirname(__file__), "resume_job.py")
LIMIT_S = 240  # each process; the three take about a minute on two cores


def start(commands):
    return [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for command in commands]


def finish(processes):
    """Waits for every process (each within LIMIT_S), asserts each succeeded, returns their outputs."""
    try:
        outputs = [process.communicate(timeout=LIMIT_S)[0] for process in processes]
    finally:
        for process in processes:
            process.kill()
    assert [process.returncode for process in processes] == [0] * len(processes), \
        "\n".join(output[-2000:] for output in outputs)
    return outputs


def run_workers(tmp_path):
    ports = ",".join(map(str, free_local_ports(2)))
    finish(start([sys.executable, JOB, "worker", str(index), ports, str(tmp_path / f"w{index}.npz")]
                 for index in range(2)))
    return [np.load(tmp_path / f"w{index}.npz") for index in range(2)]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("multi_worker")
    reference = subprocess.run([sys.executable, JOB, "mirrored", "-", "-", str(tmp_path / "reference.npz")],
                               capture_output=True, text=True, timeout=LIMIT_S)
    assert reference.returncode == 0, reference.stdout[-2000:] + reference.stderr[-3000:]
    return run_workers(tmp_path), np.load(tmp_path / "reference.npz")


@pytest.mark.parametrize("model", ["deepar", "two_tower", "hrnn", "mmoe"])
def test_workers_end_with_the_same_weights_as_one_process_with_two_replicas(trained, model):
    (first, second), reference = trained
    weights = sorted(key for key in first.files if key.startswith(f"{model}_weight_"))
    assert weights
    for key in weights:
        np.testing.assert_array_equal(first[key], second[key], err_msg=key)  # synchronised every step
        # The same global batches, split between the replicas the same way: equal up to float summation order.
        np.testing.assert_allclose(first[key], reference[key], rtol=1e-4, atol=1e-5, err_msg=key)
    np.testing.assert_allclose(first[f"{model}_loss"], reference[f"{model}_loss"], rtol=1e-4)


def test_hrnn_slot_states_stay_with_their_worker(trained):
    (first, second), reference = trained
    states = reference["hrnn_states"]  # two replicas' slots, in replica order
    np.testing.assert_allclose(first["hrnn_states"], states[:len(states) // 2], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(second["hrnn_states"], states[len(states) // 2:], rtol=1e-4, atol=1e-5)
    assert np.abs(states).sum() > 0


def _start_workers(tmp_path, run, crash_epoch=None):
    ports = ",".join(map(str, free_local_ports(2)))
    return start([sys.executable, RESUME_JOB, str(index), ports, str(tmp_path / "backup"),
                  str(tmp_path / f"{run}_{index}.json"), *([str(crash_epoch)] if crash_epoch else [])]
                 for index in range(2))


def test_a_job_restarted_after_losing_a_worker_resumes_from_the_last_backup(tmp_path):
    import json

    first = _start_workers(tmp_path, "crashed", crash_epoch=2)
    try:
        assert first[1].wait(timeout=LIMIT_S) == 3  # worker 1 died as epoch 2 began
    finally:
        for worker in first:
            worker.kill()  # worker 0 waits on its lost peer: the job is down
            worker.wait()
    crashed = json.loads((tmp_path / "crashed_0.json").read_text())
    assert crashed["epochs"] == [0, 1, 2][:len(crashed["epochs"])] and "1" in crashed["weights"]
    assert (tmp_path / "backup" / "end-240" / "worker-0").is_dir()
    finish(_start_workers(tmp_path, "restarted"))
    for index in range(2):
        restarted = json.loads((tmp_path / f"restarted_{index}.json").read_text())
        assert restarted["finished"] and restarted["epochs"] == [2, 3]  # not from scratch: epochs 0 and 1 are done
        for start, backed_up in zip(restarted["weights"]["start"], crashed["weights"]["1"]):
            np.testing.assert_allclose(start, backed_up, rtol=1e-6)  # from the weights backed up after epoch 1
    assert not (tmp_path / "backup" / "end-240").exists() or not any((tmp_path / "backup" / "end-240").iterdir())


@pytest.mark.parametrize("workers, index, message", [
    ("10.0.0.1:123", 0, "needs two or more distinct workers"),
    ("10.0.0.1:123,10.0.0.1:123", 0, "needs two or more distinct workers"),
    ("10.0.0.1,10.0.0.2:80", 0, "Each worker must be host:port .* got '10.0.0.1'"),
    ("a:1,b:99999", 0, "got 'b:99999'"),
    ("a:1,b:2", 2, r"`worker_index` must be an int in \[0, 2\)"),
])
def test_bad_worker_lists_are_named(workers, index, message, monkeypatch):
    from kerasts.distributed import multi_worker_strategy

    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match=message):
        multi_worker_strategy(workers, index)
    assert "TF_CONFIG" not in os.environ  # nothing set for a refused list


def test_the_cli_trains_across_two_workers_and_worker_0_writes_the_predictor(tmp_path):
    import kerasts  # noqa: F401 - a local import: the module's other tests run only subprocesses
    from kerasts.forecast import load_predictor

    kerasts.data.synthetic_forecast_table(3, 24 * 6, seed=0).to_csv(tmp_path / "sales.csv", index=False)
    workers = ",".join(f"127.0.0.1:{port}" for port in free_local_ports(2))
    command = [sys.executable, "-m", "kerasts", "forecast", "train", "--target", str(tmp_path / "sales.csv"),
               "--frequency", "H", "--horizon", "12", "--algorithm", "deepar", "--epochs", "1", "--quiet",
               "--training-parameters", '{"deepar": {"num_networks": 1, "batches_per_epoch": 10}}',
               "--output", str(tmp_path / "predictor"), "--workers", workers, "--backup-dir", str(tmp_path / "backup")]
    outputs = finish(start(command + ["--worker-index", str(index)] for index in range(2)))
    assert "Saved the predictor" in outputs[0] and "worker 0 writes" in outputs[1]
    assert len(load_predictor(tmp_path / "predictor").forecast()) == 3 * 12


def test_backups_work_in_a_single_process_too(tmp_path):
    import pandas as pd

    import kerasts
    from kerasts.personalize.solution import fit_recipe

    panel = kerasts.data.align_target(kerasts.data.synthetic_forecast_table(2, 24 * 6, seed=0), "H")
    forecaster = kerasts.models.DeepARForecaster(12, 24, units=4, num_layers=1, batch_shards=1, epochs=2,
                                                 batches_per_epoch=2, backup_directory=tmp_path / "deepar")
    assert len(forecaster.fit(panel).history.history["loss"]) == 2  # the network is built before the restore
    events = pd.DataFrame({"USER_ID": [f"u{n % 12}" for n in range(120)], "ITEM_ID": [f"i{n % 9}" for n in range(120)],
                           "TIMESTAMP": range(120)}).sort_values(["USER_ID", "TIMESTAMP"], ignore_index=True)
    recommender = fit_recipe({"name": "two-tower", "config": {"epochs": 2}}, events,
                             backup_directory=tmp_path / "two_tower")
    assert len(recommender.history.history["loss"]) == 2
    events = kerasts.data.synthetic_interactions(num_users=60, num_items=80, events_per_user=12, seed=0)
    ranker = fit_recipe({"name": "two-stage", "config": {"epochs": 2, "retrieval": {"epochs": 1}}}, events,
                        backup_directory=tmp_path / "two_stage")  # its ranker's training backs up
    assert len(ranker.ranker_history.history["loss"]) == 2
