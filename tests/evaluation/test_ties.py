"""The two forms of the tie rules agree: keys that sort a list, and counted ranks of one target a row."""

import numpy as np
import pytest

from kerasts.evaluation.ties import target_ranks, tie_keys


@pytest.mark.parametrize("ties", ["conservative", "optimistic", "served"])
@pytest.mark.parametrize("own_order", [False, True])
def test_counted_ranks_are_the_positions_in_lists_sorted_by_the_keys(ties, own_order):
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 4, size=(50, 12)).astype("float64")  # few distinct scores: many ties
    targets = rng.integers(0, 12, size=50)
    model_order = rng.permutation(12) if own_order else None
    relevant = np.zeros(scores.shape, dtype=bool)
    relevant[np.arange(50), targets] = True
    keys = tie_keys(ties, relevant, model_order)
    order = np.lexsort((keys, -scores), axis=-1)
    positions = np.argmax(order == targets[:, None], axis=1) + 1
    np.testing.assert_array_equal(target_ranks(scores, targets, ties, model_order), positions)


def test_conservative_and_optimistic_bound_the_served_rank():
    scores = np.array([[1.0, 1.0, 1.0, 2.0]])
    assert [int(target_ranks(scores, np.array([1]), ties)[0]) for ties in ("optimistic", "served", "conservative")] \
        == [2, 3, 4]
