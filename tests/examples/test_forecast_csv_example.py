import pathlib
import subprocess
import sys

import kerasts

EXAMPLE = pathlib.Path(__file__).resolve().parents[2] / "examples" / "forecast_csv_with_likelihood_head.py"


def test_example_backtests_a_csv_in_forecast_layout(tmp_path):
    table = kerasts.data.synthetic_forecast_table(num_series=3, length=24 * 10, frequency="h", seed=2)
    table = table.rename(columns={"item_id": "sku", "target_value": "demand"})
    path = tmp_path / "sales.csv"
    table.to_csv(path, index=False)
    completed = subprocess.run(
        [sys.executable, str(EXAMPLE), str(path), "--item", "sku", "--target", "demand", "--context", "48",
         "--horizon", "12", "--windows", "2", "--epochs", "2", "--likelihood", "negative_binomial"],
        capture_output=True, text=True,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "likelihood-head MLP (negative_binomial)" in completed.stdout
    assert "seasonal naive (lag 24)" in completed.stdout


def test_example_names_missing_columns(tmp_path):
    path = tmp_path / "bad.csv"
    kerasts.data.synthetic_forecast_table(num_series=1, length=10).to_csv(path, index=False)
    completed = subprocess.run([sys.executable, str(EXAMPLE), str(path), "--target", "sales"],
                               capture_output=True, text=True)
    assert completed.returncode == 2 and "lacks column(s) ['sales']" in completed.stderr
