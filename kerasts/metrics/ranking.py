"""Ranking metrics over full-catalog recommendations, with Amazon Personalize's definitions.

`recommended` holds, per user, the ranked item ids (best first; a 2-D array or a list of
sequences); `relevant` holds, per user, the ids that count as hits (any iterable). Metrics
are averaged over users; a user with nothing relevant still counts (as 0 for every metric
but precision, which counts their misses too), as Personalize scores every test user.
"""

import numpy as np

from kerasts._checks import check_positive_int


def _hits(recommended, relevant, k):
    """(users, k) bool matrix: is the item at each position relevant; and the relevant counts."""
    check_positive_int("k", k)
    if len(recommended) != len(relevant):
        raise ValueError(
            f"`recommended` has {len(recommended)} users but `relevant` has {len(relevant)}: one entry per user."
        )
    hits = np.zeros((len(recommended), k), dtype=bool)
    counts = np.zeros(len(recommended))
    for user, (ranked, wanted) in enumerate(zip(recommended, relevant)):
        ranked = list(ranked)[:k]
        if len(set(ranked)) != len(ranked):
            raise ValueError(f"User {user}'s recommendations repeat an item: each item may appear once.")
        wanted = set(wanted)
        hits[user, :len(ranked)] = [item in wanted for item in ranked]
        counts[user] = len(wanted)
    return hits, counts


def precision_at_k(recommended, relevant, k):
    """Relevant items among the top k, divided by k."""
    hits, _ = _hits(recommended, relevant, k)
    return float(hits.sum(axis=1).mean() / k)


def recall_at_k(recommended, relevant, k):
    """Relevant items among the top k, divided by the number of relevant items (0 when none)."""
    hits, counts = _hits(recommended, relevant, k)
    return float(np.mean(np.divide(hits.sum(axis=1), counts, out=np.zeros_like(counts), where=counts > 0)))


def hit_rate_at_k(recommended, relevant, k):
    """Share of users with at least one relevant item in the top k."""
    hits, _ = _hits(recommended, relevant, k)
    return float(hits.any(axis=1).mean())


def mean_reciprocal_rank_at_k(recommended, relevant, k):
    """Mean of 1 / (position of the first relevant item), 0 when none is in the top k."""
    hits, _ = _hits(recommended, relevant, k)
    first = hits.argmax(axis=1) + 1.0
    return float(np.mean(np.where(hits.any(axis=1), 1.0 / first, 0.0)))


def ndcg_at_k(recommended, relevant, k):
    """Normalised discounted cumulative gain with Personalize's weight 1 / log(1 + position).

    The ideal ranking puts min(k, |relevant|) relevant items first; a user with nothing
    relevant scores 0.
    """
    hits, counts = _hits(recommended, relevant, k)
    weights = 1.0 / np.log2(np.arange(2, k + 2))
    gains = (hits * weights).sum(axis=1)
    ideal = np.cumsum(weights)[np.minimum(counts, k).astype(int) - 1]
    return float(np.mean(np.where(counts > 0, gains / np.where(counts > 0, ideal, 1.0), 0.0)))


def catalog_coverage(recommended, catalog_size):
    """Distinct recommended items divided by the number of items in the catalog."""
    check_positive_int("catalog_size", catalog_size)
    distinct = set()
    for ranked in recommended:
        distinct.update(ranked)
    return len(distinct) / catalog_size


def ranking_metrics(recommended, relevant, ks=(5, 10, 25), catalog_size=None):
    """Every ranking metric at each k, named as Amazon Personalize reports them.

    Returns:
        A dict with `precision_at_{k}`, `recall_at_{k}`, `hit_rate_at_{k}`,
        `mean_reciprocal_rank_at_{k}`, `normalized_discounted_cumulative_gain_at_{k}` for each
        k, and `coverage` when `catalog_size` is given.
    """
    results = {}
    for k in ks:
        results[f"precision_at_{k}"] = precision_at_k(recommended, relevant, k)
        results[f"recall_at_{k}"] = recall_at_k(recommended, relevant, k)
        results[f"hit_rate_at_{k}"] = hit_rate_at_k(recommended, relevant, k)
        results[f"mean_reciprocal_rank_at_{k}"] = mean_reciprocal_rank_at_k(recommended, relevant, k)
        results[f"normalized_discounted_cumulative_gain_at_{k}"] = ndcg_at_k(recommended, relevant, k)
    if catalog_size is not None:
        results["coverage"] = catalog_coverage(recommended, catalog_size)
    return results


def single_target_metrics(ranks, ks=(5, 20)):
    """`ranking_metrics`' names and values when each query has one relevant item at `ranks` (1-based,
    `inf` where it is missing), as next-item evaluation scores a session's next event: precision,
    recall, hit rate, MRR and NDCG at each k. Computed from the ranks rather than from lists, for
    the thousands of targets a session split has; a test checks both agree."""
    ranks = np.asarray(ranks, dtype="float64")
    results = {}
    for k in ks:
        check_positive_int("k", k)
        hit = ranks <= k
        mean = (lambda values: float(values.mean())) if ranks.size else (lambda values: 0.0)
        results[f"precision_at_{k}"] = mean(hit / k)
        results[f"recall_at_{k}"] = mean(hit.astype(float))
        results[f"hit_rate_at_{k}"] = mean(hit.astype(float))
        results[f"mean_reciprocal_rank_at_{k}"] = mean(np.where(hit, 1.0 / ranks, 0.0))
        results[f"normalized_discounted_cumulative_gain_at_{k}"] = mean(
            np.where(hit, 1.0 / np.log2(1.0 + np.minimum(ranks, k)), 0.0))
    return results
