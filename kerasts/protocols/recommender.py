"""The recommender protocol: what every recommender (baseline or model) implements."""

import collections

import numpy as np
import pandas as pd

from kerasts._checks import check_positive_int
from kerasts.data.sessions import SESSION_COLUMN

Recommendations = collections.namedtuple("Recommendations", ["item_ids", "scores"])
Recommendations.__doc__ = "Item ids (best first) and their scores, as Personalize's GetRecommendations returns them."

# Next-item contexts are scored in chunks of this many targets.
SCORING_CHUNK = 256


class Recommender:
    """Base of every recommender: popularity, SIMS, Swing, the two-tower (`TwoTowerRecommender`)
    and HRNN (`SessionRecommender`).

    A recommender is set up with its settings; `fit(interactions)` learns from a table in
    Personalize's Interactions layout, owning the whole training recipe, and sets `items`, its
    `kerasts.data.IdVocabulary`. Then:

    - `recommend(user_id=None, item_id=None, history=None, k=25, exclude_seen=True, exclude=None,
      candidates=None)` ranks the catalog for a context: the user's known events (from `fit` or
      `put_events`), then `history` (item ids, newest last, e.g. a user the model never saw), then
      `item_id` (items like this one). `exclude_seen` leaves out the context's items, `exclude`
      more ids, and `candidates` restricts the ranking to those ids (as GetPersonalizedRanking).
      `recommend_batch(queries)` answers many such calls with one model call per chunk (`recommend`
      is a batch of one).
    - `put_events(user_id, items)` adds a user's new events to what they are known by;
      `put_events_batch` does it for several users at once.
    - `next_item_scores(sessions, history)` scores every next event of each session, for
      `kerasts.evaluation.evaluate_next_items`.

    Subclasses implement `fit` (calling `remember_histories`) and `score_items(contexts)`, the
    scores of every catalog item for each context; equal scores follow `tie_breaking_rank()`. Top-K,
    exclusions and candidate lists are done here, once, for all of them. A recommender with a live
    state per user overrides `queries_scores` (HRNN scores a user from their state).

    `recommend(..., probabilities=True)` gives, in place of the scores, the items' probabilities under the
    softmax of `logits(scores)` over the whole catalog (Personalize's scores, which sum to 1 over it), or
    None for a recommender whose scores are not logits; the ranking is the scores' either way.

    Exploration, as Personalize's cold-start recipes do it: a recommender whose `exploration_indices()`
    names items (new ones, say) gives `round(exploration_weight * k)` slots of each list to the best of
    those by the context's own scores, spread evenly down the list, the other slots to the rest; slots
    either side cannot fill go to the other. `recommend(..., explore=False)` ranks without it
    (GetPersonalizedRanking).
    """

    items = None
    exploration_weight = 0.0

    def __init__(self, user_column="USER_ID", item_column="ITEM_ID"):
        self.user_column = user_column
        self.item_column = item_column
        self._histories = {}
        self._history_indices = {}

    # To implement.

    def fit(self, interactions):
        raise NotImplementedError

    def score_items(self, contexts):
        """`(len(contexts), len(items))` scores; each context is a list of item ids, newest last."""
        raise NotImplementedError

    def tie_breaking_rank(self):
        """Per item index, the recommender's own order among equal scores (lower first), or None where
        it has none: lists then show equal scores in the vocabulary's order, and evaluation counts
        them as ties (`kerasts.evaluation.ties`)."""
        return None

    def exploration_indices(self):
        """Catalog indices (0-based) of the items exploration gives slots to, or None (no exploration)."""
        return None

    def logits(self, scores):
        """`scores` (of `score_items` or `queries_scores`) as the logits of the softmax over the catalog the
        network was trained to fit, or None where they are not such logits (counts, similarities): then no
        probability is given (`recommend(..., probabilities=True)`)."""
        return None

    # Shared.

    def remember_histories(self, interactions):
        """Keeps each user's items (in the table's order: validated tables are by user and time)."""
        self._histories = {user: list(items) for user, items in
                           interactions.groupby(self.user_column, sort=False)[self.item_column]}
        self._history_indices = {}

    def check_events(self, user_id, session_id=None):
        """Raises the `ValueError` that `put_events(user_id, ..., session_id)` would, changing nothing."""

    def put_events(self, user_id, items, session_id=None):
        """Adds the user's new events (item ids, in time order) to their history; `session_id` is
        for recommenders that follow sessions."""
        self._histories.setdefault(user_id, []).extend(items)
        self._history_indices.pop(user_id, None)

    def put_events_batch(self, calls):
        """`put_events` for several users at once: `calls` holds `(user_id, items, session_id)`, each user at
        most once (recommenders with a network read them in one model call)."""
        check_distinct_users(calls)
        for user_id, items, session_id in calls:
            self.check_events(user_id, session_id)
        for user_id, items, session_id in calls:
            self.put_events(user_id, items, session_id=session_id)

    def user_history(self, user_id):
        """The items the user is known by (empty for unknown users)."""
        return list(self._histories.get(user_id, ()))

    def shorten_training(self, share):
        """Trains `share` of its epochs from now on (at least one), as a warm-started update does (Personalize's
        UPDATE); a recommender without epochs (no network) trains as before."""
        if hasattr(self, "epochs"):
            self.epochs = max(1, round(self.epochs * share))

    def check_fitted(self):
        if self.items is None:
            raise ValueError(f"{type(self).__name__} is not fitted: call fit(interactions) first.")

    def context(self, user_id=None, item_id=None, history=None):
        """The item ids a recommendation starts from: the user's, then `history`, then `item_id`."""
        context = self.user_history(user_id) if user_id is not None else []
        if history is not None:
            context += [history] if np.ndim(history) == 0 else list(history)
        if item_id is not None:
            context.append(item_id)
        return context

    def queries_scores(self, queries):
        """Scores of the catalog, `(len(queries), len(items))`, for `recommend_batch`'s queries (complete dicts
        of `recommend`'s arguments): `score_items` of their contexts (recommenders with a live state
        override it)."""
        return self.score_items([self.context(query["user_id"], query["item_id"], query["history"])
                                 for query in queries])

    def recommend(self, user_id=None, item_id=None, history=None, k=25, exclude_seen=True, exclude=None,
                  candidates=None, explore=True, probabilities=False):
        """The `k` best items for the context (see the class docstring), as `Recommendations`;
        `explore=False` leaves exploration out (a ranking of given items), `probabilities=True` gives the
        items' probabilities over the catalog in place of their scores (None where there are none)."""
        return self.recommend_batch([{"user_id": user_id, "item_id": item_id, "history": history, "k": k,
                                      "exclude_seen": exclude_seen, "exclude": exclude, "candidates": candidates,
                                      "explore": explore, "probabilities": probabilities}])[0]

    def recommend_batch(self, queries):
        """`recommend` for many queries at once, each a dict of its keyword arguments (missing ones take
        their defaults), scored in chunks of `SCORING_CHUNK` through one model call each: batch jobs and a
        campaign's concurrent requests. Returns a list of `Recommendations`."""
        self.check_fitted()
        queries = [_complete_query(query) for query in queries]
        results = []
        for start in range(0, len(queries), SCORING_CHUNK):
            chunk = queries[start:start + SCORING_CHUNK]
            scores = np.asarray(self.queries_scores(chunk), dtype="float64")
            logits = self.logits(scores) if any(query["probabilities"] for query in chunk) else None
            for row, query in enumerate(chunk):
                context = self.context(query["user_id"], query["item_id"], query["history"])
                ranked = self._top_k(scores[row], context, self._context_indices(query), query["k"],
                                     query["exclude_seen"], query["exclude"], query["candidates"], query["explore"])
                if not query["probabilities"]:
                    shown = scores[row, ranked]
                else:  # each item's probability under the softmax over the catalog, or none without logits
                    shown = None if logits is None else _softmax_at(logits[row], ranked)
                results.append(Recommendations(self.items.id_array[ranked], shown))
        return results

    def _context_indices(self, query):
        """Catalog indices of the known items of a query's context (what `exclude_seen` leaves out). A user's
        history is encoded once and kept until their next events: a served user's runs to thousands of
        ids, and encoding it was a quarter of a campaign's time per request (measured)."""
        indices = np.zeros(0, "int64")
        if query["user_id"] is not None:
            vocabulary, indices = self._history_indices.get(query["user_id"], (None, None))
            if vocabulary is not self.items:  # not kept yet, or the catalog changed since
                indices = self.known_indices(self.user_history(query["user_id"]))
                self._history_indices[query["user_id"]] = (self.items, indices)
        more = self.context(item_id=query["item_id"], history=query["history"])
        return np.concatenate([indices, self.known_indices(more)]) if more else indices

    def _top_k(self, scores, context, seen, k, exclude_seen, exclude, candidates, explore=False):
        """The one top-K of every recommendation, as catalog indices, best first: allowed items by score, equal
        scores by `tie_breaking_rank` (the vocabulary's order where it is None), with exploration's slots
        when `explore`. `seen` holds the catalog indices of the `context`'s items."""
        scores = np.asarray(scores, dtype="float64")
        allowed = np.ones(len(self.items), dtype=bool)
        if candidates is not None:
            allowed[:] = False
            allowed[self.known_indices(candidates)] = True
        if exclude_seen:
            allowed[seen] = False
        if exclude is not None:
            allowed[self.known_indices(exclude)] = False
        explored = self.exploration_indices() if explore and self.exploration_weight else None
        if explored is None or not len(explored):
            ranked = self._ranked(scores, allowed, k)
        else:
            pool = np.zeros(len(self.items), dtype=bool)
            pool[explored] = True
            new = self._ranked(scores, allowed & pool, int(round(self.exploration_weight * k)))
            rest = self._ranked(scores, allowed & ~pool, k - new.size)
            if new.size + rest.size < k:  # slots the rest cannot fill go back to the explored items
                new = self._ranked(scores, allowed & pool, k - rest.size)
            ranked = np.empty(new.size + rest.size, dtype=rest.dtype)
            spread = np.zeros(ranked.size, dtype=bool)  # the explored items evenly down the list
            spread[np.floor((np.arange(new.size) + 0.5) * ranked.size / max(new.size, 1)).astype(int)] = True
            ranked[spread], ranked[~spread] = new, rest
        return ranked

    def _ranked(self, scores, allowed, k):
        """Indices of the `k` best allowed items, best first."""
        ranked = np.flatnonzero(allowed)
        if k <= 0:
            return ranked[:0]
        values = scores[ranked]
        if k < ranked.size and np.isfinite(values).all():
            # Only items scoring at least the k-th best can make the top k (ties with it all stay): sorting
            # those alone is what keeps a recommendation over a large catalog fast.
            best = values >= np.partition(values, ranked.size - k)[ranked.size - k]
            ranked, values = ranked[best], values[best]
        order = self.tie_breaking_rank()
        return ranked[np.lexsort((ranked if order is None else order[ranked], -values))][:k]

    def known_indices(self, ids):
        """Vocabulary indices (0-based) of the ids the recommender knows; unknown ids are left out."""
        indices = self.items.encode(ids) - 1
        return indices[indices >= 0]

    def next_item_scores(self, sessions, history=None, last_item_only=False):
        """Scores for each event of `sessions` that has a next event in its session (the targets of
        next-item evaluation), from the session so far (or its `last_item_only`).

        Yields `(rows, scores)`: positions in `sessions` of the events read last and the
        `(len(rows), len(items))` scores of the next item. `history` (the users' earlier events) is
        for recommenders with a user state; this default reads only the session.
        """
        self.check_fitted()
        rows = _rows_with_next_event(sessions)
        items = sessions[self.item_column].tolist()
        starts = _session_starts(sessions)
        for chunk in range(0, rows.size, SCORING_CHUNK):
            chunk_rows = rows[chunk:chunk + SCORING_CHUNK]
            contexts = [items[row:row + 1] if last_item_only else items[starts[row]:row + 1] for row in chunk_rows]
            yield chunk_rows, self.score_items(contexts)


_QUERY_DEFAULTS = {"user_id": None, "item_id": None, "history": None, "k": 25, "exclude_seen": True, "exclude": None,
                   "candidates": None, "explore": True, "probabilities": False}


def _softmax_at(logits, indices):
    """The softmax of `logits` at `indices` alone: one pass of `exp` over the catalog for the normalizer (15 us
    over 10,000 items on the development VM, where scipy's whole softmax took 31 us)."""
    top = logits.max()
    return np.exp(logits[indices] - top) / np.exp(logits - top).sum()


def _complete_query(query):
    unknown = sorted(set(query) - set(_QUERY_DEFAULTS))
    if unknown:
        raise TypeError(f"A recommendation query takes {sorted(_QUERY_DEFAULTS)}, not {unknown}.")
    check_positive_int("k", query.get("k", _QUERY_DEFAULTS["k"]))
    return {**_QUERY_DEFAULTS, **query}


def check_distinct_users(calls):
    """`put_events_batch`'s calls checked: one per user (a user's later events are read after their earlier)."""
    users = [user_id for user_id, _, _ in calls]
    if len(set(users)) < len(users):
        raise ValueError("put_events_batch takes each user at most once: put a user's events in one call, or "
                         "batch their later calls after this one.")


def injected_positions(available, k, injected, generator):
    """Positions, in a ranking of `available` items, of a list of `k` that "injects less good ones": the
    best `k - injected`, then `injected` (fewer where the ranking is short) drawn uniformly from the ranks
    below them with `generator`, placed last in draw order."""
    kept = k - injected
    drawn = generator.choice(available - kept, min(injected, available - kept), replace=False)
    return np.concatenate([np.arange(kept), kept + drawn])


def _rows_with_next_event(sessions):
    session_ids = sessions[SESSION_COLUMN].to_numpy()
    return np.flatnonzero(np.append(session_ids[1:] == session_ids[:-1], False))


def _session_starts(sessions):
    """Per row, the position of its session's first row (sessions' rows are contiguous)."""
    session_ids = sessions[SESSION_COLUMN].to_numpy()
    first = np.append(True, session_ids[1:] != session_ids[:-1])
    return np.maximum.accumulate(np.where(first, np.arange(len(session_ids)), 0))


def sessions_required(sessions):
    """`sessions` checked for the SESSION_ID column next-item evaluation needs."""
    if not isinstance(sessions, pd.DataFrame) or SESSION_COLUMN not in sessions.columns:
        raise ValueError("Next-item evaluation needs sessions with a SESSION_ID column: call sessionize() first.")
    return sessions
