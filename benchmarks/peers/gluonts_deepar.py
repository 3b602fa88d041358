"""GluonTS (torch) DeepAR on the electricity protocol; runs in the peer environment, prints one JSON line.

Called by benchmarks/deepar.py --peer gluonts; not importable from kerasts' environment.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import electricity  # noqa: E402
import lightning.pytorch as pl  # noqa: E402
from gluonts.dataset.common import ListDataset  # noqa: E402
from gluonts.evaluation import Evaluator, make_evaluation_predictions  # noqa: E402
from gluonts.torch.model.deepar import DeepAREstimator  # noqa: E402


class EpochTimer(pl.Callback):
    def __init__(self):
        self.seconds = []

    def on_train_epoch_start(self, trainer, module):
        self.started = time.perf_counter()

    def on_train_epoch_end(self, trainer, module):
        self.seconds.append(time.perf_counter() - self.started)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=electricity.DEFAULT_DATA)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, help="torch's intra-op threads (default: torch's choice)")
    arguments = parser.parse_args()
    if arguments.threads:
        torch.set_num_threads(arguments.threads)
    pl.seed_everything(arguments.seed, verbose=False)
    values = electricity.load_values(arguments.data)
    origins = electricity.test_origins(values.shape[1])
    train = ListDataset([{"target": row[:origins[0]], "start": electricity.START} for row in values], freq="h")
    test = ListDataset([{"target": row[:origin + electricity.PREDICTION_LENGTH], "start": electricity.START}
                        for row in values for origin in origins], freq="h")
    timer = EpochTimer()
    checkpoint_dir = tempfile.TemporaryDirectory()
    estimator = DeepAREstimator(
        freq="h", prediction_length=electricity.PREDICTION_LENGTH, context_length=electricity.CONTEXT_LENGTH,
        num_layers=2, hidden_size=40, dropout_rate=0.1, batch_size=32, num_batches_per_epoch=50,
        trainer_kwargs={"max_epochs": arguments.epochs, "enable_progress_bar": False, "logger": False,
                        "enable_model_summary": False, "callbacks": [timer],
                        # GluonTS's checkpoint callback would otherwise write into the working directory.
                        "default_root_dir": checkpoint_dir.name},
    )
    predictor = estimator.train(train)
    windows_per_second = statistics.median(50 * 32 / s for s in timer.seconds[1:] or timer.seconds)

    def predict():
        forecasts, series = make_evaluation_predictions(dataset=test, predictor=predictor, num_samples=100)
        return list(forecasts), list(series)

    predict()  # warm-up
    seconds = []
    for _ in range(3):
        started = time.perf_counter()
        forecasts, series = predict()
        seconds.append(time.perf_counter() - started)
    samples = np.stack([forecast.samples for forecast in forecasts], axis=1)  # (paths, windows, horizon)
    actuals = np.stack([np.asarray(s).reshape(-1)[-electricity.PREDICTION_LENGTH:] for s in series])
    # The same pooled metric code as the kerasts side would import kerasts; compute them here in numpy.
    quantiles = np.quantile(samples, electricity.QUANTILES, axis=0)
    denominator = np.abs(actuals).sum()
    wql = [2 * np.sum(np.abs((q - actuals) * ((actuals <= q) - level))) / denominator
           for level, q in zip(electricity.QUANTILES, quantiles)]
    median = np.quantile(samples, 0.5, axis=0)
    totals, sample_totals = actuals.sum(axis=1), samples.sum(axis=2)
    rho = {}
    for level in (0.5, 0.9):
        predicted = np.quantile(sample_totals, level, axis=0)
        rho[f"rho_risk_{level}"] = float(2 * np.sum(np.abs((predicted - totals) * ((totals < predicted) - level)))
                                         / np.abs(totals).sum())
    evaluator_nd = Evaluator(quantiles=electricity.QUANTILES)(iter(series), iter(forecasts))[0]["ND"]
    print(json.dumps({
        "windows/s": windows_per_second, "forecast s": statistics.median(seconds),
        "ND": float(np.abs(median - actuals).sum() / denominator), "mean_wQL": float(np.mean(wql)), **rho,
        "peak RSS MB": electricity.peak_rss_mb(),
        "ND (GluonTS Evaluator)": float(evaluator_nd),
    }))


if __name__ == "__main__":
    main()
