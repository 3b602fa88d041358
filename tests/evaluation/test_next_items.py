import kerasts  # noqa: F401 - first, to silence TensorFlow's start-up logging

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from kerasts.baselines import Popularity  # noqa: E402
from kerasts.data import IdVocabulary, leave_last_session_out, sessionize, validate_interactions  # noqa: E402
from kerasts.evaluation import evaluate_next_item_recommender, evaluate_next_items  # noqa: E402
from kerasts.models import HRNN  # noqa: E402


def _sessions():
    rows = []
    for user in range(6):
        for session in range(3):
            for position, item in enumerate(["a", "b", "c"] if user % 2 else ["c", "b", "a"]):
                rows.append((f"u{user}", item, session * 100_000 + position * 10))
    return sessionize(validate_interactions(pd.DataFrame(rows, columns=["USER_ID", "ITEM_ID", "TIMESTAMP"])))




class ScriptedModel:
    """An HRNN stand-in whose scores favour one item index, to check the ranks by hand."""

    def __init__(self, favourite, catalog="abc"):
        self.favourite, self.items = favourite, IdVocabulary(list(catalog))
        self.num_items = len(self.items)

    def zero_states(self, batch):
        return np.zeros((batch, 1)), np.zeros((batch, 1))

    def run(self, inputs, session_state, user_state):
        logits = np.zeros(inputs["items"].shape + (self.num_items + 1,))
        logits[..., self.favourite] = 1.0
        logits[..., 0] = 9.0  # padding scores highest and must be ignored
        return logits, session_state, user_state


def test_ranks_count_only_test_session_targets():
    history, test = leave_last_session_out(_sessions())
    # Test targets: half the users go a->b->c (targets b, c), half c->b->a (targets b, a).
    scores = evaluate_next_items(ScriptedModel(favourite=2), history, test, ks=(1, 2))
    assert scores["targets"] == 12
    assert scores["recall_at_1"] == pytest.approx(0.5)           # every b target is ranked first
    assert scores["mrr_at_2"] == pytest.approx((6 * 1 + 6 * 0.5) / 12)  # the others second (ties rank optimistically)


def test_a_trained_hrnn_learns_the_users_habit():
    history, test = leave_last_session_out(_sessions())
    from kerasts.data import SessionParallelBatches

    keras.utils.set_random_seed(0)
    model = HRNN(["a", "b", "c"], units=8, embedding_dim=4, num_slots=6)
    model.compile(keras.optimizers.Adam(0.05), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(SessionParallelBatches(history, model.items, num_slots=6, steps=2).dataset(), epochs=40, verbose=0,
              shuffle=False)
    scores = evaluate_next_items(model, history, test, ks=(1,))
    assert scores["recall_at_1"] > 0.9


def test_baselines_see_the_session_so_far():
    history, test = leave_last_session_out(_sessions())
    popular = Popularity().fit(history)
    scores = evaluate_next_item_recommender(popular, test, ks=(1, 3))
    assert scores["targets"] == 12 and scores["recall_at_3"] == 1.0


def test_scores_by_position_in_the_session():
    history, test = leave_last_session_out(_sessions())
    # Every target after one event read is b (favoured, rank 1); after two, a or c (rank 2).
    scores = evaluate_next_items(ScriptedModel(favourite=2), history, test, ks=(1,), position_buckets=(1, 2))
    assert list(scores["by_position"]) == ["1", "2+"]
    assert scores["by_position"]["1"]["targets"] == scores["by_position"]["2+"]["targets"] == 6
    assert scores["by_position"]["1"]["recall_at_1"] == 1.0 and scores["by_position"]["2+"]["recall_at_1"] == 0.0
    popular = evaluate_next_item_recommender(Popularity().fit(history), test, ks=(3,), position_buckets=(1, 2, 4))
    assert {label: part["targets"] for label, part in popular["by_position"].items()} == {"1": 6, "2-3": 6, "4+": 0}
    with pytest.raises(ValueError, match="`position_buckets` must be increasing"):
        evaluate_next_items(ScriptedModel(favourite=2), history, test, position_buckets=(2, 1))


def _sessions_with_history():
    """Four users who had a then b in two earlier sessions, and c, d, a in their last one."""
    rows = [(f"u{user}", item, session * 100_000 + position * 10)
            for user in range(4) for session, items in enumerate([["a", "b"], ["a", "b"], ["c", "d", "a"]])
            for position, item in enumerate(items)]
    frame = validate_interactions(pd.DataFrame(rows, columns=["USER_ID", "ITEM_ID", "TIMESTAMP"]))
    return leave_last_session_out(sessionize(frame))


class FixedOrder:
    """A recommender that always ranks a, b, c, d, e in that order."""

    def recommend(self, history, k, exclude_seen=False):
        return ["a", "b", "c", "d", "e"][:k]


def test_unwarmed_user_state_restarts_each_user_at_the_test_session():
    history, test = leave_last_session_out(_sessions())
    flags = {}

    class RecordingModel(ScriptedModel):
        def run(self, inputs, session_state, user_state):
            flags[self.favourite] = flags.get(self.favourite, 0) + int(np.sum(inputs["user_start"]))
            return super().run(inputs, session_state, user_state)

    warm = evaluate_next_items(RecordingModel(favourite=1), history, test)
    cold = evaluate_next_items(RecordingModel(favourite=2), history, test, warm_user_state=False)
    assert warm["targets"] == cold["targets"] == 12
    assert flags == {1: 6, 2: 12}  # six users start once, or again at their test session


def test_exclude_seen_ranks_only_items_the_user_has_not_had():
    history, test = _sessions_with_history()
    # Targets: d after c, then a (which the user had before).
    plain = evaluate_next_items(ScriptedModel(favourite=1, catalog="abcde"), history, test, ks=(1, 4))
    assert plain["targets"] == 8 and plain["recall_at_1"] == 0.5 and plain["recall_at_4"] == 1.0
    excluding = evaluate_next_items(ScriptedModel(favourite=1, catalog="abcde"), history, test, ks=(1, 4),
                                    exclude_seen=True)
    # a, b (history) and c (this session) are no longer ranked: d comes first; a repeat target is a miss.
    assert excluding["recall_at_1"] == 0.5 and excluding["recall_at_4"] == 0.5
    assert excluding["mrr_at_4"] == pytest.approx(0.5)
    baseline = evaluate_next_item_recommender(FixedOrder(), test, ks=(1, 4), exclude_seen=True, history=history)
    assert baseline["recall_at_1"] == 0.5 and baseline["recall_at_4"] == 0.5
    session_only = evaluate_next_item_recommender(FixedOrder(), test, ks=(2,), exclude_seen=True)
    # Without the history only the session so far is dropped: d ranks third (a miss at 2), a first.
    assert session_only["recall_at_2"] == 0.5 and session_only["mrr_at_2"] == pytest.approx(0.5)
