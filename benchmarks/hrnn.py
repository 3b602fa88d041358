"""HRNN (init and all), session-only GRU4Rec and co-occurrence baselines on MovieLens-latest-small
sessions, with the HRNN paper's protocol or GRU4Rec's.

    .venv/bin/python benchmarks/hrnn.py [--data PATH] [--split last-session|time] [--epochs 20] [--gap-hours 1]
        [--learning-rate 3e-3] [--num-slots 32] [--steps 10] [--loss cross_entropy|sampled|bpr_max|top1_max] [--loss-options JSON] [--units 100]
        [--embedding-dim 64] [--user-units 32] [--dropout 0.25] [--hidden-dropout 0.5] [--user-dropout 0.75]
        [--user-to-output] [--no-tie-embeddings] [--item-features GENRES] [--ties conservative|optimistic|served]
        [--seeds 0]
        [--validation] [--exclude-seen] [--diagnose] [--only NAME ...] [--peer gru4rec --gru4rec-path DIR]

The defaults are the setting chosen on validation sessions (RESULTS.md, "Dropout on the session GRU's
output"): what a user should copy.
Ratings sessionized per user by an inactivity gap (`--gap-hours`, one hour by default); items with
fewer than 5 events and sessions shorter than 2 dropped (repeated until stable). `--split last-session`
(HRNN's protocol, the default): users with fewer than 2 sessions dropped too, each user's last session
is the test session, the earlier ones train and are replayed to warm the user state. `--split time`
(GRU4Rec's, ../shared/BENCHMARK-TARGETS.md): the sessions that start after the 90th percentile of
session start times are the test sessions, the earlier ones train; a user's earlier test sessions warm
their user state for the later ones. Test events on items unseen in training are dropped, then test
sessions left shorter than 2. Every next event of a test session is a target; recall and MRR at 5 and
20 over the full catalog, every tie counting against the target (`--ties conservative`, as GRU4Rec's
published figures).
Training: `--num-slots` (32) sessions side by side x `--steps` (10) events a batch, `--units` (100;
`--user-units` for HRNN's user GRU), `--embedding-dim` (64) item embeddings, `--dropout` and `--hidden-dropout` on the session GRU's input and output
(`--user-dropout` on HRNN's user state), Adam (`--learning-rate`), `--loss` (full-catalog cross-entropy,
in-batch + 256 sampled negatives with log-Q, BPR-max or TOP1-max over in-batch + 2,048 shared negatives;
`--loss bpr_max --no-tie-embeddings` is the setting chosen on GRU4Rec's protocol, RESULTS.md;
`--loss-options` the loss's own settings); throughput is training events per second over the epochs after
the first, and evaluation the seconds `evaluate_next_items` takes to score every target of the test
sessions (HRNN's replay of each user's history included; the second call, after the first has traced the
network's functions). With several `--seeds` the recurrent models' metrics are means over seeds (± standard error).
`--item-features GENRES` makes the recurrent models HRNN-metadata (they also read each film's genres).
`--validation` tunes without touching the test sessions: they are dropped and the split is made again
within training. `--exclude-seen` ranks, for every method, only items the user has not interacted with
yet (MovieLens users rate a film once, so those are never the target). `--only` runs just the named
methods.
`--diagnose` adds R@20 by how many events of the session were read and by how many training sessions its
user had, HRNN with its user state warmed by the training history only and from zero, and every method on
the last training session of each user (which it was fit on).
`--peer gru4rec` also runs the official GRU4Rec on each seed's split, beside kerasts in the same run
(`benchmarks/peers/gru4rec_official.py` in `.venv-peers`, see requirements-peers.txt; `--gru4rec-path` a local
checkout of github.com/hidasib/GRU4Rec_PyTorch_Official): its published best BPR-max setting with 224 units,
trained and scored by its own code (`batch_eval`, conservative ties) on the same training and test sessions.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import tempfile
import time

import kerasts  # noqa: F401 - first, to silence TensorFlow's start-up logging

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from kerasts.baselines import SIMS, Popularity  # noqa: E402
from kerasts.data import (filter_interactions, leave_last_session_out, load_movielens, sessionize,  # noqa: E402
                          split_sessions_by_start)
from kerasts.evaluation import evaluate_next_items  # noqa: E402
from kerasts.models import SessionRecommender  # noqa: E402

import movielens  # noqa: E402
from spread import mean_and_spread  # noqa: E402

KS = (5, 20)
POSITIONS = (1, 2, 4, 8, 16)  # buckets of events read in the evaluated session, shown by --diagnose
# Buckets of the user's training sessions, shown by --diagnose: does the user state help those it knows best?
EARLIER_SESSIONS = {"0": (0, 0), "1-2": (1, 2), "3-9": (3, 9), "10+": (10, float("inf"))}


class EpochTimer(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds = getattr(self, "seconds", []) + [time.perf_counter() - self.start]


SPLITS = {"last-session": lambda sessions: leave_last_session_out(sessions, known_items_only=True),
          "time": lambda sessions: split_sessions_by_start(sessions, test_share=0.1, known_items_only=True)}


def protocol(path, gap_hours, split="last-session", validation=False):
    interactions, items = load_movielens(path)
    sessions = filter_interactions(sessionize(interactions, gap_seconds=gap_hours * 3600), min_item_support=5,
                                   min_session_length=2, min_sessions_per_user=2 if split == "last-session" else 1)
    train, test = SPLITS[split](sessions)
    if validation:
        train, test = SPLITS[split](train)
    return train, test, items


PEERS = os.path.join(os.path.dirname(__file__), "peers")


def run_gru4rec(train, test, seed, gru4rec_path, python):
    """The official GRU4Rec on the same split: `(figures as evaluate_next_items names them, with "seconds";
    training events/s)`. Sessions keep kerasts' order of events (the files are written sorted)."""
    with tempfile.TemporaryDirectory() as directory:
        sessions = pd.factorize(pd.concat([train["SESSION_ID"], test["SESSION_ID"]]))[0]
        for name, table, codes in (("train", train, sessions[:len(train)]), ("test", test, sessions[len(train):])):
            pd.DataFrame({"SessionId": codes, "ItemId": table["ITEM_ID"].to_numpy(),
                          "Time": table["TIMESTAMP"].to_numpy()}).to_csv(os.path.join(directory, f"{name}.tsv"),
                                                                         sep="\t", index=False)
        completed = subprocess.run([python, os.path.join(PEERS, "gru4rec_official.py"), "--gru4rec-path",
                                    gru4rec_path, "--split", directory, "--seed", str(seed)], timeout=3600,
                                   capture_output=True, text=True)
        if completed.returncode:
            raise SystemExit(f"The GRU4Rec peer failed:\n{completed.stderr[-3000:]}")
        with open(os.path.join(directory, "gru4rec.json")) as handle:
            peer = json.load(handle)
    return {**peer, "seconds": peer.pop("evaluation_seconds")}, peer.pop("events_per_second")


def train_hrnn(train, items, args, seed, **settings):
    timer = EpochTimer()
    recommender = SessionRecommender(epochs=args.epochs, learning_rate=args.learning_rate, loss=args.loss,
                                     loss_options=args.loss_options,
                                     num_slots=args.num_slots, steps=args.steps, seed=seed, units=args.units,
                                     embedding_dim=args.embedding_dim, dropout=args.dropout,
                                     hidden_dropout=args.hidden_dropout, tie_embeddings=args.tie_embeddings,
                                     item_features=args.item_features or (),
                                     **settings).fit(train, items, callbacks=[timer])
    return recommender, recommender.training_events / statistics.median(timer.seconds[1:] or timer.seconds)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=movielens.DEFAULT_DATA)
    parser.add_argument("--split", default="last-session", choices=list(SPLITS))
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--gap-hours", type=float, default=1)
    parser.add_argument("--learning-rate", type=float, default=3e-3)
    parser.add_argument("--loss", default="cross_entropy", choices=["cross_entropy", "sampled", "bpr_max", "top1_max"])
    parser.add_argument("--loss-options", type=json.loads, default={},
                        help='the loss\'s settings as JSON, e.g. \'{"regularization": 1.95, "alpha": 0.4}\'')
    parser.add_argument("--num-slots", type=int, default=32, help="sessions trained side by side (the batch)")
    parser.add_argument("--steps", type=int, default=10, help="events per slot in a batch (back-propagation "
                        "through time over them; 1: one update per event, GRU4Rec's own training)")
    parser.add_argument("--units", type=int, default=100)
    parser.add_argument("--embedding-dim", type=int, default=64)
    parser.add_argument("--dropout", type=float, default=0.25, help="dropout on the session GRU's input")
    parser.add_argument("--hidden-dropout", type=float, default=0.5, help="dropout on the session GRU's output")
    parser.add_argument("--user-units", type=int, default=32, help="HRNN's user GRU size")
    parser.add_argument("--user-dropout", type=float, default=0.75, help="HRNN's dropout on the user state")
    parser.add_argument("--user-to-output", action="store_true", help="HRNN also feeds the user state to the output")
    parser.add_argument("--tie-embeddings", action=argparse.BooleanOptionalAction, default=True,
                        help="score with the input item embeddings")
    parser.add_argument("--item-features", nargs="+", help="HRNN-metadata: the recurrent models also read these "
                        "columns of movies.csv (GENRES)")
    parser.add_argument("--ties", default="conservative", choices=["conservative", "optimistic", "served"],
                        help="where a target ranks among items scored the same")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--validation", action="store_true")
    parser.add_argument("--exclude-seen", action="store_true", help="rank only items the user has not had yet")
    parser.add_argument("--diagnose", action="store_true",
                        help="also R@20 by position in the session, HRNN from a zero user state, and on "
                             "each user's last training session")
    parser.add_argument("--only", nargs="+", help="methods to run (default: all)",
                        choices=["HRNN-init", "HRNN-all", "GRU4Rec", "popularity", "SIMS", "item-kNN"])
    parser.add_argument("--peer", choices=["gru4rec"], help="also run the official GRU4Rec on the same splits")
    parser.add_argument("--gru4rec-path", help="a local checkout of GRU4Rec_PyTorch_Official (for --peer gru4rec)")
    parser.add_argument("--peer-python", default=os.path.join(os.path.dirname(__file__), "..", ".venv-peers", "bin",
                                                              "python"), help="the peers' environment's python")
    args = parser.parse_args()
    if args.peer and not args.gru4rec_path:
        parser.error("--peer gru4rec needs --gru4rec-path, a local checkout of GRU4Rec_PyTorch_Official")
    train, test, items = protocol(args.data, args.gap_hours, args.split, args.validation)
    evaluated = "validation" if args.validation else "test"
    print(f"{platform.machine()}: {len(train):,} training events in {train['SESSION_ID'].nunique():,} sessions, "
          f"{test['SESSION_ID'].nunique()} {evaluated} sessions, {train['ITEM_ID'].nunique():,} items; "
          f"{args.epochs} epochs; {args.split} split, ties {args.ties}\n")
    print("| method | train events/s | evaluation s | R@5 | MRR@5 | R@20 | MRR@20 |")
    print("|---|---|---|---|---|---|---|")

    def timed(evaluate):
        scores = evaluate(train, test)  # the first call also traces the network's functions
        start = time.perf_counter()
        evaluate(train, test)
        return {**scores, "seconds": time.perf_counter() - start}

    def row(name, runs, speed="—"):
        cells = [mean_and_spread((run[f"{metric}_at_{k}"] for run in runs), True) if len(runs) > 1
                 else f"{runs[0][f'{metric}_at_{k}']:.3f}"
                 for k in KS for metric in ("recall", "mean_reciprocal_rank")]
        seconds = statistics.median(run["seconds"] for run in runs)
        print(f"| {name} | {speed} | {seconds:.2f} | " + " | ".join(cells) + " |", flush=True)

    def wanted(name):
        return not args.only or name in args.only

    # --diagnose: the same methods on each user's last training session, which they were fit on.
    fit_history, fit_sessions = leave_last_session_out(train) if args.diagnose else (None, None)
    diagnosis = []

    earlier_sessions = test["USER_ID"].map(train.groupby("USER_ID")["SESSION_ID"].nunique()).fillna(0).to_numpy()

    def by_earlier_sessions(evaluate):
        """R@20 on the test sessions of users with each number of training sessions."""
        return {label: evaluate(train, test[(earlier_sessions >= low) & (earlier_sessions <= high)])["recall_at_20"]
                for label, (low, high) in EARLIER_SESSIONS.items()
                if ((earlier_sessions >= low) & (earlier_sessions <= high)).any()}

    def diagnose(name, evaluations, test_scores):
        """Keeps each seed's scores on the evaluated sessions and on the sessions fit, and by the users'
        earlier sessions, for the diagnosis. `evaluations`: per seed, `evaluate(history, sessions)`."""
        if args.diagnose:
            diagnosis.append((name, test_scores, [evaluate(fit_history, fit_sessions) for evaluate in evaluations],
                              [by_earlier_sessions(evaluate) for evaluate in evaluations]))

    personal = {"user_units": args.user_units, "user_to_output": args.user_to_output,
                "user_dropout": args.user_dropout}
    recurrent = (("HRNN-init", {"mode": "init", **personal}), ("HRNN-all", {"mode": "all", **personal}),
                 ("GRU4Rec", {"user_gru": False}))
    for name, settings in recurrent:
        if wanted(name):
            runs, speeds, evaluations = [], [], []
            for seed in args.seeds:
                recommender, speed = train_hrnn(train, items, args, seed, **settings)
                evaluations.append(lambda history, sessions, state="everything_before", recommender=recommender:
                                   evaluate_next_items(recommender, sessions, history, ks=KS,
                                                       position_buckets=POSITIONS, exclude_seen=args.exclude_seen,
                                                       ties=args.ties, user_state=state))
                runs.append(timed(evaluations[-1]))
                speeds.append(speed)
            row(name, runs, f"{statistics.median(speeds):,.0f}")
            diagnose(name, evaluations, runs)
            if args.diagnose and name != "GRU4Rec":
                states = (("train_history", "user state warmed by the training history only"),
                          ("zero", "user state not warmed")) if args.split == "time" else (
                          ("zero", "user state not warmed"),)  # one test session per user: nothing else before it
                for state, label in states:
                    other = [lambda history, sessions, evaluate=evaluate, state=state: evaluate(history, sessions, state)
                             for evaluate in evaluations]
                    diagnose(f"{name}, {label}", other, [evaluate(train, test) for evaluate in other])
    if args.peer == "gru4rec":
        runs, speeds = zip(*(run_gru4rec(train, test, seed, args.gru4rec_path, args.peer_python)
                             for seed in args.seeds))
        row("official GRU4Rec, BPR-max, 224 units (peer)", list(runs), f"{statistics.median(speeds):,.0f}")
    # Item-kNN is GRU4Rec's baseline: session co-occurrence, neighbours of the session's last item only.
    baselines = {"popularity": ("popularity", lambda: Popularity().fit(train), False),
                 "SIMS": ("SIMS (user histories, session so far)", lambda: SIMS().fit(train), False),
                 "item-kNN": ("item-kNN (sessions, last item)",
                              lambda: SIMS(min_cointeractions=1, user_column="SESSION_ID").fit(train), True)}
    for key, (name, fit, last_item_only) in baselines.items():
        if wanted(key):
            recommender = fit()

            def evaluate(history, sessions):  # baselines read only the session so far
                return evaluate_next_items(recommender, sessions, history, ks=KS, last_item_only=last_item_only,
                                           position_buckets=POSITIONS, exclude_seen=args.exclude_seen,
                                           ties=args.ties)

            scores = [timed(evaluate)]
            row(name, scores)
            diagnose(name, [evaluate], scores)
    if diagnosis:
        print_diagnosis(diagnosis, evaluated)
        print_by_earlier_sessions(diagnosis, evaluated, earlier_sessions, test)


def print_by_earlier_sessions(diagnosis, evaluated, earlier_sessions, test):
    """R@20 by how many training sessions the user of the evaluated session had (its targets in brackets)."""
    is_target = np.append(test["SESSION_ID"].to_numpy()[1:] == test["SESSION_ID"].to_numpy()[:-1], False)
    labels = list(diagnosis[0][3][0])
    counts = {label: int((is_target & (earlier_sessions >= low) & (earlier_sessions <= high)).sum())
              for label, (low, high) in EARLIER_SESSIONS.items() if label in labels}
    print(f"\nR@20 by the user's training sessions ({evaluated} targets; means over seeds)\n")
    print("| method | " + " | ".join(f"{label} ({counts[label]:,})" for label in labels) + " |")
    print("|---|" + "---|" * len(labels))
    for name, _, _, by_sessions in diagnosis:
        cells = [statistics.mean(run[label] for run in by_sessions) for label in labels]
        print(f"| {name} | " + " | ".join(f"{cell:.3f}" for cell in cells) + " |", flush=True)


def print_diagnosis(diagnosis, evaluated):
    """R@20 by how many events of the evaluated session were read, and on the sessions already fit."""
    labels = list(diagnosis[0][1][0]["by_position"])
    counts = [diagnosis[0][1][0]["by_position"][label]["targets"] for label in labels]
    print(f"\nR@20 by events of the {evaluated} session read (targets), and on each user's last training session "
          "(fit on; means over seeds)\n")
    print("| method | " + " | ".join(f"{label} ({count:,})" for label, count in zip(labels, counts))
          + f" | all {evaluated} | last training session |")
    print("|---|" + "---|" * (len(labels) + 2))
    for name, scores, fitted, _ in diagnosis:
        cells = [statistics.mean(run["by_position"][label]["recall_at_20"] for run in scores) for label in labels]
        cells += [statistics.mean(run["recall_at_20"] for run in scores),
                  statistics.mean(run["recall_at_20"] for run in fitted)]
        print(f"| {name} | " + " | ".join(f"{cell:.3f}" for cell in cells) + " |", flush=True)

if __name__ == "__main__":
    main()
