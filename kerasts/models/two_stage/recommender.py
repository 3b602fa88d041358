"""The two-stage pipeline of the seed notebook: candidates from the two-tower and Swing, an MMoE ranker over
candidate, user and cross features with two tasks, a weighted blend of the task scores, and a share of
slots for lower-ranked candidates."""

import json
import os
import zlib

import keras
import numpy as np
import pandas as pd

from kerasts._checks import check_positive_int
from kerasts.baselines.swing import Swing
from kerasts.export import load_model
from kerasts.models.mmoe.mmoe import MMoE
from kerasts.models.two_tower.recommender import TwoTowerRecommender
from kerasts.models.warm_start import transfer_weights
from kerasts.optimizers import Adam
from kerasts.protocols.recommender import SCORING_CHUNK, Recommender, injected_positions

# The ranker's inputs: per (context, candidate) pair, all numeric.
FEATURES = ("retrieval_score", "retrieval_rank", "swing_score", "swing_rank", "popularity", "item_mean_value",
            "history_length", "from_retrieval", "from_swing")
INTERACTS, LIKES = "interacts", "likes"
EVENT_VALUE = "EVENT_VALUE"


class TwoStageRecommender(Recommender):
    """Candidate generation, then ranking, as one recommender (the seed notebook's architecture).

    Stage one (`fit_candidates`): a `TwoTowerRecommender` and `Swing` each propose their
    `num_candidates` best items the context has not had; the union is the candidate set, each candidate
    remembering which generator proposed it and at what rank. Stage two (`fit_ranker`): an `MMoE` over
    candidate features (the generators' scores and ranks, popularity, mean event value), user features
    (history length) and the provenance flags predicts two tasks: `"interacts"` (the user has the
    candidate among their next events) and, where the table has `EVENT_VALUE`, `"likes"` (with a value
    of at least `like_threshold`, e.g. a rating of 4). Its training pairs come from each training user's
    older events as the context and their newest `label_share` as the labels, with generators fitted on
    the older events only, so the ranker never sees a generator score its labels were trained into.
    `fit` runs both stages (the ranker first, then the generators again on every event, for serving).

    A list ranks the candidates by the blend `sum(task_weights[task] * probability)`; items that are not
    candidates follow them in the two-tower's order: they fill a list where the generators propose fewer
    than `k` (Swing proposes only items similar to the context's: none for a user without events), and a
    ranking of given items (GetPersonalizedRanking) ranks every one of them. With `injection_share`, that share of each list's slots (rounded) goes to
    candidates drawn from the next `injection_pool` ranks below the list ("inject less good ones"), placed
    last, drawn with `seed` and the context, so the same request gets the same list.

    Args:
        num_candidates: items each generator proposes.
        retrieval, swing: settings of the `TwoTowerRecommender` and of `Swing`.
        num_experts, expert_units, tower_units: the ranker (`MMoE`).
        epochs, batch_size, learning_rate: the ranker's training (Adam, binary cross-entropy per task).
        task_weights: blend weight per task.
        like_threshold: the `EVENT_VALUE` from which an event counts as liked.
        label_share: share of each training user's newest events that label the ranker's pairs.
        injection_share, injection_pool: the exploration of lower-ranked candidates.
        seed: seeds the ranker, the generators and the injection.
        verbose: Keras's progress display, for the two-tower's training and the ranker's.

    Attributes:
        retrieval, swing: the fitted generators; `model`: the `MMoE` ranker.

    Example:
        >>> pipeline = TwoStageRecommender(num_candidates=200).fit(interactions, items)
        >>> pipeline.recommend(user_id="42", k=10)

    Reference:
        Covington, Adams and Sargin, "Deep Neural Networks for YouTube Recommendations", RecSys 2016 (the
        two stages); Ma et al., "Modeling Task Relationships in Multi-task Learning with Multi-gate
        Mixture-of-Experts", KDD 2018 (the ranker).
    """

    def __init__(self, num_candidates=100, retrieval=None, swing=None, num_experts=4, expert_units=(32,),
                 tower_units=(16,), epochs=5, batch_size=512, learning_rate=3e-3, task_weights=None,
                 like_threshold=4.0, label_share=0.2, injection_share=0.0, injection_pool=50, seed=0,
                 verbose=0, user_column="USER_ID", item_column="ITEM_ID"):
        super().__init__(user_column, item_column)
        self.num_candidates = check_positive_int("num_candidates", num_candidates)
        self.retrieval_settings = {"embedding_dim": 32, "epochs": 8, "batch_size": 256, **(retrieval or {})}
        self.swing_settings = dict(swing or {})
        self.network = {"num_experts": num_experts, "expert_units": tuple(expert_units),
                        "tower_units": tuple(tower_units)}
        self.epochs = check_positive_int("epochs", epochs)
        self.batch_size = check_positive_int("batch_size", batch_size)
        self.learning_rate = float(learning_rate)
        self.task_weights = {INTERACTS: 1.0, LIKES: 1.0} if task_weights is None else dict(task_weights)
        unknown = sorted(set(self.task_weights) - {INTERACTS, LIKES})
        if unknown:
            raise ValueError(f"`task_weights` names unknown task(s) {unknown}; the tasks are {[INTERACTS, LIKES]}.")
        self.like_threshold = float(like_threshold)
        if not 0.0 < label_share < 1.0:
            raise ValueError(f"`label_share` must be in (0, 1), got {label_share!r}.")
        self.label_share = float(label_share)
        if not 0.0 <= injection_share < 1.0:
            raise ValueError(f"`injection_share` must be in [0, 1), got {injection_share!r}.")
        self.injection_share = float(injection_share)
        self.injection_pool = check_positive_int("injection_pool", injection_pool)
        self.seed, self.verbose = seed, verbose
        self.retrieval = self.swing = self.model = None

    def shorten_training(self, share):
        """The ranker's epochs and its two-tower's (a setting of their own) both shortened."""
        super().shorten_training(share)
        self.retrieval_settings["epochs"] = max(1, round(self.retrieval_settings["epochs"] * share))

    # Stage one: candidates.

    def fit_candidates(self, interactions, items=None, retrieval_model=None, warm_start=None):
        """Fits the two generators on `interactions` and sets the catalog (the two-tower's: the `items`
        table's ids, or the interactions' items); with `retrieval_model`, a two-tower trained on them
        before, that one instead of training again; with `warm_start` (a fitted `TwoStageRecommender`),
        the two-tower starts from its two-tower's weights. Returns self."""
        self.swing = Swing(**self.swing_settings, user_column=self.user_column, item_column=self.item_column)
        self.swing.fit(interactions)
        retrieval_settings = {"seed": self.seed, "verbose": self.verbose, **self.retrieval_settings}
        self.retrieval = TwoTowerRecommender(**retrieval_settings, user_column=self.user_column,
                                             item_column=self.item_column)
        if retrieval_model is None:
            self.retrieval.fit(interactions, items, warm_start=None if warm_start is None else warm_start.retrieval)
        else:
            self.retrieval.restore(retrieval_model, interactions, items)
        self.items = self.retrieval.items
        # Swing's catalog is the interactions' items; its columns in ours, encoded once (3 ms a request).
        self._swing_columns = self.items.encode(self.swing.items.ids) - 1
        self._item_statistics = _item_statistics(interactions, self.items, self.item_column)
        self.remember_histories(interactions)
        return self

    def candidates(self, contexts):
        """Per context, `(candidate indices, features)`: the union of the generators' proposals (catalog
        indices, 0-based) and the ranker's `FEATURES` for each, as a dict of arrays."""
        # `SCORING_CHUNK` contexts at a time: the generators score the whole catalog for each, and a training
        # split's 45,000 users by 20,000 items make 7.2 GB a matrix.
        return [proposal for start in range(0, len(contexts), SCORING_CHUNK)
                for proposal in self._proposals(contexts[start:start + SCORING_CHUNK])[1]]

    def _proposals(self, contexts):
        """`(retrieval_scores, candidates(contexts))`: the two-tower's scores of the catalog too."""
        retrieval_scores = self.retrieval.score_items(contexts)
        swing_scores = np.zeros_like(retrieval_scores)
        columns = self._swing_columns
        swing_scores[:, columns[columns >= 0]] = self.swing.score_items(contexts)[:, columns >= 0]
        results = []
        for row, context in enumerate(contexts):
            unseen = np.ones(len(self.items), dtype=bool)
            unseen[self.known_indices(context)] = False
            ranks = []
            # Swing proposes only items similar to the context's (score above 0); the two-tower, any.
            for scores, floor in ((retrieval_scores[row], -np.inf), (swing_scores[row], 0.0)):
                best = self._ranked(scores, unseen & (scores > floor), self.num_candidates)
                rank = np.full(len(self.items), self.num_candidates + 1.0)
                rank[best] = np.arange(1, best.size + 1)
                ranks.append(rank)
            chosen = np.flatnonzero((ranks[0] <= self.num_candidates) | (ranks[1] <= self.num_candidates))
            popularity, mean_value = self._item_statistics
            features = {"retrieval_score": retrieval_scores[row, chosen],
                        "retrieval_rank": np.log1p(ranks[0][chosen]),
                        "swing_score": np.log1p(swing_scores[row, chosen]),
                        "swing_rank": np.log1p(ranks[1][chosen]),
                        "popularity": popularity[chosen], "item_mean_value": mean_value[chosen],
                        "history_length": np.full(chosen.size, np.log1p(len(context))),
                        "from_retrieval": (ranks[0][chosen] <= self.num_candidates).astype("float64"),
                        "from_swing": (ranks[1][chosen] <= self.num_candidates).astype("float64")}
            results.append((chosen, features))
        return retrieval_scores, results

    # Stage two: the ranker.

    def fit_ranker(self, interactions, items=None, callbacks=None, warm_start=None):
        """Trains the ranker on pairs from `interactions`: each user's newest `label_share` of events label
        the candidates that generators fitted on the older events propose from them. `callbacks` go to the
        ranker's `fit`; with `warm_start` (a fitted `TwoStageRecommender` of the same settings and tasks) the
        ranker and the generators' two-tower start from its weights. Returns self."""
        older, newer = _split_newest(interactions, self.label_share, self.user_column)
        if older.empty or newer.empty:
            raise ValueError("The ranker's pairs need users with at least two events (older ones as the "
                             "context, newer ones as labels).")
        generators = TwoStageRecommender(self.num_candidates, self.retrieval_settings, self.swing_settings,
                                         seed=self.seed, verbose=self.verbose, user_column=self.user_column,
                                         item_column=self.item_column)
        generators.fit_candidates(older, items, warm_start=warm_start)
        self.tasks = [INTERACTS] + ([LIKES] if EVENT_VALUE in interactions.columns else [])
        users = sorted(set(older[self.user_column]) & set(newer[self.user_column]))
        contexts = [generators.user_history(user) for user in users]
        later = newer.groupby(self.user_column)
        rows, labels = [], {task: [] for task in self.tasks}
        for user, (chosen, features) in zip(users, generators.candidates(contexts)):
            events = later.get_group(user)
            had = set(events[self.item_column].astype(str))
            liked = set(events.loc[events[EVENT_VALUE] >= self.like_threshold, self.item_column].astype(str)) \
                if LIKES in self.tasks else set()
            ids = generators.items.id_array[chosen]
            rows.append(pd.DataFrame(features))
            labels[INTERACTS].append(np.isin(ids, list(had)).astype("float32"))
            if LIKES in self.tasks:
                labels[LIKES].append(np.isin(ids, list(liked)).astype("float32"))
        table = pd.concat(rows, ignore_index=True)
        labels = {task: np.concatenate(values) for task, values in labels.items()}
        if not labels[INTERACTS].any():
            raise ValueError("No candidate of any training user is among their newer events: the ranker has "
                             "nothing to learn (give more num_candidates, or more events per user).")
        specs = {name: {"type": "numeric", "mean": float(table[name].mean()),
                        "std": _deviation(table[name])} for name in FEATURES}
        if self.seed is not None:
            keras.utils.set_random_seed(self.seed)
        self.model = MMoE(specs, {task: "binary" for task in self.tasks}, **self.network)
        self.model.build()  # a backup restores weights before the first step
        if warm_start is not None:
            warm_start.check_fitted()
            transfer_weights(self.model, [], warm_start.model, [], {})  # no variable is indexed by item
        self.model.compile(Adam(self.learning_rate),
                           loss={task: "binary_crossentropy" for task in self.tasks})
        self.ranker_history = self.model.fit({name: table[name].to_numpy("float32") for name in FEATURES}, labels,
                                             batch_size=self.batch_size, epochs=self.epochs, verbose=self.verbose,
                                             callbacks=callbacks)
        return self

    def fit(self, interactions, items=None, callbacks=None, warm_start=None):
        """Both stages: the ranker (from pairs of older and newer events), then the generators on every
        event. `callbacks` go to the ranker's training (the longest; a backup there resumes it); with
        `warm_start` (a fitted `TwoStageRecommender` of the same settings) both two-towers and the ranker
        start from its weights. Returns self."""
        return (self.fit_ranker(interactions, items, callbacks, warm_start)
                .fit_candidates(interactions, items, warm_start=warm_start))

    # The recommender protocol.

    def check_fitted(self):
        super().check_fitted()
        if self.model is None:
            raise ValueError("TwoStageRecommender has no ranker: call fit (or fit_ranker) first.")

    def score_items(self, contexts):
        """The blended task probabilities of each context's candidates (at least 0); the other items below
        every candidate, in the two-tower's order (its cosine less 2)."""
        self.check_fitted()
        retrieval_scores, proposals = self._proposals(contexts)
        scores = np.asarray(retrieval_scores, "float64") - 2.0
        if not proposals:
            return scores
        sizes = [chosen.size for chosen, _ in proposals]
        inputs = {name: np.concatenate([features[name] for _, features in proposals]).astype("float32")
                  for name in FEATURES}
        # `predict` builds a dataset pipeline per call (tens of ms for one user's candidates) and a direct call
        # runs eagerly (13 ms on 200 candidates); `predict_on_batch` runs the traced function (2 ms).
        predictions = self.model.predict_on_batch(inputs) if sum(sizes) else {}
        blended = sum(self.task_weights.get(task, 0.0) * predictions[task].reshape(-1)
                      for task in self.tasks) if sum(sizes) else np.zeros(0)
        for row, (chosen, _), piece in zip(range(len(contexts)), proposals, np.split(blended, np.cumsum(sizes)[:-1])):
            scores[row, chosen] = piece
        return scores

    def _top_k(self, scores, context, seen, k, exclude_seen, exclude, candidates, explore=False):
        injected = int(round(self.injection_share * k)) if explore else 0
        deeper = super()._top_k(scores, context, seen, k + (self.injection_pool if injected else 0), exclude_seen,
                                exclude, candidates)
        if not injected or deeper.size <= k:
            return deeper[:k]
        generator = np.random.default_rng([self.seed or 0, zlib.crc32("\x1f".join(map(str, context)).encode())])
        return deeper[injected_positions(deeper.size, k, injected, generator)]

    # Saving: the two networks; Swing is counted again from the training events.

    def save_networks(self, directory):
        """Writes the ranker (`model.keras`), the two-tower (`retrieval.keras`) and the tasks."""
        self.check_fitted()
        self.model.save(os.path.join(directory, "model.keras"))
        self.retrieval.model.save(os.path.join(directory, "retrieval.keras"))
        with open(os.path.join(directory, "two_stage.json"), "w") as handle:
            json.dump({"tasks": self.tasks}, handle)

    def restore_networks(self, directory, interactions, items=None):
        """The recommender `save_networks` wrote, over the training `interactions` (and `items` table),
        without training again. Returns self."""
        with open(os.path.join(directory, "two_stage.json")) as handle:
            self.tasks = json.load(handle)["tasks"]
        self.model = load_model(os.path.join(directory, "model.keras"))
        return self.fit_candidates(interactions, items, load_model(os.path.join(directory, "retrieval.keras")))


def _deviation(values):
    """The standard deviation of `values` to standardise them by; 1 for a constant (whose computed deviation
    is rounding noise: dividing by it turned a slightly different value at serving into 1e14)."""
    deviation = float(values.std())
    return deviation if deviation > 1e-6 * max(1.0, abs(float(values.mean()))) else 1.0


def _split_newest(interactions, share, user_column):
    """`(older, newer)`: each user's newest `share` of events (rounded, at least one of two or more) apart."""
    if "TIMESTAMP" in interactions.columns:
        interactions = interactions.sort_values([user_column, "TIMESTAMP"], kind="stable")
    newest_first = interactions.groupby(user_column, sort=False).cumcount(ascending=False)
    count = interactions.groupby(user_column, sort=False)[user_column].transform("size")
    newer = (newest_first < np.maximum((count * share).round(), 1)) & (count >= 2)
    return interactions[~newer], interactions[newer]


def _item_statistics(interactions, items, item_column):
    """Per catalog item: log(1 + events) and the mean `EVENT_VALUE` (the overall mean where none)."""
    codes = items.encode(interactions[item_column].astype(str)) - 1
    known = codes >= 0
    counts = np.bincount(codes[known], minlength=len(items)).astype("float64")
    if EVENT_VALUE not in interactions.columns:
        return np.log1p(counts), np.zeros(len(items))
    values = interactions[EVENT_VALUE].to_numpy("float64")[known]
    sums = np.bincount(codes[known], weights=values, minlength=len(items))
    overall = float(values.mean()) if values.size else 0.0
    return np.log1p(counts), np.divide(sums, counts, out=np.full(len(items), overall), where=counts > 0)
