"""Amazon Personalize's solution and solution version: train a recipe (or AutoML over a recipe type),
its offline metrics on Personalize's split, recommendations with filters, personalized ranking,
batch inference jobs, save and load."""

import json
import os
import tempfile
import warnings

import keras_tuner
import numpy as np
import pandas as pd
import scipy.special

from kerasts._checks import check_positive_int, json_object
from kerasts._files import check_output_path, read_saved_directory, replaced_atomically, write_description
from kerasts.data.interactions import filter_events
from kerasts.distributed import backup_callback
from kerasts.data.item_metadata import check_metadata_rows, item_metadata_columns, rows_by_id, with_rows
from kerasts.data.sessions import personalize_split
from kerasts.evaluation.recommender import evaluate_recommender
from kerasts.personalize.dataset_group import ITEM_COLUMN, USER_COLUMN, DatasetGroup
from kerasts.personalize.filters import Filter
from kerasts.personalize.recipes import (PERSONALIZED_RANKING, RECIPE_TYPES, RECIPES, RELATED_ITEMS,
                                        USER_PERSONALIZATION, recipe_names)
from kerasts.models.two_tower.recommender import TwoTowerRecommender
from kerasts.protocols.recommender import Recommendations, check_distinct_users

FORMAT_VERSION = 1
# An UPDATE trains a network this share of its epochs, from the previous version's weights.
UPDATE_EPOCHS_SHARE = 0.25
# Personalize's limit on the Items columns a request's metadataColumns names.
MAX_METADATA_COLUMNS = 10
# HPO's trials fit on the split's training users less this share, held out to score them.
HPO_VALIDATION_FRACTION = 0.1
VERSION_FILE = "solution_version.json"
# Personalize's limit on numResults and on an inputList's length.
MAX_RESULTS = 500
# The recipe types that rank a given list (Personalize serves it for the first only).
RANKING_TYPES = (PERSONALIZED_RANKING, USER_PERSONALIZATION)
# What a batch inference job's input line may hold.
_BATCH_FIELDS = {"userId", "itemId", "itemList", "filterValues"}
# Personalize's offline metrics, in the order its console shows them, then recall.
METRIC_NAMES = ("coverage", "mean_reciprocal_rank_at_25", "normalized_discounted_cumulative_gain_at_5",
                "normalized_discounted_cumulative_gain_at_10", "normalized_discounted_cumulative_gain_at_25",
                "precision_at_5", "precision_at_10", "precision_at_25", "recall_at_5", "recall_at_10", "recall_at_25")


def create_solution(group, recipe="hrnn", perform_auto_ml=False, recipe_type=USER_PERSONALIZATION,
                    auto_ml_metric="normalized_discounted_cumulative_gain_at_10", perform_hpo=False, hpo_trials=8,
                    event_type=None, event_value_threshold=None, settings=None):
    """A solution: what to train on a `DatasetGroup`, as Personalize's CreateSolution.

    Args:
        group: the `DatasetGroup`.
        recipe: a recipe name (`kerasts.personalize.recipe_names()`: `hrnn`, `gru4rec`, `two-tower`,
            `popularity-count`, `personalized-ranking`, `personalized-ranking-two-tower`, `sims`, `swing`)
            or `{"name": ..., "config": {settings}}`.
        perform_auto_ml: train every recipe of `recipe_type` and keep the best by `auto_ml_metric`. A recipe
            whose training refuses this data (a `ValueError`, e.g. too few events per user for the two-stage
            ranker) is left out with a warning, and named with the reason in the version's `settings["left_out"]`.
        perform_hpo: first tune each recipe that has a search space (`Recipe.search_space`) by
            keras-tuner's random search, `hpo_trials` trials, each fitted on the split's training users
            less a tenth held out for validation and scored there by `auto_ml_metric` (the test users
            never take part); the best settings are then trained and scored as without HPO. Settings given
            in `settings` (or the recipe's config) stay fixed: HPO searches only the rest of the space.
        event_type, event_value_threshold: train on these events only (e.g. "purchase", ratings >= 4).
        settings: per-recipe settings for AutoML, `{recipe name: {setting: value}}`.
    """
    if not isinstance(group, DatasetGroup):
        raise TypeError(f"`group` must be a kerasts.personalize.DatasetGroup, got {type(group).__name__}.")
    if recipe_type not in RECIPE_TYPES:
        raise ValueError(f"`recipe_type` must be one of {RECIPE_TYPES}, got {recipe_type!r}.")
    if auto_ml_metric not in METRIC_NAMES:
        raise ValueError(f"`auto_ml_metric` must be one of {METRIC_NAMES}, got {auto_ml_metric!r}.")
    settings = dict(settings or {})
    has_metadata = group.items is not None and bool(item_metadata_columns(group.items, ITEM_COLUMN))
    if perform_auto_ml:  # a recipe reading item metadata takes part where the Items table has some
        specs = [{"name": name, "config": settings.get(name, {})} for name in recipe_names(recipe_type)
                 if has_metadata or not RECIPES.get(name).needs_items]
    else:
        RECIPES.parse(recipe)
        if RECIPES.get(recipe).needs_items and not has_metadata:
            raise ValueError(f"The {RECIPES.parse(recipe)[0]} recipe reads item metadata: the dataset group needs "
                             "an Items table with metadata columns (numbers, or text grouping items).")
        specs = [recipe if isinstance(recipe, dict) else {"name": recipe, "config": settings.get(recipe, {})}]
    # AutoML's settings may name any recipe of its type (one left out for want of item metadata included).
    unknown = sorted(set(settings) - set(recipe_names(recipe_type) if perform_auto_ml else [specs[0]["name"]]))
    if unknown:
        raise ValueError(f"`settings` names recipe(s) {unknown} that this solution does not train.")
    for spec in specs:
        RECIPES.create(spec)  # settings a recipe does not take fail now, not after other recipes trained
    group.events(event_type, event_value_threshold)  # the event filter's errors now, not after training
    check_positive_int("hpo_trials", hpo_trials)
    return Solution(group, specs, auto_ml_metric, event_type, event_value_threshold,
                    hpo_trials if perform_hpo else None, perform_auto_ml)


class Solution:
    """What `create_solution` returns; `create_version()` trains it."""

    def __init__(self, group, specs, auto_ml_metric, event_type, event_value_threshold, hpo_trials, auto_ml):
        self.group, self.specs, self.auto_ml_metric, self.auto_ml = group, specs, auto_ml_metric, auto_ml
        self.event_type, self.event_value_threshold = event_type, event_value_threshold
        self.hpo_trials = hpo_trials
        self.latest_version = None

    def create_version(self, training_mode="FULL", group=None, test_user_fraction=0.1, seed=0, verbose=1,
                       backup_directory=None):
        """Trains a solution version: each recipe is fitted on Personalize's split (a share of users
        held out; of each, the oldest 90% of events are the input and the rest the truth) and scored
        under Personalize's metric names; the best (the only one without AutoML) is then trained on
        every event and serves.

        `training_mode="UPDATE"` instead continues the solution's latest version on `group` (the
        solution's dataset group with new events and items): `SolutionVersion.update`.

        With `backup_directory`, each network's training backs up there every epoch (a folder per recipe,
        stage and worker), so the same call restarted after a crash resumes unfinished fits.

        Returns:
            A `SolutionVersion`, with `metrics` (the served recipe's), `leaderboard` (every recipe's) and,
            with HPO, each trial's hyperparameters and validation score in `settings["hpo_trials"]`.
        """
        if training_mode not in ("FULL", "UPDATE"):
            raise ValueError(f"`training_mode` must be 'FULL' or 'UPDATE', got {training_mode!r}.")
        if group is not None and not isinstance(group, DatasetGroup):
            raise TypeError(f"`group` must be a kerasts.personalize.DatasetGroup, got {type(group).__name__}.")
        if group is not None:
            self.group = group
        if training_mode == "UPDATE":
            if self.latest_version is None:
                raise ValueError("training_mode='UPDATE' continues the solution's latest version: create one with "
                                 "training_mode='FULL' first.")
            self.latest_version = self.latest_version.update(self.group, verbose=verbose)
            return self.latest_version
        events = self.group.events(self.event_type, self.event_value_threshold)
        split = personalize_split(events, test_user_fraction=test_user_fraction, seed=seed)
        self.trials = {}
        scores, specs, left_out = {}, [], {}
        for position, spec in enumerate(self.specs):
            try:
                if self.hpo_trials:
                    spec = self._tuned(spec, split[0], seed, verbose)
                if verbose:
                    print(f"Training {spec['name']} ({position + 1} of {len(self.specs)}) on the split's "
                          f"{split[0][USER_COLUMN].nunique():,} training users...", flush=True)
                recommender = fit_recipe(spec, split[0], self.group.items, verbose,
                                         backup_directory=_backup(backup_directory, spec, "split"))
                scores[spec["name"]] = evaluate_recommender(recommender, split, ks=(5, 10, 25))
            except ValueError as error:  # this data does not suit the recipe: AutoML goes on without it
                if not self.auto_ml:
                    raise
                left_out[spec["name"]] = str(error)
                warnings.warn(f"AutoML leaves {spec['name']} out: {error}", stacklevel=2)
                continue
            specs.append(spec)
        if not specs:
            raise ValueError("No recipe could train on this data: "
                             + "; ".join(f"{name}: {reason}" for name, reason in left_out.items()))
        leaderboard = pd.DataFrame(scores).T[list(METRIC_NAMES)].sort_values(self.auto_ml_metric, ascending=False,
                                                                               kind="stable")
        best = next(spec for spec in specs if spec["name"] == leaderboard.index[0])
        if verbose:
            print(f"Training {best['name']} on all {len(events):,} events...", flush=True)
        recommender = fit_recipe(best, events, self.group.items, verbose,
                                 backup_directory=_backup(backup_directory, best, "all_events"))
        self.latest_version = SolutionVersion(
            best, recommender, self.group.interactions, self.group.items, leaderboard,
            {"event_type": self.event_type, "event_value_threshold": self.event_value_threshold,
             "test_user_fraction": test_user_fraction, "seed": seed, "hpo_trials": self.trials,
             "left_out": left_out, "auto_ml_metric": self.auto_ml_metric, "training_mode": "FULL"},
            users=self.group.users)
        return self.latest_version

    def _tuned(self, spec, train, seed, verbose):
        """`spec` with the settings keras-tuner's random search found best on a validation split of `train`;
        `spec` unchanged where its recipe has no search space or `spec` sets all of it."""
        fixed = _fixed_hyperparameters(spec)
        if fixed is None:
            return spec
        validation = personalize_split(train, test_user_fraction=HPO_VALIDATION_FRACTION, seed=seed + 1)
        with tempfile.TemporaryDirectory() as directory:
            oracle = keras_tuner.oracles.RandomSearchOracle(
                keras_tuner.Objective(self.auto_ml_metric, "max"), max_trials=self.hpo_trials, seed=seed,
                hyperparameters=fixed)
            tuner = _RecipeTuner(spec, self.group.items, validation, self.auto_ml_metric, oracle,
                                 directory=directory, project_name=spec["name"])
            if verbose:
                print(f"Tuning {spec['name']}: {self.hpo_trials} trials...", flush=True)
            tuner.search(verbose=verbose)
            best = tuner.get_best_hyperparameters(1)
            if not best:
                failure = next((trial.message for trial in tuner.oracle.trials.values() if trial.message), "")
                raise ValueError(f"No HPO trial of {spec['name']} finished; the first failure:\n{failure}")
            self.trials[spec["name"]] = [
                {"hyperparameters": trial.hyperparameters.values, self.auto_ml_metric: trial.score}
                for trial in tuner.oracle.trials.values() if trial.score is not None]
        return {"name": spec["name"], "config": {**spec["config"], **RECIPES.get(spec).search_space(best[0])}}


def _fixed_hyperparameters(spec):
    """keras-tuner's `Fixed` values for the settings of `spec` that its recipe's search space also names, so
    HPO searches only what the user left open; None when nothing is left (no space, or the user set all of it)."""
    space = RECIPES.get(spec).search_space
    if space is None:
        return None
    fixed = keras_tuner.HyperParameters()
    names = space(keras_tuner.HyperParameters())
    for name in names:
        if name in spec["config"]:
            value = spec["config"][name]
            fixed.Fixed(name, value.item() if isinstance(value, np.generic) else value)
    return None if len(fixed.values) == len(names) else fixed


class _RecipeTuner(keras_tuner.Tuner):
    """Random search over a recipe's `search_space`: a trial fits the recipe with the trial's settings
    on the validation split's training part and scores it there by the solution's metric."""

    def __init__(self, spec, items, validation, metric, oracle, **kwargs):
        super().__init__(oracle, **kwargs)
        self.spec, self.items, self.validation, self.metric = spec, items, validation, metric

    def run_trial(self, trial, *args, **kwargs):
        settings = {**self.spec["config"], **RECIPES.get(self.spec).search_space(trial.hyperparameters)}
        recommender = fit_recipe({"name": self.spec["name"], "config": settings}, self.validation[0], self.items)
        return {self.metric: evaluate_recommender(recommender, self.validation, ks=(5, 10, 25))[self.metric]}


def _backup(directory, spec, stage):
    return directory and os.path.join(os.fspath(directory), spec["name"], stage)


def fit_recipe(spec, interactions, items=None, verbose=0, warm_start=None, backup_directory=None):
    """The recipe's recommender (a name or `{"name", "config"}`) trained on `interactions` (and the Items
    table, for a two-tower with item features), as a solution trains it; with `warm_start` (the previous
    version's recommender) a network starts from its weights and trains UPDATE_EPOCHS_SHARE of its epochs;
    with `backup_directory` a network backs its training up there each epoch and a restarted fit resumes
    (`kerasts.distributed.backup_callback`)."""
    recommender = RECIPES.create(spec)
    if hasattr(recommender, "verbose"):
        recommender.verbose = 2 if verbose else 0
    options = {}
    if warm_start is not None and RECIPES.get(spec).has_network:
        recommender.shorten_training(UPDATE_EPOCHS_SHARE)
        options["warm_start"] = warm_start
    if backup_directory and RECIPES.get(spec).has_network:
        options["callbacks"] = [backup_callback(backup_directory)]
    if getattr(recommender, "item_features", None):  # the recipe reads item metadata
        return recommender.fit(interactions, items, **options)
    return recommender.fit(interactions, **options)


def _checked_promotions(promotions):
    if not isinstance(promotions, (list, tuple)):
        raise TypeError(f"`promotions` must be a list of dicts, got {type(promotions).__name__}.")
    for promotion in promotions:
        if not isinstance(promotion, dict) or not {"name", "percentPromotedItems", "filter"} <= set(promotion):
            raise ValueError(f"A promotion needs 'name', 'percentPromotedItems' and 'filter', got {promotion!r}.")
        share = promotion["percentPromotedItems"]
        if isinstance(share, bool) or not isinstance(share, (int, float)) or not 1 <= share <= 100:
            raise ValueError(f"Promotion {promotion['name']!r}: percentPromotedItems must be 1 to 100, got {share!r}.")
    return promotions


def _check_count(name, value):
    check_positive_int(name, value)
    if value > MAX_RESULTS:
        raise ValueError(f"`{name}` must be at most {MAX_RESULTS} (Personalize's limit), got {value}.")


def _input_list(values, name="input_list"):
    """An input list's ids as strings, checked: a list of 1 to MAX_RESULTS ids."""
    if isinstance(values, (str, bytes)) or not isinstance(values, (list, tuple)):
        raise TypeError(f"`{name}` must be a list of item ids, got {type(values).__name__}.")
    if not values:
        raise ValueError(f"`{name}` is empty: give the item ids to rank.")
    if len(values) > MAX_RESULTS:
        raise ValueError(f"`{name}` holds {len(values)} items; at most {MAX_RESULTS} can be ranked at once "
                         "(Personalize's limit).")
    return list(dict.fromkeys(str(value) for value in values))  # the first of repeated ids


def _check_no_filter_values(filter_values):
    """Values for a filter's parameters, given without a filter, are refused rather than ignored."""
    if filter_values:
        raise ValueError(f"Values {dict(filter_values)} fill a filter's $parameters (`filter_values`; "
                         "`filterValues` in a request, `--filter-value` on the CLI), and no filter is given (`filter`; "
                         "`filterArn` in a request, `--filter` on the CLI).")


def _line_filter_values(values, filter, number):
    """A batch line's `filterValues`: an object of text values, for a job with a filter."""
    if values is None:
        return {}
    if filter is None:
        raise ValueError(f"line {number} gives filterValues, but the job has no filter.")
    if not isinstance(values, dict) or not all(isinstance(value, str) for value in values.values()):
        raise ValueError(f"line {number}'s filterValues must be an object of text values "
                         f'(e.g. {{"GENRES": "\\"comedy\\""}}), got {values!r}.')
    return values


def _items_and_scores(item_ids, scores):
    """Personalize's entries: each item with its score, where the recipe gives scores (None: it does not)."""
    if scores is None:
        return [{"itemId": str(item)} for item in item_ids]
    return [{"itemId": str(item), "score": float(score)} for item, score in zip(item_ids, scores)]


def _ranking_scores(recommender, ranked, unknown):
    """GetPersonalizedRanking's scores of the `ranked` items (their `Recommendations`) and then of the `unknown`
    ones: the softmax of the recipe's logits over the ranked items, 0 for an item it does not know (as
    Personalize scores an item absent from training); None where the recipe's scores are not logits."""
    logits = recommender.logits(np.asarray(ranked.scores, "float64"))
    if logits is None:
        return None
    return [*(scipy.special.softmax(logits) if len(logits) else []), *[0.0] * len(unknown)]


class SolutionVersion:
    """A trained solution version: the recipe's recommender fitted on every event, its metrics and
    the AutoML leaderboard. Made by `Solution.create_version`; `save` / `load_solution_version` keep it.

    `interactions` is the dataset's whole table (filters on Interactions read it), the recommender
    trained on `training_events()`, the events the solution's event type and threshold keep; `users`, the
    Users table or None, is what filters' `IF CurrentUser` conditions read (no recipe reads it)."""

    def __init__(self, spec, recommender, interactions, items, leaderboard, settings, users=None):
        self.spec, self.recommender = dict(spec), recommender
        self.interactions, self.items = interactions, items
        # The Users table as trained, and PutUsers' rows since by user id: a put changes one entry, where rebuilding
        # the table took 130 ms a put on a million users, and the filters' lookup of it 1.9 s after each (measured).
        self._users_table, self._put_users, self._user_rows = users, {}, None
        self.leaderboard, self.settings = leaderboard, dict(settings)
        self.recipe = RECIPES.get(spec)
        self._filters = {}
        self._item_metadata = None  # item id -> its Items row, made at the first request for metadata
        self._live_events = {}  # user id -> rows put since training, for filters on Interactions
        self._training_rows = None  # user id -> positions in `interactions`, made at the first filter

    def update(self, group, verbose=1):
        """Personalize's training_mode="UPDATE": a new version of the same recipe and settings on
        `group` (this version's data with new events and items), a network warm-started from this
        version's weights and trained a quarter of its epochs (`UPDATE_EPOCHS_SHARE`), a counting recipe
        counted again. As in Personalize, an update is not re-scored: its `leaderboard` and `metrics` are
        this version's, and `settings["training_mode"]` says "UPDATE"."""
        if not isinstance(group, DatasetGroup):
            raise TypeError(f"`group` must be a kerasts.personalize.DatasetGroup, got {type(group).__name__}.")
        events = group.events(self.settings["event_type"], self.settings["event_value_threshold"])
        if verbose:
            print(f"Updating {self.recipe_name} on {len(events):,} events...", flush=True)
        recommender = fit_recipe(self.spec, events, group.items, verbose, warm_start=self.recommender)
        return SolutionVersion(self.spec, recommender, group.interactions, group.items, self.leaderboard,
                               {**self.settings, "training_mode": "UPDATE"}, users=group.users)

    def training_events(self):
        return filter_events(self.interactions, event_types=self.settings["event_type"],
                             min_event_value=self.settings["event_value_threshold"])

    @property
    def recipe_name(self):
        return self.spec["name"]

    @property
    def metrics(self):
        """The served recipe's offline metrics under Personalize's names."""
        return self.leaderboard.loc[self.recipe_name].to_dict()

    def filter(self, expression):
        """The parsed `Filter` of an expression (parsed once, then reused)."""
        if isinstance(expression, Filter):
            return expression
        if expression not in self._filters:
            self._filters[expression] = Filter(expression, self.items, self.interactions,
                                               user_interactions=self.user_interactions,
                                               users=self._users_table, user_row=self.user_row)
        return self._filters[expression]

    def user_interactions(self, user_id):
        """The user's rows of the interactions table, then the events put since training."""
        if self._training_rows is None:
            self._training_rows = self.interactions.groupby(USER_COLUMN, sort=False).indices
        rows = self.interactions.iloc[self._training_rows.get(str(user_id), [])]
        live = self._live_events.get(str(user_id))
        return rows if not live else pd.concat([rows, pd.DataFrame(live)], ignore_index=True)

    def check_events(self, user_id, session_id=None):
        """Raises the `ValueError` that `put_events` would, before anything is changed (a session the
        user already left, for recipes that follow sessions)."""
        self.recommender.check_events(str(user_id), session_id)

    def put_events(self, user_id, events, session_id=None):
        """Personalize's PutEvents, in process: the user's new events (dicts in the Interactions layout:
        ITEM_ID, TIMESTAMP, optional EVENT_TYPE and EVENT_VALUE; in time order) change their next
        recommendations at once, with no retraining. Filters on Interactions see every event; the
        recipe learns from those the solution's `event_type` and `event_value_threshold` keep, as in
        training (HRNN advances the user's session state; the other recipes extend the user's history)."""
        self.put_events_batch([(user_id, events, session_id)])

    def put_events_batch(self, calls):
        """`put_events` for several users at once, `(user_id, events, session_id)` each, every user at most
        once: the recipe reads them together (HRNN in one model call), as a campaign applies concurrent
        PutEvents calls."""
        calls = [(str(user_id), events, session_id) for user_id, events, session_id in calls]
        check_distinct_users(calls)
        for user_id, _, session_id in calls:
            self.check_events(user_id, session_id)
        rows = [[{USER_COLUMN: user_id, **event, ITEM_COLUMN: str(event[ITEM_COLUMN])} for event in events]
                for user_id, events, _ in calls]
        table = pd.DataFrame([row for call in rows for row in call])
        # Every column, even with no events; an event without a type or value is not kept by a filter on them.
        for column in (USER_COLUMN, ITEM_COLUMN, "EVENT_TYPE", "EVENT_VALUE"):
            table[column] = table.get(column)
        learned = filter_events(table, self.settings["event_type"], self.settings["event_value_threshold"],
                                require_types=False).groupby(USER_COLUMN, sort=False)[ITEM_COLUMN].agg(list)
        self.recommender.put_events_batch([(user_id, learned[user_id], session_id) for user_id, _, session_id in calls
                                           if user_id in learned.index])
        for (user_id, _, _), call in zip(calls, rows):
            self._live_events.setdefault(user_id, []).extend(call)

    def check_items(self, rows):
        """The rows of `put_items` checked (new dicts, numbers given as text read as numbers), or the
        `ValueError` it would raise, changing nothing."""
        if self.items is None:
            raise ValueError("The dataset group has no Items table: PutItems needs one (its fields are the schema).")
        return check_metadata_rows(self.items, rows, ITEM_COLUMN, "item")

    def check_users(self, rows):
        """The rows of `put_users` checked as `check_items` checks items, against the Users table."""
        if self._users_table is None:
            raise ValueError("The dataset group has no Users table: PutUsers needs one (its fields are the schema).")
        return check_metadata_rows(self._users_table, rows, USER_COLUMN, "user")

    def put_users(self, rows):
        """Personalize's PutUsers, in process: users (dicts with USER_ID and the Users table's fields) added to
        the table or replacing their rows, which filters' `IF CurrentUser` conditions read at once."""
        self._put_users.update({str(row[USER_COLUMN]): row for row in self.check_users(rows)})

    @property
    def users(self):
        """The Users table with the rows PutUsers gave (each replacing its user's row), or None without one."""
        if self._users_table is None:
            return None
        return with_rows(self._users_table, list(self._put_users.values()), USER_COLUMN)

    @property
    def user_fields(self):
        """The Users table's fields, or None without one."""
        return None if self._users_table is None else list(self._users_table.columns)

    def user_row(self, user_id):
        """The user's fields (a dict: their put row, else their row of the Users table), or None."""
        user_id = str(user_id)
        if user_id in self._put_users:
            return self._put_users[user_id]
        if self._user_rows is None and self._users_table is not None:  # made at the first request that needs it
            self._user_rows = rows_by_id(self._users_table, USER_COLUMN)
        return (self._user_rows or {}).get(user_id)

    def put_items(self, rows):
        """Personalize's PutItems, in process: items (dicts with ITEM_ID and the Items table's fields) added
        to the table or replacing their rows, for filters and for recipes that read item metadata (the
        two-tower with item features indexes them, and HRNN-coldstart maps them into its catalog, so new
        items can be recommended at once)."""
        items = with_rows(self.items, self.check_items(rows), ITEM_COLUMN)
        if isinstance(self.recommender, TwoTowerRecommender) and self.recommender.item_features:
            self.recommender.index_catalog(self.interactions, items)
        elif getattr(self.recommender, "cold_start_items", False):
            self.recommender.add_items(items)
        self.items, self._filters, self._item_metadata = items, {}, None

    def _allowed(self, user_id, filter, filter_values, item_id=None):
        """The catalog's ids the filter lets through for the request (None: no filter)."""
        if filter is None:
            _check_no_filter_values(filter_values)
            return None
        ids = self.recommender.items.ids
        passing = self.filter(filter).allowed(ids, user_id, filter_values, item_id=item_id)
        return [item for item, keep in zip(ids, passing) if keep]

    def _context(self, user_id, item_id, ranking=False):
        if self.recipe.recipe_type == PERSONALIZED_RANKING and not ranking:
            raise ValueError(f"The {self.recipe_name} recipe ranks a given list of items for a user: use "
                             "get_personalized_ranking (GetPersonalizedRanking), or a USER_PERSONALIZATION recipe "
                             "for recommendations.")
        if self.recipe.recipe_type == RELATED_ITEMS and item_id is None:
            raise ValueError(f"The {self.recipe_name} recipe recommends items related to an item: give `item_id` "
                             "(`itemId` in a request or batch input line, `--item` on the CLI).")
        if self.recipe.recipe_type == USER_PERSONALIZATION and user_id is None:
            raise ValueError(f"The {self.recipe_name} recipe recommends for a user: give `user_id` (`userId` in a "
                             "request or batch input line, `--user` on the CLI).")
        user = None if user_id is None else str(user_id)
        item = None if item_id is None else str(item_id)
        # A related-items recipe reads only the item; the user, if given, is for filters.
        return (None, item) if self.recipe.recipe_type == RELATED_ITEMS else (user, item)

    def _check_ranks(self):
        if self.recipe.recipe_type not in RANKING_TYPES:
            raise ValueError(f"Personalized ranking needs a {' or '.join(RANKING_TYPES)} recipe; {self.recipe_name} "
                             f"is {self.recipe.recipe_type}.")

    def get_recommendations(self, user_id=None, item_id=None, num_results=25, filter=None, filter_values=None,
                            promotions=None, metadata_columns=None):
        """Personalize's GetRecommendations: `{"itemList": [{"itemId": ..., "score": ...}, ...]}`, best
        first. `filter` (an expression, see `kerasts.personalize.filters`) applies before the top
        `num_results` are taken, so that many come back when that many pass.

        Scores are Personalize's: each item's probability under the softmax of the network's logits over
        the whole catalog (they sum to 1 over it); a recipe without such logits (popularity, SIMS, Swing,
        the two-stage pipeline's blended task probabilities) gives no `score`, as Personalize's
        Popularity-Count and SIMS give none.

        `promotions`, as Personalize's: a list of `{"name", "percentPromotedItems", "filter",
        "filterValues"}`; each reserves that share of the list (rounded) for the best items passing its
        filter (and the main one). The list stays in the recipe's order, promoted items marked with
        their `promotionName`; slots a promotion cannot fill go to the other items. A list with
        promotions has no exploration slots (the cold-start recipe's): the promotions take the slots.

        `metadata_columns`, as Personalize's `metadataColumns`: `{"ITEMS": [column, ...]}` (at most 10 of the
        Items table's columns); each item then carries `"metadata"`, its values of those columns (a missing
        value left out).
        """
        answer, = self.get_recommendations_batch([{
            "user_id": user_id, "item_id": item_id, "num_results": num_results, "filter": filter,
            "filter_values": filter_values, "promotions": promotions, "metadata_columns": metadata_columns}])
        if isinstance(answer, Exception):
            raise answer
        return answer

    def get_recommendations_batch(self, requests):
        """`get_recommendations` for many requests at once (dicts of its keyword arguments), scored together
        (`Recommender.recommend_batch`: one model call per chunk), as a campaign answers concurrent requests.

        Returns:
            Per request, its answer, or in its place the ValueError or TypeError it raised (the others are
            answered all the same).
        """
        answers, queries, columns = [None] * len(requests), {}, {}
        for position, request in enumerate(requests):
            try:
                request = dict(request)
                columns[position] = self._metadata_columns(request.pop("metadata_columns", None))
                queries[position] = self._recommendation_query(**request)
            except (ValueError, TypeError) as error:
                answers[position] = error
        ranked = self.recommender.recommend_batch([query for query, _ in queries.values()])
        for (position, (_, promoting)), recommendations in zip(queries.items(), ranked):
            try:
                entries = (_items_and_scores(*recommendations) if promoting is None
                           else self._promoted(recommendations, **promoting))
                answers[position] = {"itemList": self._with_metadata(entries, columns[position])}
            except (ValueError, TypeError) as error:
                answers[position] = error
        return answers

    def _metadata_columns(self, metadata_columns):
        """A request's `metadata_columns` checked: the Items table's columns to return with each item, or None."""
        if metadata_columns is None:
            return None
        if (not isinstance(metadata_columns, dict) or set(metadata_columns) != {"ITEMS"}
                or not isinstance(metadata_columns["ITEMS"], list)
                or not all(isinstance(column, str) for column in metadata_columns["ITEMS"])):
            raise ValueError('`metadata_columns` must be {"ITEMS": [column, ...]} (`metadataColumns` in a request), '
                             f"got {metadata_columns!r}.")
        columns = metadata_columns["ITEMS"]
        if not 1 <= len(columns) <= MAX_METADATA_COLUMNS:
            raise ValueError(f"`metadata_columns` names 1 to {MAX_METADATA_COLUMNS} Items columns, got {len(columns)}.")
        if self.items is None:
            raise ValueError("`metadata_columns` reads the Items table, and the dataset group has none.")
        fields = [column for column in self.items.columns if column != ITEM_COLUMN]
        unknown = [column for column in columns if column not in fields]
        if unknown:
            raise ValueError(f"`metadata_columns`: the Items table has no column(s) {unknown}; it has {fields}.")
        return list(dict.fromkeys(columns))

    def _with_metadata(self, entries, columns):
        """The entries, each with `"metadata"`: its Items values of `columns` (none missing), when columns are asked."""
        if columns is None:
            return entries
        if self._item_metadata is None:
            self._item_metadata = rows_by_id(self.items, ITEM_COLUMN)
        for entry in entries:
            row = self._item_metadata.get(entry["itemId"], {})
            entry["metadata"] = {column: row[column] for column in columns
                                 if column in row and not pd.isna(row[column])}
        return entries

    def _recommendation_query(self, user_id=None, item_id=None, num_results=25, filter=None, filter_values=None,
                              promotions=None):
        """A GetRecommendations request checked: the recommender's query, and what promotions need (or None)."""
        user, item = self._context(user_id, item_id)
        _check_count("num_results", num_results)
        user_key = None if user_id is None else str(user_id)
        allowed = self._allowed(user_key, filter, filter_values, item)
        if not promotions:
            return {"user_id": user, "item_id": item, "k": num_results, "candidates": allowed,
                    "probabilities": True}, None
        # The whole catalog ranked, with no exploration slots: promotions take the slots.
        return ({"user_id": user, "item_id": item, "k": len(self.recommender.items), "candidates": allowed,
                 "explore": False, "probabilities": True},
                {"user_key": user_key, "item_key": item, "num_results": num_results,
                 "promotions": _checked_promotions(promotions)})

    def _promoted(self, ranked, user_key, item_key, num_results, promotions):
        """The list of `num_results` from a ranking of the catalog, each promotion's share its best passing items."""
        ranked_ids = [str(item_id_) for item_id_ in ranked.item_ids]
        promoted = {}  # item id -> promotion name
        for promotion in promotions:
            share = round(num_results * promotion["percentPromotedItems"] / 100)
            passing = set(self._allowed(user_key, promotion["filter"], promotion.get("filterValues"), item_key))
            chosen = [candidate for candidate in ranked_ids if candidate in passing and candidate not in promoted]
            promoted.update({candidate: promotion["name"] for candidate in chosen[:share]})
        others = [candidate for candidate in ranked_ids if candidate not in promoted]
        kept = set(list(promoted)[:num_results]) | set(others[:num_results - min(len(promoted), num_results)])
        entries = []
        for entry in _items_and_scores(ranked_ids, ranked.scores):
            if entry["itemId"] in kept:
                if entry["itemId"] in promoted:
                    entry["promotionName"] = promoted[entry["itemId"]]
                entries.append(entry)
        return entries

    def get_personalized_ranking(self, user_id, input_list, filter=None, filter_values=None, metadata_columns=None):
        """Personalize's GetPersonalizedRanking: `input_list` ordered for the user, as
        `{"personalizedRanking": [{"itemId", "score"}, ...]}`; items the solution does not know are
        ranked last (score 0) and listed in `"unknownItems"`; an item listed twice is ranked once. The
        scores are the softmax of the network's logits over the ranked items (Personalize's; none where the
        recipe has no logits, as in `get_recommendations`).
        `input_list` holds 1 to `MAX_RESULTS` (500) ids, as in Personalize. A PERSONALIZED_RANKING recipe
        serves only this; a USER_PERSONALIZATION recipe ranks too. `metadata_columns` as in
        `get_recommendations` (an unknown item's is empty)."""
        self._check_ranks()
        ids = _input_list(input_list)
        columns = self._metadata_columns(metadata_columns)
        known = set(self.recommender.items.ids)
        allowed = [item for item in ids if item in known]
        passing = self._allowed(str(user_id), filter, filter_values)
        if passing is not None:
            passing = set(passing)
            allowed = [item for item in allowed if item in passing]
        unknown = [item for item in ids if item not in known]
        ranked = self.recommender.recommend(user_id=str(user_id), k=max(1, len(allowed)), exclude_seen=False,
                                            candidates=allowed, explore=False) if allowed else Recommendations([], [])
        entries = _items_and_scores([*ranked.item_ids, *unknown], _ranking_scores(self.recommender, ranked, unknown))
        return {"personalizedRanking": self._with_metadata(entries, columns), "unknownItems": unknown}

    def batch_inference(self, input_path, output_path, num_results=25, filter=None, filter_values=None):
        """Personalize's batch inference job: JSON lines in (`{"userId": ...}`, `{"itemId": ...}`,
        `{"userId": ..., "itemList": [...]}`, each with optional `filterValues` for the `filter`'s
        parameters, over the job's `filter_values`), JSON lines out (`{"input": ..., "output":
        {"recommendedItems": [...], "scores": [...]}, "error": null}`, the scores as `get_recommendations`'
        and `get_personalized_ranking`'s, left out where the recipe gives none), in order; blank lines are skipped.
        A bad line gets its own error, naming its line number in the file, with its input as read (the
        object, or the text that is not JSON), and the job goes on; the
        requests are scored in batches through the model.

        Returns:
            `{"lines": n, "errors": n}`.
        """
        check_output_path(output_path)
        _check_count("num_results", num_results)
        if filter is None:
            _check_no_filter_values(filter_values)  # once for the job, not on every line
        try:
            with open(input_path) as handle:
                text = handle.read()
        except (OSError, UnicodeDecodeError) as error:
            raise ValueError(f"Cannot read the batch input {os.fspath(input_path)!r}: "
                             f"{getattr(error, 'strerror', None) or error}.") from error
        numbered = [(number, line) for number, line in enumerate(text.splitlines(), start=1) if line.strip()]
        requests, outputs = {"recommend": [], "rank": []}, [None] * len(numbered)
        for position, (number, line) in enumerate(numbered):
            request = None
            try:
                request = json_object(line, f"line {number}")
                unknown = sorted(set(request) - _BATCH_FIELDS)
                if unknown:
                    raise ValueError(f"line {number} has unknown field(s) {unknown}; a line has {sorted(_BATCH_FIELDS)} "
                                     "(the number of results is the job's).")
                user_id = None if request.get("userId") is None else str(request["userId"])
                user, item = self._context(user_id, request.get("itemId"), ranking="itemList" in request)
                allowed = self._allowed(user_id, filter, {**(filter_values or {}), **_line_filter_values(
                    request.get("filterValues"), filter, number)}, item)
                if "itemList" in request:
                    self._check_ranks()
                    listed = _input_list(request["itemList"], "itemList")
                    catalog = set(self.recommender.items.ids)
                    ranked = catalog & set(listed if allowed is None else allowed)
                    requests["rank"].append((position, request, (user, item),
                                             [value for value in listed if value in ranked],
                                             [value for value in listed if value not in catalog]))
                else:
                    requests["recommend"].append((position, request, (user, item), allowed, []))
            except (ValueError, TypeError) as error:
                message = str(error) if str(error).startswith(f"line {number} ") else f"line {number}: {error}"
                outputs[position] = {"input": line if request is None else request, "output": None, "error": message}
        for kind, batch in requests.items():
            if not batch:
                continue
            ranking = kind == "rank"
            k = max([len(candidates) for *_, candidates, _ in batch] + [1]) if ranking else num_results
            ranked = self.recommender.recommend_batch([
                {"user_id": user, "item_id": item, "k": k, "exclude_seen": not ranking, "explore": not ranking,
                 "candidates": candidates, "probabilities": not ranking}
                for _, _, (user, item), candidates, _ in batch])
            for (position, request, _, _, unknown), answer in zip(batch, ranked):
                scores = _ranking_scores(self.recommender, answer, unknown) if ranking else answer.scores
                output = {"recommendedItems": [str(item) for item in answer.item_ids] + unknown}
                if scores is not None:
                    output["scores"] = [float(score) for score in scores]
                outputs[position] = {"input": request, "output": output, "error": None}
        with replaced_atomically(output_path) as partial, open(partial, "w") as handle:
            for output in outputs:
                handle.write(json.dumps(output) + "\n")
        return {"lines": len(numbered), "errors": sum(output["error"] is not None for output in outputs)}

    def export(self, path, format="tf_saved_model", **options):
        """Writes the recipe's network's serving endpoints: a SavedModel directory, or with
        `format="litert"` a `.tflite` file of those LiteRT runs (the two-tower's `recommend_lists`,
        the session recipes' `step`; see `kerasts.export.export_litert`). The network alone: filters
        and promotions are the solution's, not the file's."""
        if not self.recipe.has_network:
            raise ValueError(f"The {self.recipe_name} recipe has no network to export.")
        self.recommender.model.export(path, format=format, **options)

    def save(self, directory):
        """Writes everything needed to recommend again (the network or the counts' interactions, the
        tables filters read, metrics, leaderboard), atomically."""
        with replaced_atomically(directory) as partial:
            os.makedirs(partial)
            self.recipe.save(self.recommender, partial)
            write_description(partial, VERSION_FILE, FORMAT_VERSION, {
                "recipe": self.spec, "settings": self.settings, "has_items": self.items is not None,
                "has_users": self._users_table is not None})
            self.interactions.to_csv(os.path.join(partial, "interactions.csv"), index=False)
            if self.items is not None:
                self.items.to_csv(os.path.join(partial, "items.csv"), index=False)
            if self._users_table is not None:
                self.users.to_csv(os.path.join(partial, "users.csv"), index=False)
            self.leaderboard.to_csv(os.path.join(partial, "leaderboard.csv"))


def load_solution_version(directory):
    """The solution version `SolutionVersion.save` wrote; it recommends what the saved one did."""
    return read_saved_directory(directory, VERSION_FILE, "solution version", FORMAT_VERSION, _read_version)


def _read_version(directory, description):
    ids = {USER_COLUMN: str, ITEM_COLUMN: str}
    interactions = pd.read_csv(os.path.join(directory, "interactions.csv"), dtype=ids)
    items = pd.read_csv(os.path.join(directory, "items.csv"), dtype=ids) if description["has_items"] else None
    # A version saved before kerasts kept the Users table has none.
    users = pd.read_csv(os.path.join(directory, "users.csv"), dtype=ids) if description.get("has_users") else None
    leaderboard = pd.read_csv(os.path.join(directory, "leaderboard.csv"), index_col=0)
    spec, settings = description["recipe"], description["settings"]
    events = filter_events(interactions, event_types=settings["event_type"],
                           min_event_value=settings["event_value_threshold"])
    recommender = RECIPES.get(spec).restore(spec.get("config", {}), directory, events, items)
    return SolutionVersion(spec, recommender, interactions, items, leaderboard, settings, users=users)
