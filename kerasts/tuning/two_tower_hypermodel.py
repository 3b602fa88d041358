import keras_tuner

from kerasts.data.retrieval import retrieval_dataset
from kerasts.layers.tower import Tower
from kerasts.models.two_tower.two_tower import TwoTower
from kerasts.optimizers import Adam


class TwoTowerHyperModel(keras_tuner.HyperModel):
    """Searches a `TwoTower` over `kerasts.layers.Tower`s built from the given feature specs.

    Default search space (`hp` names are stable; fix or narrow any of them with
    `keras_tuner.HyperParameters` passed to the tuner, e.g. `hp.Fixed("embedding_dim", 64)`):
    - `embedding_dim`: 16, 32, 64, 128 (both towers' output and id embedding sizes)
    - `tower_depth`: 0..2 hidden layers in each tower's readout
    - `tower_width`: 32..256, step 32 (width of those layers)
    - `temperature`: 0.02..1.0, log scale (cosine scores)
    - `learning_rate`: 1e-4..1e-2, log scale (Adam)
    - `batch_size`: 256, 512, 1024, 2048 (a `fit`-time choice: larger batches mean more negatives)

    Args:
        query_features, candidate_features: `Tower` feature specs; each categorical spec's
            `embedding_dim` is replaced by the searched `embedding_dim`.
        logq_correction: passed to `TwoTower`.

    Example:
        >>> tuner = keras_tuner.RandomSearch(TwoTowerHyperModel(query_specs, item_specs),
        ...                                  objective="val_loss", max_trials=10, seed=0)
        >>> tuner.search(train_examples, validation_data=validation_examples, epochs=5)
    """

    def __init__(self, query_features, candidate_features, logq_correction=True, **kwargs):
        super().__init__(**kwargs)
        self.query_features = query_features
        self.candidate_features = candidate_features
        self.logq_correction = logq_correction

    def build(self, hp):
        dim = hp.Choice("embedding_dim", [16, 32, 64, 128])
        depth = hp.Int("tower_depth", 0, 2)
        width = hp.Int("tower_width", 32, 256, step=32)
        temperature = hp.Float("temperature", 0.02, 1.0, sampling="log")
        learning_rate = hp.Float("learning_rate", 1e-4, 1e-2, sampling="log")

        def tower(features):
            sized = {name: {**spec, "embedding_dim": dim} if spec["type"] != "numeric" else spec
                     for name, spec in features.items()}
            return Tower(sized, output_dim=dim, hidden_units=(width,) * depth)

        model = TwoTower(tower(self.query_features), tower(self.candidate_features), temperature=temperature,
                         cosine=True, logq_correction=self.logq_correction)
        model.compile(Adam(learning_rate))
        return model

    def fit(self, hp, model, data, validation_data=None, **kwargs):
        """`data` and `validation_data`: example dicts (see `kerasts.data.retrieval_examples`),
        batched here with the searched `batch_size` (`kerasts.data.retrieval_dataset`)."""
        batch_size = hp.Choice("batch_size", [256, 512, 1024, 2048])
        validation = (retrieval_dataset(validation_data, batch_size, shuffle=False) if validation_data is not None
                      else None)
        kwargs["shuffle"] = False  # the training examples are shuffled in tf.data
        return model.fit(retrieval_dataset(data, batch_size), validation_data=validation, **kwargs)
