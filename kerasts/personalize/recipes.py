"""Personalize's recipes: one registry entry each, building a kerasts recommender and restoring a
trained one from a solution version's directory."""

import dataclasses
import os

from kerasts._registry import Registry
from kerasts.baselines import SIMS, Popularity, Swing
from kerasts.export import load_model
from kerasts.models.hrnn.session_recommender import SessionRecommender
from kerasts.models.two_stage.recommender import TwoStageRecommender
from kerasts.models.two_tower.recommender import TwoTowerRecommender

USER_PERSONALIZATION, PERSONALIZED_RANKING, RELATED_ITEMS = (
    "USER_PERSONALIZATION", "PERSONALIZED_RANKING", "RELATED_ITEMS")
RECIPE_TYPES = (USER_PERSONALIZATION, PERSONALIZED_RANKING, RELATED_ITEMS)
MODEL_FILE = "model.keras"

# The settings that led on MovieLens sessions (README, RESULTS.md), with ten epochs.
_SESSION_SETTINGS = {"epochs": 10, "learning_rate": 3e-3, "units": 64, "embedding_dim": 32, "dropout": 0.25,
                     "hidden_dropout": 0.5, "tie_embeddings": True}


@dataclasses.dataclass(frozen=True)
class Recipe:
    """A recipe: its Personalize type, how to build the recommender from settings, and whether its
    state is a Keras network (saved as `model.keras`) or recomputed from the training interactions."""

    recipe_type: str
    build: callable
    has_network: bool
    cold_start: str  # what an unknown user gets, for the docs and the CLI
    search_space: callable = None  # hp -> settings, for perform_hpo (keras-tuner's HyperParameters)
    needs_items: bool = False  # reads item metadata: trains only where the dataset group has an Items table
    epoch_settings: tuple = ("epochs",)  # the settings of its networks' epochs, dotted where nested (CLI's --epochs)

    def __call__(self, **settings):
        return self.build(**settings)

    def restore(self, settings, directory, interactions, items):
        """The recommender a solution version saved in `directory`, without training it again."""
        recommender = self.build(**settings)
        if not self.has_network:
            return recommender.fit(interactions)  # a deterministic count over the saved interactions
        if hasattr(recommender, "restore_networks"):  # more than one network
            return recommender.restore_networks(directory, interactions, items)
        return recommender.restore(load_model(os.path.join(directory, MODEL_FILE)), interactions, items)

    def save(self, recommender, directory):
        if hasattr(recommender, "save_networks"):
            recommender.save_networks(directory)
        elif self.has_network:
            recommender.model.save(os.path.join(directory, MODEL_FILE))


RECIPES = Registry("recipe", "kerasts.personalize.register_recipe")


def register_recipe(name, recipe):
    RECIPES.register(name, recipe)


def _session_space(hp):
    return {"units": hp.Int("units", 32, 128, step=32), "embedding_dim": hp.Choice("embedding_dim", [16, 32, 64]),
            "dropout": hp.Float("dropout", 0.0, 0.5, step=0.25),
            "hidden_dropout": hp.Float("hidden_dropout", 0.0, 0.5, step=0.25),
            "learning_rate": hp.Float("learning_rate", 1e-3, 1e-2, sampling="log")}


def _two_tower_space(hp):
    return {"embedding_dim": hp.Choice("embedding_dim", [16, 32, 64, 128]),
            "temperature": hp.Float("temperature", 0.02, 0.2, sampling="log"),
            "learning_rate": hp.Float("learning_rate", 1e-3, 1e-2, sampling="log"),
            "batch_size": hp.Choice("batch_size", [256, 512, 1024])}


def _hrnn(**settings):
    return SessionRecommender(**{"mode": "all", "user_units": 32, "user_dropout": 0.75, **_SESSION_SETTINGS,
                                 **settings})


def _gru4rec(**settings):
    return SessionRecommender(**{"user_gru": False, **_SESSION_SETTINGS, **settings})


def _two_tower(**settings):
    return TwoTowerRecommender(**{"embedding_dim": 32, "epochs": 8, "batch_size": 256, **settings})


_SESSION_COLD_START = "reads the user's events as one session; a user with none gets the most popular items"
_TWO_TOWER_COLD_START = "queries with the user's events (none: the empty history's query)"
register_recipe("hrnn", Recipe(USER_PERSONALIZATION, _hrnn, True, _SESSION_COLD_START, _session_space))
register_recipe("hrnn-metadata", Recipe(USER_PERSONALIZATION, lambda **settings: _hrnn(
    **{"item_features": "all", **settings}), True, _SESSION_COLD_START, _session_space, needs_items=True))
# Personalize's aws-user-personalization defaults: exploration weight 0.3, item age cut-off 30 days.
register_recipe("hrnn-coldstart", Recipe(USER_PERSONALIZATION, lambda **settings: _hrnn(**{
    "item_features": "all", "cold_start_items": True, "exploration_weight": 0.3, "exploration_item_age_cut_off": 30.0,
    **settings}), True, _SESSION_COLD_START + "; new items (no interactions, or recently created) get "
    "exploration_weight of the slots, chosen from their metadata", _session_space, needs_items=True))
# The seed notebook's pipeline: two-tower and Swing candidates, an MMoE ranker, a blend of its tasks.
register_recipe("two-stage", Recipe(USER_PERSONALIZATION, lambda **settings: TwoStageRecommender(**settings), True,
                                    "the two-tower's and Swing's candidates for the user's events, ranked",
                                    epoch_settings=("epochs", "retrieval.epochs")))
register_recipe("gru4rec", Recipe(USER_PERSONALIZATION, _gru4rec, True, _SESSION_COLD_START, _session_space))
register_recipe("two-tower", Recipe(USER_PERSONALIZATION, _two_tower, True, _TWO_TOWER_COLD_START, _two_tower_space))
# Personalize's aws-personalized-ranking is HRNN's: the same networks, serving only GetPersonalizedRanking.
register_recipe("personalized-ranking", Recipe(PERSONALIZED_RANKING, _hrnn, True, _SESSION_COLD_START,
                                               _session_space))
register_recipe("personalized-ranking-two-tower", Recipe(PERSONALIZED_RANKING, _two_tower, True,
                                                         _TWO_TOWER_COLD_START, _two_tower_space))
register_recipe("popularity-count", Recipe(USER_PERSONALIZATION, lambda **settings: Popularity(**settings), False,
                                           "the most popular items"))
register_recipe("sims", Recipe(RELATED_ITEMS, lambda **settings: SIMS(**settings), False,
                               "needs an item: items co-occurring with it, then popular ones", lambda hp: {
                                   "popularity_discount": hp.Float("popularity_discount", 0.0, 1.0, step=0.25),
                                   "min_cointeractions": hp.Int("min_cointeractions", 1, 3)}))
register_recipe("swing", Recipe(RELATED_ITEMS, lambda **settings: Swing(**settings), False,
                                "needs an item: items swing-similar to it, then popular ones", lambda hp: {
                                    "alpha1": hp.Choice("alpha1", [1.0, 5.0, 10.0]),
                                    "beta": hp.Float("beta", 0.0, 0.6, step=0.15)}))


def recipe_names(recipe_type=None):
    return [name for name in RECIPES.names() if recipe_type is None or RECIPES.get(name).recipe_type == recipe_type]
