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
    (first_inputs, _, _), (second_inputs, _, second_valid) = list(batches.dataset().as_numpy_iterator())
    slot = int(np.argmax(batches.valid.sum(axis=1)))
    assert list(first_inputs["items"][slot]) == list(ITEMS.encode(["a", "b"]))
    assert second_inputs["items"][slot][0] == ITEMS.encode(["d"])[0] and second_inputs["session_start"][slot][0] == 1
    assert list(second_valid[1 - slot]) == [0, 0]


def test_padded_steps_weigh_nothing_and_the_epochs_loss_is_the_mean_over_real_steps():
    import keras

    batches = SessionParallelBatches(_sessions(), ITEMS, num_slots=2, steps=2)
    passes = list(batches.dataset().as_numpy_iterator())
    # Slots: u1's a, b, d and u2's g: four real steps of eight, each weighing 8 / 4.
    weights = np.stack([weight for _, _, weight in passes])
    np.testing.assert_array_equal(weights > 0, batches.valid.reshape(2, 2, 2).transpose(1, 0, 2) > 0)
    assert set(weights[weights > 0]) == {2.0}
    rng = np.random.default_rng(0)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    per_step, batch_losses = [], []
    for _, targets, weight in passes:
        logits = rng.normal(size=(2, 2, len(ITEMS) + 1)).astype("float32")
        batch_losses.append(float(loss(targets, logits, sample_weight=weight)))
        unreduced = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction=None)(targets, logits)
        per_step.extend(keras.ops.convert_to_numpy(unreduced)[weight > 0])
    assert np.mean(batch_losses) == pytest.approx(np.mean(per_step), rel=1e-5)


def test_users_are_packed_longest_first_so_slots_end_together():
    # Users with 1, 1, 1 and 3 steps: in table order two slots would end at 2 and 4 steps; longest first, 3 and 3.
    rows = [(user, f"{user}{position}", position) for user, length in (("p", 2), ("q", 2), ("r", 2), ("s", 4))
            for position in range(length)]
    sessions = sessionize(validate_interactions(pd.DataFrame(rows, columns=["USER_ID", "ITEM_ID", "TIMESTAMP"])))
    items = IdVocabulary.fit(sessions["ITEM_ID"])
    batches = SessionParallelBatches(sessions, items, num_slots=2, steps=1)
    assert batches.items.shape == (2, 3) and batches.valid.all()
    users = sessions["USER_ID"].to_numpy()
    assert sorted("".join(users[batches.rows[slot]]) for slot in range(2)) == ["pqr", "sss"]  # table order within


def test_bad_input():
    with pytest.raises(ValueError, match="call sessionize"):
        SessionParallelBatches(_sessions().drop(columns="SESSION_ID"), ITEMS)
    single = _sessions().groupby("SESSION_ID").head(1)
    with pytest.raises(ValueError, match="two or more events"):
        SessionParallelBatches(single, ITEMS)


def test_items_must_be_a_vocabulary():
    with pytest.raises(TypeError, match="must be a kerasts.data.IdVocabulary"):
        SessionParallelBatches(_sessions(), {"a": 1})
