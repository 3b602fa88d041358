import numpy as np
import pandas as pd
import pytest

from kerasts.data import IdVocabulary, SessionParallelBatches, sessionize, validate_interactions


def _sessions():
    # u1: session A (a b c), session B (d e); u2: session C (f) only one event, session D (g h).
    rows = [("u1", "a", 0), ("u1", "b", 10), ("u1", "c", 20), ("u1", "d", 10_000), ("u1", "e", 10_010),
            ("u2", "f", 0), ("u2", "g", 10_000), ("u2", "h", 10_010)]
    table = validate_interactions(pd.DataFrame(rows, columns=["USER_ID", "ITEM_ID", "TIMESTAMP"]))
    return sessionize(table, gap_seconds=3600)


ITEMS = IdVocabulary(list("abcdefgh"))


def test_one_slot_runs_users_in_order_and_flags_only_the_starting_steps():
    batches = SessionParallelBatches(_sessions(), ITEMS, num_slots=1, steps=3)
    letters = " abcdefgh"
    assert "".join(letters[i] for i in batches.items[0][batches.valid[0] > 0]) == "abdg"
    assert "".join(letters[i] for i in batches.targets[0][batches.valid[0] > 0]) == "bceh"
    assert list(batches.session_start[0][:4]) == [1, 0, 1, 1]
    assert list(batches.user_start[0][:4]) == [1, 0, 0, 1]
    assert batches.items.shape == (1, 6) and list(batches.valid[0]) == [1, 1, 1, 1, 0, 0]
    assert len(batches) == 2 and batches.num_steps == 4


def test_two_slots_split_users_and_batches_continue_each_slot():
    batches = SessionParallelBatches(_sessions(), ITEMS, num_slots=2, steps=2)
    assert sorted(batches.valid.sum(axis=1)) == [1, 3]  # u1 has 3 steps, u2 one
    (first_inputs, first_targets, _), (second_inputs, _, second_valid) = list(batches.dataset().as_numpy_iterator())
    slot = int(np.argmax(batches.valid.sum(axis=1)))
    assert list(first_inputs["items"][slot]) == list(ITEMS.encode(["a", "b"]))
    assert second_inputs["items"][slot][0] == ITEMS.encode(["d"])[0] and second_inputs["session_start"][slot][0] == 1
    assert list(second_valid[1 - slot]) == [0, 0]


def test_bad_input():
    with pytest.raises(ValueError, match="call sessionize"):
        SessionParallelBatches(_sessions().drop(columns="SESSION_ID"), ITEMS)
    single = _sessions().groupby("SESSION_ID").head(1)
    with pytest.raises(ValueError, match="two or more events"):
        SessionParallelBatches(single, ITEMS)


def test_items_must_be_a_vocabulary():
    with pytest.raises(TypeError, match="must be a kerasts.data.IdVocabulary"):
        SessionParallelBatches(_sessions(), {"a": 1})
