import keras_tuner

from kerasts.models.mmoe.mmoe import MMoE
from kerasts.optimizers import Adam


class MMoEHyperModel(keras_tuner.HyperModel):
    """Searches an `MMoE` for the given features and tasks, compiled with one loss per task
    (binary cross-entropy or MSE) and AUC for binary tasks.

    Default search space (`hp` names are stable; fix or narrow any with `keras_tuner.HyperParameters`):
    - `num_experts`: 2..16
    - `expert_units`: 8..128, step 8 (one layer per expert)
    - `tower_units`: 4..64, step 4 (one hidden layer per task tower)
    - `learning_rate`: 1e-4..1e-2, log scale (Adam)

    Args:
        features: `FeatureGroups` specs of the inputs.
        tasks: dict of task name -> `"binary"` or `"regression"`.
        loss_weights: optional dict of task name -> weight, passed to `compile`.

    Example:
        >>> tuner = keras_tuner.RandomSearch(MMoEHyperModel(features, tasks),
        ...                                  objective=keras_tuner.Objective("val_income_auc", "max"),
        ...                                  max_trials=10, seed=0)
        >>> tuner.search(x, y, validation_data=(x_val, y_val), epochs=5)
    """

    def __init__(self, features, tasks, loss_weights=None, **kwargs):
        super().__init__(**kwargs)
        self.features = features
        self.tasks = tasks
        self.loss_weights = loss_weights

    def build(self, hp):
        model = MMoE(self.features, self.tasks, num_experts=hp.Int("num_experts", 2, 16),
                     expert_units=(hp.Int("expert_units", 8, 128, step=8),),
                     tower_units=(hp.Int("tower_units", 4, 64, step=4),))
        # The losses and metrics of the task types are the model's own compile defaults.
        model.compile(Adam(hp.Float("learning_rate", 1e-4, 1e-2, sampling="log")),
                      loss_weights=self.loss_weights)
        return model
