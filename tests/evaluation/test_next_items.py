import kerasts  # noqa: F401 - first, to silence TensorFlow's start-up logging

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from kerasts.baselines import Popularity  # noqa: E402
from kerasts.data import IdVocabulary, leave_last_session_out, sessionize, validate_interactions  # noqa: E402
from kerasts.evaluation import evaluate_next_items  # noqa: E402
from kerasts.models import SessionRecommender  # noqa: E402
from kerasts.protocols import Recommender  # noqa: E402


def _sessions():
    rows = []
    for user in range(6):
        for session in range(3):
            for position, item in enumerate(["a", "b", "c"] if user % 2 else ["c", "b", "a"]):
                rows.append((f"u{user}", item, session * 100_000 + position * 10))
    return sessionize(validate_interactions(pd.DataFrame(rows, columns=["USER_ID", "ITEM_ID", "TIMESTAMP"])))


class Scripted(Recommender):
    """Scores `favourite` 1 and every other item 0 (or a fixed descending order), to check ranks by hand."""

    def __init__(self, favourite=None, catalog="abc"):
        super().__init__()
        self.items = IdVocabulary(list(catalog))
        self.favourite = favourite

    def score_items(self, contexts):
        scores = (np.zeros(len(self.items)) if self.favourite is not None
                  else -np.arange(len(self.items), dtype=float))  # a, b, c, ... in that order
        if self.favourite is not None:
            scores[self.items.encode([self.favourite])[0] - 1] = 1.0
        return np.tile(scores, (len(contexts), 1))


def test_ranks_count_only_test_session_targets_and_ties_follow_the_tie_breaking_rank():
    history, test = leave_last_session_out(_sessions())
    # Test targets: half the users go a->b->c (targets b, c), half c->b->a (targets b, a).
    scores = evaluate_next_items(Scripted("b"), test, history, ks=(1, 2))
    assert scores["targets"] == 12 and scores["skipped_targets"] == 0
    assert scores["recall_at_1"] == pytest.approx(0.5)  # every b target is ranked first
    # a ties c at 0 and comes first by the vocabulary: a targets rank 2, c targets 3.
    assert scores["mean_reciprocal_rank_at_2"] == pytest.approx((6 * 1 + 3 * 0.5) / 12)
    assert set(scores) >= {"precision_at_1", "hit_rate_at_2", "normalized_discounted_cumulative_gain_at_2"}


def test_targets_the_recommender_cannot_rank_are_skipped_and_counted():
    history, test = leave_last_session_out(_sessions())
    scores = evaluate_next_items(Scripted("b", catalog="ab"), test, history, ks=(1,))
    assert scores["targets"] == 9 and scores["skipped_targets"] == 3  # the three c targets


def test_a_trained_hrnn_learns_the_users_habit():
    history, test = leave_last_session_out(_sessions())
    recommender = SessionRecommender(units=8, embedding_dim=4, num_slots=6, steps=2, epochs=40,
                                     learning_rate=0.05).fit(history)
    assert evaluate_next_items(recommender, test, history, ks=(1,))["recall_at_1"] > 0.9
    with pytest.raises(ValueError, match="last_item_only does not apply"):
        evaluate_next_items(recommender, test, history, last_item_only=True)


def test_baselines_see_the_session_so_far():
    history, test = leave_last_session_out(_sessions())
    scores = evaluate_next_items(Popularity().fit(history), test, ks=(1, 3))
    assert scores["targets"] == 12 and scores["recall_at_3"] == 1.0


def test_scores_by_position_in_the_session():
    history, test = leave_last_session_out(_sessions())
    # Every target after one event read is b (favoured, rank 1); after two, a or c (rank 2 or 3).
    scores = evaluate_next_items(Scripted("b"), test, history, ks=(1,), position_buckets=(1, 2))
    assert list(scores["by_position"]) == ["1", "2+"]
    assert scores["by_position"]["1"]["targets"] == scores["by_position"]["2+"]["targets"] == 6
    assert scores["by_position"]["1"]["recall_at_1"] == 1.0 and scores["by_position"]["2+"]["recall_at_1"] == 0.0
    popular = evaluate_next_items(Popularity().fit(history), test, ks=(3,), position_buckets=(1, 2, 4))
    assert {label: part["targets"] for label, part in popular["by_position"].items()} == {"1": 6, "2-3": 6, "4+": 0}
    with pytest.raises(ValueError, match="`position_buckets` must be increasing"):
        evaluate_next_items(Scripted("b"), test, history, position_buckets=(2, 1))
    with pytest.raises(ValueError, match="SESSION_ID"):
        evaluate_next_items(Scripted("b"), test.drop(columns="SESSION_ID"))


def test_unwarmed_user_state_restarts_each_user_at_the_test_session():
    history, test = leave_last_session_out(_sessions())
    recommender = SessionRecommender(units=4, embedding_dim=3, num_slots=6, steps=2, epochs=1).fit(history)
    flags = []
    run = recommender.model.run

    def recording_run(inputs, session_state, user_state):
        flags.append(int(np.sum(inputs["user_start"])))
        return run(inputs, session_state, user_state)

    recommender.model.run = recording_run
    warm = evaluate_next_items(recommender, test, history)
    starts_warm, flags[:] = sum(flags), []
    cold = evaluate_next_items(recommender, test, history, warm_user_state=False)
    assert warm["targets"] == cold["targets"] == 12
    assert (starts_warm, sum(flags)) == (6, 12)  # six users start once, or again at their test session


def _sessions_with_history():
    """Four users who had a then b in two earlier sessions, and c, d, a in their last one."""
    rows = [(f"u{user}", item, session * 100_000 + position * 10)
            for user in range(4) for session, items in enumerate([["a", "b"], ["a", "b"], ["c", "d", "a"]])
            for position, item in enumerate(items)]
    frame = validate_interactions(pd.DataFrame(rows, columns=["USER_ID", "ITEM_ID", "TIMESTAMP"]))
    return leave_last_session_out(sessionize(frame))


def test_exclude_seen_ranks_only_items_the_user_has_not_had():
    history, test = _sessions_with_history()
    # Targets: d after c, then a (which the user had before).
    plain = evaluate_next_items(Scripted("a", catalog="abcde"), test, history, ks=(1, 4))
    assert plain["targets"] == 8 and plain["recall_at_1"] == 0.5 and plain["recall_at_4"] == 1.0
    excluding = evaluate_next_items(Scripted("a", catalog="abcde"), test, history, ks=(1, 4), exclude_seen=True)
    # a, b (history) and c (this session) are no longer ranked: d comes first; a repeat target is a miss.
    assert excluding["recall_at_1"] == 0.5 and excluding["recall_at_4"] == 0.5
    assert excluding["mean_reciprocal_rank_at_4"] == pytest.approx(0.5)
    ordered = evaluate_next_items(Scripted(catalog="abcde"), test, history, ks=(1, 4), exclude_seen=True)
    assert ordered["recall_at_1"] == 0.5 and ordered["recall_at_4"] == 0.5
    session_only = evaluate_next_items(Scripted(catalog="abcde"), test, ks=(2,), exclude_seen=True)
    # Without the history only the session so far is dropped: d ranks third (a miss at 2), a first.
    assert session_only["recall_at_2"] == 0.5 and session_only["mean_reciprocal_rank_at_2"] == pytest.approx(0.5)
