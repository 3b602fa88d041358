import keras_tuner

from kerasts.models.hrnn.session_recommender import SessionRecommender


class HRNNHyperModel(keras_tuner.HyperModel):
    """Searches an `HRNN` for a catalog, built and compiled by `SessionRecommender`'s recipe (full-catalog
    cross-entropy, Adam), trained on `SessionParallelBatches(...).dataset()` (pass it as the training
    data; `num_slots` must match).

    Default search space (`hp` names are stable):
    - `units`: 32..256, step 32 (session GRU; the user GRU has the same size)
    - `embedding_dim`: 16, 32, 64, 128
    - `mode`: `init` or `all`
    - `dropout`: 0.0..0.5, step 0.1 (on the session GRU's input)
    - `hidden_dropout`: 0.0..0.5, step 0.1 (on the session GRU's output; 0.5 with 20 epochs led on
      MovieLens sessions, see benchmarks/RESULTS.md)
    - `user_dropout`: 0.0..0.75, step 0.25 (with a user GRU; on MovieLens sessions 0.75 kept the user
      state from over-fitting, see benchmarks/RESULTS.md)
    - `tie_embeddings`: `True` or `False` (score with the input item embeddings, as GRU4Rec)
    - `learning_rate`: 1e-4..1e-2, log scale (Adam)

    Args:
        item_ids: the catalog's item ids (the models' vocabulary).
        num_slots: slots of the session-parallel batches.
        user_gru: `False` searches session-only GRU4Rec (then `mode` is fixed to `init` and there is
            no `user_dropout`).
    """

    def __init__(self, item_ids, num_slots=32, user_gru=True, **kwargs):
        super().__init__(**kwargs)
        self.item_ids, self.num_slots, self.user_gru = list(item_ids), num_slots, user_gru

    def build(self, hp):
        personal = ({"mode": hp.Choice("mode", ["init", "all"]),
                     "user_dropout": hp.Float("user_dropout", 0.0, 0.75, step=0.25)} if self.user_gru else {})
        recipe = SessionRecommender(learning_rate=hp.Float("learning_rate", 1e-4, 1e-2, sampling="log"),
                                    num_slots=self.num_slots, units=hp.Int("units", 32, 256, step=32),
                                    embedding_dim=hp.Choice("embedding_dim", [16, 32, 64, 128]), user_gru=self.user_gru,
                                    dropout=hp.Float("dropout", 0.0, 0.5, step=0.1),
                                    hidden_dropout=hp.Float("hidden_dropout", 0.0, 0.5, step=0.1),
                                    tie_embeddings=hp.Boolean("tie_embeddings"), **personal)
        return recipe.build_model(self.item_ids)

    def fit(self, hp, model, *args, **kwargs):
        kwargs["shuffle"] = False  # slots continue from batch to batch
        return model.fit(*args, **kwargs)
