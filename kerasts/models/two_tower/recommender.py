"""The two-tower retrieval recipe over users' histories, as a `kerasts.protocols.Recommender`."""

import keras
import numpy as np

from kerasts._checks import check_columns, check_positive_int
from kerasts.data.interactions import split_multi_value
from kerasts.data.retrieval import HISTORY_FEATURE, joined, retrieval_dataset, retrieval_examples
from kerasts.data.sessions import held_out_users
from kerasts.data.vocabulary import IdVocabulary
from kerasts.distributed import build_for_backups
from kerasts.layers.tower import Tower
from kerasts.models.warm_start import transfer_weights
from kerasts.models.two_tower.two_tower import TwoTower
from kerasts.optimizers import Adam
from kerasts.protocols.recommender import Recommender


def history_two_tower(item_ids, embedding_dim=64, item_feature_vocabularies=None, temperature=0.05,
                      logq_correction=True):
    """The two-tower network of `TwoTowerRecommender`, over `retrieval_examples`' features.

    The query tower mean-pools the embeddings of the user's `HISTORY` items and reads them out
    through one hidden layer; the candidate tower embeds `ITEM_ID` and each multi-valued item
    feature in `item_feature_vocabularies` (name -> values, e.g. genres). Cosine scores.
    """
    vocabulary = IdVocabulary.fit(item_ids).ids
    query = Tower({HISTORY_FEATURE: {"type": "multi_categorical", "vocabulary": vocabulary,
                                     "embedding_dim": embedding_dim}},
                  output_dim=embedding_dim, hidden_units=(2 * embedding_dim,))
    candidate_features = {"ITEM_ID": {"type": "categorical", "vocabulary": vocabulary, "embedding_dim": embedding_dim}}
    for name, values in (item_feature_vocabularies or {}).items():
        candidate_features[name] = {"type": "multi_categorical", "vocabulary": sorted(values), "embedding_dim": 16}
    candidate = Tower(candidate_features, output_dim=embedding_dim)
    return TwoTower(query, candidate, temperature=temperature, cosine=True, logq_correction=logq_correction)


class TwoTowerRecommender(Recommender):
    """Two-tower retrieval trained on Personalize tables: the one training recipe of the history
    two-tower (measured on MovieLens, benchmarks/RESULTS.md), and the recommender protocol over it.

    `fit(interactions, items=None)` builds `history_two_tower` over the interactions' items (and
    the `item_features` of the `items` table), trains it on every event with the user's previous
    `history_length` items as the query (`retrieval_examples`, shuffled with `seed`), and indexes
    the catalog: the `items` table's ids, or the interactions' items without one. A context is read
    as such a history, so users never seen in training are served from their events alone.

    Args:
        embedding_dim, temperature, logq_correction: the network (see `history_two_tower`).
        history_length: items of the history the query tower reads (newest kept).
        item_features: multi-valued (`a|b`) columns of the `items` table the candidate tower reads.
        epochs, batch_size, learning_rate, seed: the training (Adam).
        early_stopping_patience: with it, a tenth of the users (drawn with `seed`) are held out of training
            and their events validate each epoch (`val_loss`, the same in-batch loss); training stops after
            this many epochs without a lower one (at most `epochs`) and keeps the best epoch's weights
            (Keras's `EarlyStopping`). The held-out users' histories are still served. The best epoch count
            moves with the data (1 to 4 of the recipe's 8 on five datasets), but off by default: at 2 it
            failed a rule fixed before its runs there, and which users validate moved it as much as its
            gains (benchmarks/RESULTS.md).
        verbose: Keras's progress display.

    Attributes:
        model: the trained `TwoTower`, with its index (export it with `model.export(path, k=...)`).
    """

    def __init__(self, embedding_dim=64, history_length=50, temperature=0.05, logq_correction=True,
                 item_features=(), epochs=5, batch_size=1024, learning_rate=3e-3, seed=0, verbose=0,
                 early_stopping_patience=None, user_column="USER_ID", item_column="ITEM_ID"):
        super().__init__(user_column, item_column)
        self.embedding_dim = check_positive_int("embedding_dim", embedding_dim)
        self.history_length = check_positive_int("history_length", history_length)
        self.temperature, self.logq_correction = temperature, logq_correction
        self.item_features = tuple(item_features)
        self.epochs = check_positive_int("epochs", epochs)
        self.batch_size = check_positive_int("batch_size", batch_size)
        self.learning_rate, self.seed, self.verbose = learning_rate, seed, verbose
        self.early_stopping_patience = (None if early_stopping_patience is None
                                        else check_positive_int("early_stopping_patience", early_stopping_patience))
        self.model = None

    def fit(self, interactions, items=None, callbacks=None, warm_start=None):
        """The recipe (see the class docstring). `warm_start`: a fitted `TwoTowerRecommender` with the
        same settings whose weights the new model starts from, item rows matched by id (new items start
        fresh; item features must keep their values)."""
        if self.seed is not None:
            keras.utils.set_random_seed(self.seed)
        training, validation = interactions, None
        if self.early_stopping_patience is not None:
            held_out = self._validation_rows(interactions)
            training, validation = interactions[~held_out], interactions[held_out]
        # Each part's examples on their own: the log-Q correction reads the item shares of the events its batches
        # are drawn from.
        examples = self._examples(training, items)
        vocabularies = {name: {value for values in split_multi_value(items[name]) for value in values}
                        for name in self.item_features}
        previous = None if warm_start is None else (warm_start.model, warm_start.training_item_ids)
        self.training_item_ids = IdVocabulary.fit(interactions[self.item_column]).ids
        self.model = history_two_tower(interactions[self.item_column], self.embedding_dim, vocabularies,
                                       self.temperature, self.logq_correction)
        if previous is not None:
            transfer_weights(self.model, self.training_item_ids, *previous,
                             {f"tower/groups/{feature}_embedding/embeddings": 0 for feature in (HISTORY_FEATURE,
                                                                                                 "ITEM_ID")})
        self.model.compile(Adam(self.learning_rate))
        callbacks = list(callbacks or [])
        if validation is not None:
            validation = retrieval_dataset(self._examples(validation, items), self.batch_size, shuffle=False)
            callbacks.append(keras.callbacks.EarlyStopping(patience=self.early_stopping_patience,
                                                           restore_best_weights=True))
        dataset = retrieval_dataset(examples, self.batch_size, seed=self.seed or 0)
        build_for_backups(self.model, dataset, callbacks)
        self.history = self.model.fit(dataset, epochs=self.epochs, verbose=self.verbose, callbacks=callbacks,
                                      validation_data=validation, shuffle=False)
        self.index_catalog(interactions, items)
        self.remember_histories(interactions)
        return self

    def _examples(self, interactions, items):
        return retrieval_examples(interactions, items, self.item_features, self.history_length, self.user_column,
                                  self.item_column)

    def _validation_rows(self, interactions):
        """Whether each event is of a held-out user: a tenth of the users, drawn with `seed` as Personalize's
        split draws its test users."""
        check_columns(interactions, (self.user_column, self.item_column), "`interactions`")
        try:
            held_out = held_out_users(interactions, 0.1, self.seed or 0, self.user_column)
        except ValueError as error:
            raise ValueError(f"early_stopping_patience holds out a tenth of the users to validate: {error} Give "
                             "more users or events, or no early_stopping_patience.") from None
        return interactions[self.user_column].isin(held_out).to_numpy()

    def restore(self, model, interactions, items=None):
        """This recipe over a trained `model` and the `interactions` (and `items` table) it was trained on,
        as `fit` left it, without training again. Returns self."""
        self.model = model
        self.training_item_ids = IdVocabulary.fit(interactions[self.item_column]).ids
        self.index_catalog(interactions, items)
        self.remember_histories(interactions)
        return self

    def index_catalog(self, interactions, items=None):
        """Indexes the `catalog` for serving; again after items are added (their features place them)."""
        self.model.index_candidates(self.catalog(interactions, items))
        self.items = IdVocabulary(self.model.index_ids)

    def catalog(self, interactions, items=None):
        """The items indexed for serving: the `items` table's (with the candidate tower's features),
        or the interactions' items without one."""
        if items is None:
            return {self.item_column: np.array(IdVocabulary.fit(interactions[self.item_column]).ids, dtype=object)}
        return {name: items[name].astype(str).to_numpy(dtype=object) for name in (self.item_column, *self.item_features)}

    def logits(self, scores):
        """The index's scores (cosines) over the network's temperature: the logits its softmax was trained on
        (without the log-Q correction, which only undoes the sampling of in-batch negatives)."""
        return scores / self.model.temperature

    def score_items(self, contexts):
        self.check_fitted()
        queries = np.array([joined(context[-self.history_length:]) for context in contexts], dtype=object)
        chunks = [keras.ops.convert_to_numpy(self.model.index_scores({HISTORY_FEATURE: queries[start:start + 1024]}))
                  for start in range(0, len(queries), 1024)]
        return np.concatenate(chunks) if chunks else np.zeros((0, len(self.items)))
