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


def test_ranks_count_only_test_session_targets_and_ties_count_against_them_by_default():
    history, test = leave_last_session_out(_sessions())
    # Test targets: half the users go a->b->c (targets b, c), half c->b->a (targets b, a).
    scores = evaluate_next_items(Scripted("b"), test, history, ks=(1, 2))
    assert scores["targets"] == 12 and scores["skipped_targets"] == 0
    assert scores["recall_at_1"] == pytest.approx(0.5)  # every b target is ranked first
    # a ties c at 0: conservatively each ranks after the other, so both rank 3 (a miss at 2).
    assert scores["mean_reciprocal_rank_at_2"] == pytest.approx(6 * 1 / 12)
    assert set(scores) >= {"precision_at_1", "hit_rate_at_2", "normalized_discounted_cumulative_gain_at_2"}
    # Served: as a list shows them, a before c (a targets rank 2, c targets 3); optimistic: both rank 2.
    served = evaluate_next_items(Scripted("b"), test, history, ks=(2,), ties="served")
    assert served["mean_reciprocal_rank_at_2"] == pytest.approx((6 * 1 + 3 * 0.5) / 12)
    optimistic = evaluate_next_items(Scripted("b"), test, history, ks=(2,), ties="optimistic")
    assert optimistic["mean_reciprocal_rank_at_2"] == pytest.approx((6 * 1 + 6 * 0.5) / 12)
    with pytest.raises(ValueError, match="`ties` must be one of"):
        evaluate_next_items(Scripted("b"), test, history, ties="random")


class OrderedTies(Scripted):
    """Scripted, with its own order among equal scores: c before a (as SIMS fills by popularity)."""

    def tie_breaking_rank(self):
        return np.array([2, 1, 0])


def test_a_recommenders_own_order_among_equal_scores_is_its_ranking_in_every_mode():
    history, test = leave_last_session_out(_sessions())
    for ties in ("conservative", "optimistic", "served"):
        scores = evaluate_next_items(OrderedTies("b"), test, history, ks=(2,), ties=ties)
        assert scores["recall_at_2"] == pytest.approx(9 / 12)  # b targets first, c targets second, a third
        assert list(OrderedTies("b").recommend(history=[], k=3).item_ids) == ["b", "c", "a"]


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


def _two_test_sessions():
    """Six users' first session as history; their second and third as test sessions."""
    sessions = _sessions()
    last_two = sessions.groupby("USER_ID")["SESSION_ID"].transform(lambda ids: ids != ids.iloc[0])
    return sessions[~last_two], sessions[last_two]


def _scores_by_row(recommender, test, history, **options):
    rows, scores = zip(*recommender.next_item_scores(test, history, **options))
    return dict(zip(np.concatenate(rows), np.concatenate(scores)))


@pytest.fixture(scope="module")
def trained_hrnn():
    history, _ = _two_test_sessions()
    with pytest.warns(UserWarning, match="updates: the network will likely under-fit"):
        return SessionRecommender(units=4, embedding_dim=3, num_slots=6, steps=2, epochs=1).fit(history)


def test_user_state_options_say_what_each_test_session_is_warmed_with(trained_hrnn):
    history, test = _two_test_sessions()
    test = test.reset_index(drop=True)
    second = test.groupby("USER_ID")["SESSION_ID"].transform(lambda ids: ids == ids.iloc[-1]).to_numpy()
    later, earlier_tests = test[second], test[~second]

    def second_sessions(**options):
        scores = _scores_by_row(trained_hrnn, test, history, **options)
        return np.stack([scores[row] for row in np.flatnonzero(second) if row in scores])

    def alone(sessions, replayed):
        scores = _scores_by_row(trained_hrnn, sessions.reset_index(drop=True), replayed)
        return np.stack([scores[row] for row in sorted(scores)])

    everything = second_sessions(user_state="everything_before")
    np.testing.assert_allclose(everything, alone(later, pd.concat([history, earlier_tests])), atol=1e-5)
    np.testing.assert_allclose(second_sessions(user_state="train_history"), alone(later, history), atol=1e-5)
    np.testing.assert_allclose(second_sessions(user_state="zero"), alone(later, None), atol=1e-5)
    assert np.abs(everything - second_sessions(user_state="train_history")).max() > 1e-4
    results = {state: evaluate_next_items(trained_hrnn, test, history, user_state=state)
               for state in ("everything_before", "train_history", "zero")}
    assert {result["targets"] for result in results.values()} == {24}
    with pytest.raises(ValueError, match="`user_state` must be one of"):
        evaluate_next_items(trained_hrnn, test, history, user_state="warm")


def test_a_session_only_network_needs_no_user_or_timestamp_column():
    sessions = _sessions()[["SESSION_ID", "ITEM_ID"]]
    with pytest.warns(UserWarning, match="under-fit"):
        session_only = SessionRecommender(user_gru=False, units=4, embedding_dim=3, num_slots=4, steps=2,
                                          epochs=2).fit(sessions)
    assert evaluate_next_items(session_only, sessions, ks=(3,))["recall_at_3"] == 1.0
    history, test = _two_test_sessions()
    replayed, alone = (_scores_by_row(session_only, test[["SESSION_ID", "ITEM_ID"]].reset_index(drop=True), earlier)
                       for earlier in (history[["SESSION_ID", "ITEM_ID"]], None))
    assert replayed.keys() == alone.keys()  # earlier sessions cannot move a session-only network's scores
    np.testing.assert_allclose(np.stack(list(replayed.values())), np.stack([alone[row] for row in replayed]))
    assert "USER_ID" not in sessions.columns  # the table given is left as it was
    with pytest.raises(ValueError, match="no 'USER_ID' column: HRNN's user state follows each user"):
        SessionRecommender(units=4, epochs=1).fit(sessions)


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
    # b, c, d and e tie at 0: by the vocabulary's order here (`ties="served"`), to follow the exclusions.
    plain = evaluate_next_items(Scripted("a", catalog="abcde"), test, history, ks=(1, 4), ties="served")
    assert plain["targets"] == 8 and plain["recall_at_1"] == 0.5 and plain["recall_at_4"] == 1.0
    excluding = evaluate_next_items(Scripted("a", catalog="abcde"), test, history, ks=(1, 4), exclude_seen=True,
                                    ties="served")
    # a, b (history) and c (this session) are no longer ranked: d comes first; a repeat target is a miss.
    assert excluding["recall_at_1"] == 0.5 and excluding["recall_at_4"] == 0.5
    assert excluding["mean_reciprocal_rank_at_4"] == pytest.approx(0.5)
    ordered = evaluate_next_items(Scripted(catalog="abcde"), test, history, ks=(1, 4), exclude_seen=True)
    assert ordered["recall_at_1"] == 0.5 and ordered["recall_at_4"] == 0.5
    session_only = evaluate_next_items(Scripted(catalog="abcde"), test, ks=(2,), exclude_seen=True)
    # Without the history only the session so far is dropped: d ranks third (a miss at 2), a first.
    assert session_only["recall_at_2"] == 0.5 and session_only["mean_reciprocal_rank_at_2"] == pytest.approx(0.5)
