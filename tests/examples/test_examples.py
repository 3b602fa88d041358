import contextlib
import io
import pathlib
import runpy
import subprocess
import sys
import traceback

import numpy as np
import pytest
import pandas as pd

import kerasts

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"


def _run(script, *arguments):
    """Runs an example as `python script arguments` would, but in this process: a fresh interpreter
    per example spent most of these tests importing TensorFlow again."""
    argv = [str(EXAMPLES / script), *map(str, arguments)]
    stdout, stderr = io.StringIO(), io.StringIO()
    saved_argv, sys.argv = sys.argv, argv
    returncode = 0
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            runpy.run_path(argv[0], run_name="__main__")
    except SystemExit as exit_:  # as the interpreter maps it: None is 0, a message goes to stderr as 1
        if exit_.code is None or isinstance(exit_.code, int):
            returncode = exit_.code or 0
        else:
            returncode = 1
            stderr.write(str(exit_.code))
    except Exception:  # noqa: BLE001 - reported as a crashed script would be
        returncode = 1
        stderr.write(traceback.format_exc())
    finally:
        sys.argv = saved_argv
    return subprocess.CompletedProcess(argv, returncode, stdout.getvalue(), stderr.getvalue())


@pytest.mark.slow
def test_electricity_example_on_a_small_wide_table(tmp_path):
    table = kerasts.data.synthetic_forecast_table(num_series=2, length=24 * 16, seed=3)
    wide = table.pivot(index="timestamp", columns="item_id", values="target_value").reset_index()
    wide.columns = ["timestamp", "client_000", "client_001"]
    wide.to_csv(tmp_path / "electricity.csv.gz", index=False)
    completed = _run("deepar_electricity.py", tmp_path / "electricity.csv.gz", "--epochs", "1", "--networks", "1")
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "GluonTS DeepAR" in completed.stdout
    assert np.isfinite(float(completed.stdout.split("\ndeepar")[1].split()[0]))


def _daily_sales(shops=3, items=8, days=540, seed=0):
    generator = np.random.default_rng(seed)
    dates = pd.date_range("2013-01-01", periods=days, freq="D")
    rows = []
    for shop in range(shops):
        for item in range(items):
            rate = generator.uniform(0.05, 0.6) * (1 + 0.5 * np.sin(np.arange(days) * 2 * np.pi / 365))
            sold = generator.poisson(rate)
            for day in np.flatnonzero(sold):
                rows.append((dates[day].strftime("%d.%m.%Y"), shop, item, 99.0, float(sold[day])))
    return pd.DataFrame(rows, columns=["date", "shop_id", "item_id", "item_price", "item_cnt_day"])


def test_sales_nested_lstm_example_reports_model_and_baseline(tmp_path):
    _daily_sales().to_csv(tmp_path / "sales.csv", index=False)
    completed = _run("sales_nested_lstm.py", tmp_path / "sales.csv", "--window", "6", "--units", "8",
                     "--epochs", "3")
    assert completed.returncode == 0, completed.stderr[-3000:]
    lines = completed.stdout.splitlines()
    model_rmse = float(lines[1].split(":")[1])
    baseline_rmse = float(lines[2].split(":")[1])
    assert np.isfinite(model_rmse) and np.isfinite(baseline_rmse) and model_rmse < 20


def test_sales_example_names_missing_columns(tmp_path):
    _daily_sales().drop(columns="item_cnt_day").to_csv(tmp_path / "sales.csv", index=False)
    completed = _run("sales_nested_lstm.py", tmp_path / "sales.csv")
    assert completed.returncode == 2 and "lacks column(s) ['item_cnt_day']" in completed.stderr


@pytest.mark.slow
def test_mmoe_census_example_on_a_small_census_format_file(tmp_path):
    from kerasts.data.census import CENSUS_COLUMNS, CENSUS_NUMERIC

    rng = np.random.default_rng(0)
    rows = 400
    table = pd.DataFrame({column: rng.choice(["a", "b", "NA"], rows) for column in CENSUS_COLUMNS})
    for column in CENSUS_NUMERIC + ["instance_weight"]:
        table[column] = rng.integers(0, 90, rows)
    table["income_50k"] = np.where(table["age"] > 60, "50000+.", "- 50000.")
    table["marital_stat"] = np.where(table["age"] < 30, "Never married", "Married-civilian spouse present")
    table.to_csv(tmp_path / "census.test.gz", header=False, index=False, sep=",")
    completed = _run("mmoe_census.py", tmp_path / "census.test.gz", "--epochs", "2")
    assert completed.returncode == 0, completed.stderr[-3000:]
    for name in ("shared-bottom", "MMoE"):
        line = next(row for row in completed.stdout.splitlines() if row.startswith(f"| {name} |"))
        income_auc, single_auc = (float(cell) for cell in line.strip("| ").split(" | ")[2:])
        assert 0.0 <= income_auc <= 1.0 and 0.0 <= single_auc <= 1.0


def test_random_search_daily_cases_example_on_a_small_csv(tmp_path):
    days = pd.date_range("2021-01-01", periods=90, freq="D")
    counts = 100 + 50 * np.sin(np.arange(90) / 7) + np.arange(90)
    pd.DataFrame({"date": days, "cases": counts}).to_csv(tmp_path / "cases.csv", index=False)
    completed = _run("random_search_daily_cases.py", tmp_path / "cases.csv", "--cutoff", "2021-03-15", "--trials", "2",
                     "--epochs", "2", "--cell", "nested_lstm", "--plot", tmp_path / "plot.png",
                     "--directory", tmp_path / "tuning")
    assert completed.returncode == 0, completed.stderr[-3000:]
    line = next(row for row in completed.stdout.splitlines() if row.startswith("best n_a"))
    n_a, n_x = int(line.split("n_a = ")[1].split(",")[0]), int(line.split("n_x = ")[1].split()[0])
    assert 16 <= n_a <= 128 and 5 <= n_x <= 25 and "(nested_lstm)" in line
    assert (tmp_path / "plot.png").stat().st_size > 5_000
