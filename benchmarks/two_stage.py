"""The two-stage pipeline (two-tower and Swing candidates, MMoE ranker) on MovieLens-latest-small, against the
two-tower alone, Swing alone and the candidates' own order (#27).

    .venv/bin/python benchmarks/two_stage.py [--data PATH] [--seeds 42 43 44] [--candidates 100]

Protocol: `benchmarks/movielens.py` (protocol B, Personalize's split: 10% of users held out with the seed,
their oldest 90% of events the input, the rest the truth, the catalog ranked without the input). Each
method is fitted on the training users' events. The pipeline (`TwoStageRecommender`): each generator
proposes `--candidates` items; the ranker (MMoE, 4 experts of 32, towers of 16, 5 epochs) learns "the user
rates it" and "the user rates it 4 or more" from pairs of each training user's older 80% of events and
newer 20%; lists rank by the sum of the two probabilities ("blend"), or by the first alone ("interacts
only"). "Candidates' own order": the same candidates by their better rank in either generator, ties by the
two-tower's score: what the ranker is measured against. The two-tower alone is the pipeline's generator
(32 dimensions, 8 epochs, batch 256, GENRES read) trained on every training event. Latency: one user's full
pipeline (`recommend(user_id=..., k=10)`, both generators, the features and the ranker), median and p99 of
200 users after a warm-up, in one process on this machine.
"""

import argparse
import statistics
import time

import kerasts  # noqa: F401 - first, to silence TensorFlow's start-up logging

import numpy as np  # noqa: E402

from kerasts.baselines import Swing  # noqa: E402
from kerasts.evaluation import evaluate_recommender  # noqa: E402
from kerasts.models import TwoStageRecommender, TwoTowerRecommender  # noqa: E402
from kerasts.protocols import Recommender  # noqa: E402

import movielens  # noqa: E402
from spread import mean_and_spread  # noqa: E402

SHOWN = ("recall_at_10", "normalized_discounted_cumulative_gain_at_10", "recall_at_25",
         "normalized_discounted_cumulative_gain_at_25", "mean_reciprocal_rank_at_25")
RETRIEVAL = {"embedding_dim": 32, "epochs": 8, "batch_size": 256, "item_features": ["GENRES"]}


class CandidateOrder(Recommender):
    """A fitted pipeline's candidates ranked by their better generator rank (no ranker)."""

    def __init__(self, pipeline):
        super().__init__()
        self.pipeline, self.items = pipeline, pipeline.items

    def score_items(self, contexts):
        scores = np.full((len(contexts), len(self.items)), -np.inf)
        for row, (chosen, features) in enumerate(self.pipeline.candidates(contexts)):
            best_rank = np.minimum(features["retrieval_rank"], features["swing_rank"])
            scores[row, chosen] = -best_rank + 1e-3 * features["retrieval_score"]  # cosine in [-1, 1]: ties only
        return scores


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=movielens.DEFAULT_DATA)
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 43, 44])
    parser.add_argument("--candidates", type=int, default=100)
    arguments = parser.parse_args()
    splits, items = movielens.splits_for(arguments.data, arguments.seeds)
    rows, latencies = {}, []
    for seed, split in zip(arguments.seeds, splits):
        train = split[0]
        pipeline = TwoStageRecommender(num_candidates=arguments.candidates, retrieval=RETRIEVAL, seed=seed)
        started = time.perf_counter()
        pipeline.fit(train, items)
        fitted = time.perf_counter() - started
        methods = {"two-tower alone": TwoTowerRecommender(**RETRIEVAL, seed=seed).fit(train, items),
                   "Swing alone": Swing().fit(train), "candidates' own order": CandidateOrder(pipeline),
                   "pipeline, blend": pipeline}
        for name, recommender in methods.items():
            rows.setdefault(name, []).append(evaluate_recommender(recommender, split, ks=(10, 25)))
        pipeline.task_weights = {"interacts": 1.0, "likes": 0.0}
        rows.setdefault("pipeline, interacts only", []).append(evaluate_recommender(pipeline, split, ks=(10, 25)))
        pipeline.task_weights = {"interacts": 1.0, "likes": 1.0}
        users = sorted(train["USER_ID"].unique())[:220]
        timings = []
        for user in users:
            started = time.perf_counter()
            pipeline.recommend(user_id=user, k=10)
            timings.append(time.perf_counter() - started)
        latencies += timings[20:]
        print(f"seed {seed}: pipeline fit {fitted:.0f} s; " + "; ".join(
            f"{name} NDCG@10 {figures[-1]['normalized_discounted_cumulative_gain_at_10']:.4f}"
            for name, figures in rows.items()), flush=True)
    print("\n| method | " + " | ".join(SHOWN) + " |")
    print("|---" * (len(SHOWN) + 1) + "|")
    for name, figures in rows.items():
        print(f"| {name} | " + " | ".join(mean_and_spread([row[metric] for row in figures], standard_error=True)
                                          for metric in SHOWN) + " |")
    print(f"\nOne user's full pipeline: p50 {1000 * statistics.median(latencies):.1f} ms, p99 "
          f"{1000 * np.percentile(latencies, 99):.1f} ms ({len(latencies)} requests)")


if __name__ == "__main__":
    main()
