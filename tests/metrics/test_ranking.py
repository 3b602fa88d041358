import math

import numpy as np
import pytest

from kerasts.metrics import ranking


def test_personalize_ndcg_example():
    # Relevant items at positions 2 and 5 of a top 5.
    recommended = [["a", "hit1", "b", "c", "hit2"]]
    assert ranking.ndcg_at_k(recommended, [{"hit1", "hit2"}], 5) == pytest.approx(0.6241, abs=1e-4)


def test_hand_computed_metrics_over_two_users():
    recommended = np.array([[1, 2, 3, 4], [5, 6, 7, 8]])
    relevant = [{2, 4, 9}, {10}]
    # User 0: hits at positions 2 and 4 of 4; user 1: none.
    assert ranking.precision_at_k(recommended, relevant, 4) == pytest.approx((2 / 4 + 0) / 2)
    assert ranking.recall_at_k(recommended, relevant, 4) == pytest.approx((2 / 3 + 0) / 2)
    assert ranking.hit_rate_at_k(recommended, relevant, 4) == pytest.approx(0.5)
    assert ranking.mean_reciprocal_rank_at_k(recommended, relevant, 4) == pytest.approx((1 / 2 + 0) / 2)
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    ideal = 1 + 1 / math.log2(3) + 1 / math.log2(4)  # three relevant items fit in the top 4
    assert ranking.ndcg_at_k(recommended, relevant, 4) == pytest.approx((dcg / ideal + 0) / 2)
    assert ranking.mean_reciprocal_rank_at_k(recommended, relevant, 1) == 0.0


def test_perfect_ranking_scores_one_and_coverage_counts_distinct_items():
    recommended = [[1, 2], [1, 3]]
    relevant = [{1, 2}, {1, 3}]
    assert ranking.ndcg_at_k(recommended, relevant, 2) == pytest.approx(1.0)
    assert ranking.catalog_coverage(recommended, 10) == pytest.approx(0.3)


def test_personalize_names():
    scores = ranking.ranking_metrics([[1, 2, 3]], [{3}], ks=(1, 3), catalog_size=6)
    assert scores["precision_at_3"] == pytest.approx(1 / 3)
    assert scores["mean_reciprocal_rank_at_3"] == pytest.approx(1 / 3)
    assert scores["normalized_discounted_cumulative_gain_at_3"] == pytest.approx(0.5)
    assert scores["hit_rate_at_1"] == 0.0 and scores["coverage"] == pytest.approx(0.5)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: ranking.precision_at_k([[1]], [{1}, {2}], 1), "1 users but `relevant` has 2"),
        (lambda: ranking.ndcg_at_k([[1, 1]], [{1}], 2), "repeat an item"),
        (lambda: ranking.recall_at_k([[1]], [{1}], 0), "`k` must be a positive integer"),
        (lambda: ranking.catalog_coverage([[1]], 0), "`catalog_size` must be a positive integer"),
    ],
)
def test_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("name", ["precision", "recall", "mrr", "ndcg"])
def test_keras_rs_metrics_for_fit_agree_with_the_personalize_evaluators(name):
    # During fit, kerasts uses keras-rs's metrics: on binary relevance they share our definitions.
    import keras_rs

    keras_metric, evaluator = {
        "precision": (keras_rs.metrics.PrecisionAtK, ranking.precision_at_k),
        "recall": (keras_rs.metrics.RecallAtK, ranking.recall_at_k),
        "mrr": (keras_rs.metrics.MeanReciprocalRank, ranking.mean_reciprocal_rank_at_k),
        "ndcg": (keras_rs.metrics.NDCG, ranking.ndcg_at_k),
    }[name]
    rng = np.random.default_rng(7)
    labels = (rng.random((8, 15)) < 0.25).astype("float32")
    labels[0] = 0.0  # a user with nothing relevant counts as 0 in both
    scores = rng.random((8, 15)).astype("float32")
    metric = keras_metric(k=5)
    metric.update_state(labels, scores)
    ranked = np.argsort(-scores, axis=1)
    relevant = [set(np.flatnonzero(row)) for row in labels]
    assert float(metric.result()) == pytest.approx(evaluator(ranked, relevant, 5), abs=1e-6)


def test_single_target_metrics_equal_the_list_metrics_with_one_relevant_item():
    rng = np.random.default_rng(0)
    lists = [list(rng.permutation(30)[:25]) for _ in range(40)]
    targets = [int(rng.integers(0, 30)) for _ in range(40)]
    ranks = [ranked.index(target) + 1 if target in ranked else np.inf for ranked, target in zip(lists, targets)]
    from_lists = ranking.ranking_metrics(lists, [{target} for target in targets], ks=(1, 5, 20))
    from_ranks = ranking.single_target_metrics(ranks, ks=(1, 5, 20))
    assert from_ranks.keys() == from_lists.keys()
    for name, value in from_lists.items():
        assert from_ranks[name] == pytest.approx(value), name
