"""The peer of `benchmarks/hrnn.py --split time`: the official GRU4Rec (PyTorch, github.com/hidasib/
GRU4Rec_PyTorch_Official), trained and scored by its own code on the split hrnn.py wrote, in the peers'
environment (`.venv-peers`, CPU torch 2.13.0).

    .venv-peers/bin/python benchmarks/peers/gru4rec_official.py --gru4rec-path DIR --split DIR [--seed 0]
        [--params JSON]

The official code is not on PyPI and its license is not ours to ship: `--gru4rec-path` is a local checkout
(its `gru4rec_pytorch.py` and `evaluation.py` are imported from there). `--split` holds train.tsv and
test.tsv (SessionId, ItemId, Time), each session's events in the order kerasts reads them (already sorted,
so GRU4Rec keeps that order). `--params` is GRU4Rec's parameters as JSON; the default is its published best
BPR-max setting with 224 units (`paramfiles/retailrocket_bprmax_shared_best.py`, BENCHMARK-TARGETS' "BPR-max,
224 units"), weights drawn by torch from `--seed`. Writes DIR/gru4rec.json: training events per second (input-target pairs of the training
sessions over the median epoch after the first, as hrnn.py counts kerasts'), the seconds its `batch_eval`
takes to score every test target (the second call), and recall and MRR at 5 and 20 from `batch_eval`
(ties against the target: its `conservative` mode).
"""

import argparse
import contextlib
import io
import json
import os
import re
import statistics
import sys
import time

import numpy as np
import pandas as pd
import torch

BEST_BPR_MAX_224 = {"loss": "bpr-max", "constrained_embedding": True, "embedding": 0, "elu_param": 0.5,
                    "layers": [224], "n_epochs": 10, "batch_size": 80, "dropout_p_embed": 0.5,
                    "dropout_p_hidden": 0.05, "learning_rate": 0.05, "momentum": 0.4, "n_sample": 2048,
                    "sample_alpha": 0.4, "bpreg": 1.95, "logq": 0.0}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gru4rec-path", required=True, help="a checkout of GRU4Rec_PyTorch_Official")
    parser.add_argument("--split", required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--params", type=json.loads, default=BEST_BPR_MAX_224)
    args = parser.parse_args()
    sys.path.insert(0, args.gru4rec_path)
    from evaluation import batch_eval
    from gru4rec_pytorch import GRU4Rec

    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    train = pd.read_csv(os.path.join(args.split, "train.tsv"), sep="\t")
    test = pd.read_csv(os.path.join(args.split, "test.tsv"), sep="\t")
    model = GRU4Rec(device=torch.device("cpu"), **args.params)
    log = io.StringIO()
    with contextlib.redirect_stdout(log):
        # Its compatibility mode (the default) draws weights in numpy and breaks under NumPy 2 (float32 times
        # numpy's float64 sigma is float64 there); off, the same uniform ranges are drawn by torch, seeded.
        model.fit(train, compatibility_mode=False)
    epoch_seconds = [float(seconds) for seconds in re.findall(r"\((\d+\.\d+)s\)", log.getvalue())]
    if len(epoch_seconds) != args.params["n_epochs"]:
        raise SystemExit(f"GRU4Rec did not finish its epochs:\n{log.getvalue()[-3000:]}")
    pairs = len(train) - train["SessionId"].nunique()

    # batch_eval runs 512 sessions in parallel by default and fails on fewer (MovieLens' time split has 304).
    parallel = min(512, test["SessionId"].nunique())

    def evaluate():
        with contextlib.redirect_stdout(io.StringIO()):
            return batch_eval(model, test, cutoff=[5, 20], batch_size=parallel, mode="conservative")

    evaluate()  # the first call warms torch's kernels, as hrnn.py's first call traces kerasts'
    start = time.perf_counter()
    recall, mrr = evaluate()
    result = {"events_per_second": pairs / statistics.median(epoch_seconds[1:] or epoch_seconds),
              "evaluation_seconds": time.perf_counter() - start,
              **{f"recall_at_{k}": float(recall[k]) for k in (5, 20)},
              **{f"mean_reciprocal_rank_at_{k}": float(mrr[k]) for k in (5, 20)}}
    with open(os.path.join(args.split, "gru4rec.json"), "w") as handle:
        json.dump(result, handle)


if __name__ == "__main__":
    main()
