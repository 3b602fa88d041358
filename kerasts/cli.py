"""The `kerasts` command line: `kerasts demo`, the Forecast workflow's `kerasts forecast ...` and the
Personalize workflow's `kerasts personalize ...`."""

import argparse
import contextlib
import json
import re
import sys
import warnings


def _positive_int(text):
    """argparse's type for counts: a whole number of at least 1, refused under the option's own name."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got {text!r}")
    return value


def _demo(arguments, parser):
    from kerasts.demo import run_demo

    run_demo(arguments.output_dir, epochs=arguments.epochs, num_samples=arguments.samples, seed=arguments.seed,
             num_networks=arguments.networks)


def _forecast_train(arguments, parser):
    from kerasts._files import check_output_directory
    from kerasts.forecast import DatasetGroup, train_predictor
    from kerasts.forecast.algorithms import AUTO_CANDIDATES, NEURAL_ALGORITHMS, algorithm_names

    if arguments.algorithm != "auto":
        for option, given in (("--candidates", arguments.candidates), ("--selection", arguments.selection != "best")):
            if given:
                parser.error(f"{option} is AutoPredictor's: give --algorithm auto (the default), not "
                             f"{arguments.algorithm!r}, or leave it out")
    if _writes_outputs(arguments):
        check_output_directory(arguments.output)  # before the training, not after
    candidates = arguments.candidates or AUTO_CANDIDATES
    trained = candidates if arguments.algorithm == "auto" else [arguments.algorithm]
    known = [name for name in trained if name in algorithm_names()]
    for option, value in (("--epochs", arguments.epochs), ("--likelihood", arguments.likelihood)):
        _refuse_unread(parser, option, value, NEURAL_ALGORITHMS, known)
    parameters = _settings_by_name(arguments.training_parameters, "--training-parameters", trained, "algorithm",
                                   '{"deepar": {"num_networks": 1, "context_length": 48}}')
    group = DatasetGroup(arguments.target, related=arguments.related, item_metadata=arguments.item_metadata,
                         frequency=arguments.frequency, domain=arguments.domain, dimensions=arguments.dimensions,
                         item_column=arguments.item, target_column=arguments.target_column,
                         timestamp_column=arguments.timestamp, past_only_columns=arguments.past_only_columns)

    def with_settings(name):  # --training-parameters, and the shorthands --epochs and --likelihood
        config = parameters.get(name, {})
        if name in NEURAL_ALGORITHMS:
            config = _with_shorthand(config, name, "--training-parameters", "--epochs", "epochs", arguments.epochs)
            config = _with_shorthand(config, name, "--training-parameters", "--likelihood", "likelihood",
                                     arguments.likelihood)
        return {"name": name, "config": config} if config else name

    with _training_scope(arguments):
        predictor = train_predictor(
            group, arguments.horizon, algorithm=with_settings(arguments.algorithm), forecast_types=arguments.forecast_types,
            backtest_windows=arguments.backtest_windows, backtest_window_offset=arguments.backtest_window_offset,
            forecast_origin=arguments.forecast_origin, selection=arguments.selection,
            candidates=[with_settings(name) for name in candidates], seed=arguments.seed,
            verbose=0 if arguments.quiet else 1, filling=_json_option(arguments.filling, "--filling"),
            train_on_filled=arguments.train_on_filled, holidays=arguments.holidays,
            holiday_attribute=arguments.holiday_attribute, backup_directory=arguments.backup_dir)
    if not _writes_outputs(arguments):
        print(f"Worker {arguments.worker_index} done; worker 0 writes {arguments.output}/")
        return
    if not arguments.quiet:
        print(f"Forecasting every series {arguments.horizon} steps ahead (kept with the predictor)...", flush=True)
    predictor.sample_paths()  # once, as Forecast's CreateForecast: query, export and plot read it
    predictor.save(arguments.output)
    print(_table(predictor.leaderboard, "Leaderboard (backtest averages, best first by Average wQL):"))
    for name, reason in predictor.settings["left_out"].items():
        print(f"Left out {name}: {reason}")
    print(f"\nChosen: {predictor.algorithm}. Saved the predictor to {arguments.output}/")


def _distributed_arguments(train):
    train.add_argument("--workers", help="train across machines: every worker's host:port, comma-separated, the "
                       "same on each (MultiWorkerMirroredStrategy)")
    train.add_argument("--worker-index", type=int, help="this machine's position in --workers (0 writes the output)")
    train.add_argument("--backup-dir", help="back the networks' training up here each epoch; the same command "
                       "restarted resumes from the last backup")


@contextlib.contextmanager
def _training_scope(arguments):
    """The training's distribution: across `--workers` as worker `--worker-index`, or this process alone.
    A candidate or recipe left out is not warned of: the command prints it after the table."""
    from kerasts.distributed import training_scope

    if bool(arguments.workers) != (arguments.worker_index is not None):
        raise ValueError("--workers and --worker-index go together: every worker runs the same command with the "
                         "same --workers and its own --worker-index (0 writes the output).")
    with training_scope(arguments.workers, arguments.worker_index), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="(AutoPredictor|AutoML) leaves ")
        yield


def _writes_outputs(arguments):
    return not arguments.workers or arguments.worker_index == 0


def _json_option(value, option):
    """A JSON option given inline or as the path of a .json file; None stays None."""
    if value is None:
        return None
    text = value
    if not value.lstrip().startswith(("{", "[")):
        try:
            with open(value) as file:
                text = file.read()
        except OSError as error:
            raise ValueError(f"{option} takes JSON or the path of a JSON file; cannot read {value!r}: {error}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{option} is not valid JSON ({error}): {text[:80]!r}") from None


def _settings_by_name(value, option, trained, kind, example):
    """A JSON option of name -> settings (an algorithm's or a recipe's arguments), naming only what is trained."""
    settings = _json_option(value, option) or {}
    if not isinstance(settings, dict) or not all(isinstance(config, dict) for config in settings.values()):
        raise ValueError(f"{option} takes a JSON object of {kind} name -> its settings, e.g. {example}.")
    unknown = sorted(set(settings) - set(trained))
    if unknown:
        raise ValueError(f"{option} names {unknown}, which this run does not train; it trains {list(trained)}.")
    return settings


def _refuse_unread(parser, option, value, readers, trained):
    """An option that none of the algorithms or recipes a run trains reads is refused, not silently dropped
    (`trained`: the run's known names; an unknown one is named later, by the workflow)."""
    if value is not None and trained and not set(trained) & set(readers):
        parser.error(f"{option} is read by {', '.join(readers)}; this run trains {', '.join(trained)}, which "
                     f"{'does' if len(trained) == 1 else 'do'} not read it: leave it out")


def _with_shorthand(settings, name, settings_option, option, key, value):
    """`settings` (from `settings_option`) with `key` set by a shorthand `option` (e.g. --epochs) when given;
    both setting it is refused. A dotted `key` ("retrieval.epochs") sets a nested setting."""
    if value is None:
        return settings
    *parents, last = key.split(".")
    settings = dict(settings)
    level = settings
    for parent in parents:
        inner = level.get(parent) or {}
        if not isinstance(inner, dict):
            raise ValueError(f"{settings_option} gives {name}'s {parent!r} as {inner!r}: expected a dict of settings.")
        level[parent] = dict(inner)
        level = level[parent]
    if last in level:
        raise ValueError(f"{option} and {settings_option} both set {name}'s {key!r}: give it once.")
    level[last] = value
    return settings


def _table(frame, title):
    return title + "\n" + frame.to_string(float_format=lambda value: f"{value:.4f}")


def _load(arguments):
    from kerasts.forecast import load_predictor

    return load_predictor(arguments.predictor)


def _forecast_evaluate(arguments, parser):
    predictor = _load(arguments)
    print(_table(predictor.leaderboard, "Leaderboard (backtest averages, best first by Average wQL):"))
    print("\n" + _table(predictor.metrics, f"{predictor.algorithm} per backtest window:"))


def _forecast_export(arguments, parser):
    from kerasts._files import check_output_path

    predictor = _load(arguments)
    check_output_path(arguments.output)
    predictor.forecast(origin=arguments.origin).to_csv(arguments.output, index=False)
    print(f"Wrote {arguments.output}")
    if arguments.backtest:
        predictor.export_backtest(arguments.backtest)
        print(f"Wrote {arguments.backtest}/ (forecasted-values.csv, accuracy-metric-values.csv)")
    if arguments.saved_model:
        predictor.export(arguments.saved_model)
        print(f"Wrote {arguments.saved_model}/ (the model's SavedModel)")


def _forecast_what_if(arguments, parser):
    import pandas as pd

    from kerasts._files import check_output_path

    predictor = _load(arguments)
    check_output_path(arguments.output)
    replacements = None
    if arguments.replacements:
        try:
            replacements = pd.read_csv(arguments.replacements, dtype={column: str for column in
                                                                      predictor.panel.keys.columns})
        except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
            raise ValueError(f"Cannot read --replacements {arguments.replacements!r}: {error}") from None
    table = predictor.what_if(replacements, _json_option(arguments.transformations, "--transformations"))
    table.to_csv(arguments.output, index=False)
    print(f"Wrote {arguments.output} (baseline and what-if forecasts side by side)")


def _forecast_explain(arguments, parser):
    from kerasts._files import check_output_path

    predictor = _load(arguments)
    for path in (arguments.output, arguments.per_item, arguments.plot):
        if path:
            check_output_path(path)
    overall, per_item = predictor.impact_scores()
    print(_table(overall, "Impact scores (ablation; in [-1, 1], positive raises the forecast):"))
    overall.to_csv(arguments.output)
    print(f"Wrote {arguments.output}")
    if arguments.per_item:
        per_item.to_csv(arguments.per_item)
        print(f"Wrote {arguments.per_item}")
    if arguments.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from kerasts.plotting import plot_impact_scores

        axes = plot_impact_scores(overall, title=f"Impact scores: {predictor.algorithm}")
        axes.figure.savefig(arguments.plot, dpi=100)
        plt.close(axes.figure)
        print(f"Wrote {arguments.plot}")


def _name_values(pairs, option, parser):
    """`["a=1", ...]` of a repeatable NAME=VALUE option -> `{"a": "1", ...}`."""
    values = {}
    for pair in pairs or []:
        name, separator, value = pair.partition("=")
        if not separator:
            parser.error(f"{option} takes NAME=VALUE, got {pair!r}")
        values[name] = value
    return values


def _forecast_query(arguments, parser):
    predictor = _load(arguments)
    dimensions = _name_values(arguments.dimension, "--dimension", parser)
    print(json.dumps(predictor.query_forecast(arguments.item, **dimensions), indent=1))


def _forecast_plot(arguments, parser):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from kerasts._files import check_output_path
    from kerasts.plotting import plot_fan_chart

    predictor = _load(arguments)
    check_output_path(arguments.output)
    row = predictor.series_row(arguments.item, **_name_values(arguments.dimension, "--dimension", parser))
    part = predictor.panel.select([row])
    horizon = predictor.forecast_horizon
    paths, origin = predictor.sample_paths()[row], int(predictor.origins()[row])
    if origin < 0:
        raise ValueError(f"Series {arguments.item!r} has no observation to forecast from.")
    shown = min(origin, 4 * horizon)
    figure, ax = plt.subplots(figsize=(9, 3.5), constrained_layout=True)
    plot_fan_chart(part.target[0, :origin], np.full(horizon, np.nan), paths,
                   title=f"{arguments.item}: {predictor.algorithm}", ax=ax, history_steps=shown,
                   history_dates=part.timestamps[:origin],
                   future_dates=part.step_timestamps(origin, horizon))
    figure.savefig(arguments.output, dpi=100)
    plt.close(figure)
    print(f"Wrote {arguments.output}")


def _personalize_train(arguments, parser):
    from kerasts._files import check_output_directory
    from kerasts.personalize import DatasetGroup, create_solution
    from kerasts.personalize.recipes import RECIPE_TYPES, RECIPES, recipe_names

    if arguments.recipe_type not in (None, *RECIPE_TYPES):
        parser.error(f"argument --recipe-type: must be one of {', '.join(RECIPE_TYPES)}, got {arguments.recipe_type!r}")
    if _writes_outputs(arguments):
        check_output_directory(arguments.output)
    if arguments.update is not None:
        version = _personalize_update(arguments)
    else:
        if arguments.interactions is None:
            raise ValueError("--interactions is required (without --update, which reads the version's own).")
        recipe, recipe_type = arguments.recipe or "auto", arguments.recipe_type or "USER_PERSONALIZATION"
        auto = recipe == "auto"
        searched = recipe_names(recipe_type) if auto else [recipe]
        networked = [name for name in RECIPES.names() if RECIPES.get(name).has_network]
        _refuse_unread(parser, "--epochs", arguments.epochs, networked,
                       [name for name in searched if name in RECIPES.names()])
        settings = _settings_by_name(arguments.hyperparameters, "--hyperparameters", searched, "recipe",
                                     '{"hrnn": {"units": 64, "epochs": 20}}')
        for name in searched:
            for key in RECIPES.get(name).epoch_settings if name in networked else ():
                settings[name] = _with_shorthand(settings.get(name, {}), name, "--hyperparameters", "--epochs", key,
                                                 arguments.epochs)
        settings = {name: config for name, config in settings.items() if config}
        group = _with_stored_events(DatasetGroup(arguments.interactions, users=arguments.users, items=arguments.items),
                                    arguments)
        solution = create_solution(group, recipe=None if auto else recipe, perform_auto_ml=auto,
                                   recipe_type=recipe_type, event_type=arguments.event_type,
                                   event_value_threshold=arguments.event_value_threshold, settings=settings,
                                   perform_hpo=arguments.hpo_trials is not None,
                                   hpo_trials=8 if arguments.hpo_trials is None else arguments.hpo_trials)
        with _training_scope(arguments):
            version = solution.create_version(seed=arguments.seed, verbose=0 if arguments.quiet else 1,
                                              backup_directory=arguments.backup_dir)
    if not _writes_outputs(arguments):
        print(f"Worker {arguments.worker_index} done; worker 0 writes {arguments.output}/")
        return
    version.save(arguments.output)
    if arguments.update is None:
        print(_solution_metrics(version))
        for name, reason in version.settings["left_out"].items():
            print(f"Left out {name}: {reason}")
    print(f"\nServing: {version.recipe_name}" + (" (updated; an update is not re-scored: `evaluate` shows the "
                                                 "version's metrics it continued)" if arguments.update else "")
          + f". Saved the solution version to {arguments.output}/")


def _with_stored_events(group, arguments):
    from kerasts.serving.campaign import with_stored_data

    if arguments.events is None:
        return group
    grown = with_stored_data(group, arguments.events)
    if not arguments.quiet:
        print(f"Added {len(grown.interactions) - len(group.interactions):,} events from {arguments.events} (those "
              "already in the interactions left out).")
    return grown


def _personalize_update(arguments):
    """Training mode UPDATE on the version in `--update`: its recipe and settings, so the options that choose
    them are refused rather than ignored."""
    from kerasts.personalize import DatasetGroup, load_solution_version

    given = [option for option, value in (("--recipe", arguments.recipe), ("--recipe-type", arguments.recipe_type),
                                          ("--event-type", arguments.event_type),
                                          ("--event-value-threshold", arguments.event_value_threshold),
                                          ("--epochs", arguments.epochs), ("--hpo-trials", arguments.hpo_trials),
                                          ("--hyperparameters", arguments.hyperparameters),
                                          ("--workers", arguments.workers), ("--backup-dir", arguments.backup_dir))
             if value is not None]
    if given:
        raise ValueError(f"--update continues the version's recipe and settings in this process: drop {given}.")
    previous = load_solution_version(arguments.update)
    group = DatasetGroup(previous.interactions if arguments.interactions is None else arguments.interactions,
                         users=previous.users if arguments.users is None else arguments.users,
                         items=previous.items if arguments.items is None else arguments.items)
    return previous.update(_with_stored_events(group, arguments), verbose=0 if arguments.quiet else 1)


def _load_version(arguments):
    from kerasts.personalize import load_solution_version

    return load_solution_version(arguments.solution)


def _solution_metrics(version):
    metric = version.settings.get("auto_ml_metric")  # not recorded by versions saved before 2026-12
    return _table(version.leaderboard, "Offline metrics (Personalize's split, best first" + (
        f" by {metric}):" if metric else "):"))


def _personalize_evaluate(arguments, parser):
    version = _load_version(arguments)
    print(_solution_metrics(version))
    print(f"\nServing: {version.recipe_name}")


def _personalize_recommend(arguments, parser):
    version = _load_version(arguments)
    answer = version.get_recommendations(user_id=arguments.user, item_id=arguments.item,
                                         num_results=arguments.num_results, filter=arguments.filter,
                                         filter_values=_name_values(arguments.filter_value, "--filter-value", parser),
                                         metadata_columns=_metadata_columns(arguments))
    print(json.dumps(answer, indent=1))


def _personalize_rank(arguments, parser):
    version = _load_version(arguments)
    values = _name_values(arguments.filter_value, "--filter-value", parser)
    listed = [item for items in arguments.items for item in items.split(",") if item]
    answer = version.get_personalized_ranking(arguments.user, listed, filter=arguments.filter, filter_values=values,
                                              metadata_columns=_metadata_columns(arguments))
    print(json.dumps(answer, indent=1))


def _metadata_columns(arguments):
    return None if arguments.metadata_columns is None else {"ITEMS": arguments.metadata_columns}


def _personalize_batch(arguments, parser):
    version = _load_version(arguments)
    counts = version.batch_inference(arguments.input, arguments.output, num_results=arguments.num_results,
                                     filter=arguments.filter,
                                     filter_values=_name_values(arguments.filter_value, "--filter-value", parser))
    print(f"Wrote {arguments.output}: {counts['lines']} lines, {counts['errors']} with errors")


def _personalize_serve(arguments, parser):
    import os

    from kerasts.serving.server import serve

    api_key = None
    if arguments.api_key_env is not None:
        api_key = os.environ.get(arguments.api_key_env)
        if not api_key:
            parser.error(f"--api-key-env names {arguments.api_key_env}, which is not set")
    filters = _name_values(arguments.filter, "--filter", parser)
    serve(arguments.solution, arguments.events, host=arguments.host, port=arguments.port, filters=filters,
          api_key=api_key, max_batch=arguments.max_batch, create_event_tracker=arguments.create_event_tracker)


def _personalize_create_event_tracker(arguments, parser):
    from kerasts.serving.event_store import open_event_store

    store = open_event_store(arguments.events)
    print(store.create_tracker())
    store.close()


def _personalize_parser(commands):
    personalize = commands.add_parser("personalize", help="Amazon Personalize's workflow on your tables")
    personalize = personalize.add_subparsers(dest="personalize_command", required=True)
    train = personalize.add_parser("train", help="train a solution version (one recipe or AutoML) and its metrics")
    train.add_argument("--interactions", help="interactions CSV (USER_ID, ITEM_ID, TIMESTAMP, ...); with --update, "
                                              "the version's own by default")
    train.add_argument("--users", help="users CSV (filters' IF CurrentUser conditions read it); with --update, the "
                                       "version's own by default")
    train.add_argument("--items", help="items CSV; with --update, the version's own by default")
    train.add_argument("--events", help="a campaign's event store (SQLite file or database URL): its PutEvents "
                                        "events, PutUsers users and PutItems items join the tables, as Personalize's "
                                        "event tracker adds them to the datasets")
    train.add_argument("--update", metavar="SOLUTION", help="training mode UPDATE: continue this solution version "
                                                            "(its recipe and settings, a quarter of its epochs "
                                                            "from its weights) on the tables")
    train.add_argument("--recipe", help="auto (AutoML over the recipe type, the default) or one recipe")
    train.add_argument("--recipe-type", help="the recipe type AutoML searches: USER_PERSONALIZATION (the default), "
                                             "PERSONALIZED_RANKING or RELATED_ITEMS")
    train.add_argument("--event-type", help="train on this event type only")
    train.add_argument("--event-value-threshold", type=float, help="train on events with EVENT_VALUE at least this")
    train.add_argument("--epochs", type=_positive_int, help="epochs of the neural recipes' networks, the two-stage's "
                       "two-tower's and ranker's alike (their defaults otherwise)")
    train.add_argument("--hyperparameters", metavar="JSON",
                       help='settings per recipe as JSON (or a .json file), e.g. \'{"hrnn": {"units": 64}}\', as '
                            "Personalize's algorithmHyperParameters: the arguments of its recommender class")
    train.add_argument("--hpo-trials", type=_positive_int,
                       help="tune each recipe first, with this many random-search trials (settings given by "
                            "--hyperparameters or --epochs stay fixed)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--quiet", action="store_true", help="no progress lines")
    train.add_argument("--output", required=True, help="the solution version directory to write")
    _distributed_arguments(train)
    train.set_defaults(run=_personalize_train, python_names={
        "interactions": "--interactions", "users": "--users", "items": "--items", "event_types": "--event-type",
        "min_event_value": "--event-value-threshold"})
    evaluate = personalize.add_parser("evaluate", help="print the offline metrics")
    evaluate.add_argument("solution")
    evaluate.set_defaults(run=_personalize_evaluate)
    for name, run, help_text in (("recommend", _personalize_recommend, "GetRecommendations for a user or an item"),
                                 ("rank", _personalize_rank, "GetPersonalizedRanking of a list for a user"),
                                 ("batch", _personalize_batch, "a batch inference job over JSON lines")):
        command = personalize.add_parser(name, help=help_text)
        command.add_argument("solution")
        if name == "recommend":
            command.add_argument("--user")
            command.add_argument("--item")
        if name == "rank":
            command.add_argument("--user", required=True)
            command.add_argument("--items", required=True, nargs="+",
                                 help="the item ids to rank, separated by spaces or commas")
        if name == "batch":
            command.add_argument("--input", required=True, help="JSON lines: {\"userId\": ...} or {\"itemId\": ...}")
            command.add_argument("--output", required=True, help="the JSON lines to write")
        if name != "rank":
            command.add_argument("--num-results", type=_positive_int, default=25)
        if name != "batch":
            command.add_argument("--metadata-columns", nargs="+", metavar="COLUMN",
                                 help="Items columns each item carries in its \"metadata\" (metadataColumns)")
        command.add_argument("--filter", help='e.g. \'EXCLUDE ItemID WHERE Items.GENRE IN ("horror")\'')
        command.add_argument("--filter-value", action="append", help="NAME=VALUE of a $NAME in the filter")
        command.set_defaults(run=run, python_names={"num_results": "--num-results",
                                                    "metadata_columns": "--metadata-columns"})
    serve = personalize.add_parser("serve", help="a campaign over HTTP: recommendations and live events "
                                   "(kerasts[serve])")
    serve.add_argument("solution")
    serve.add_argument("--events", required=True, help="the event database: a SQLite file or a database URL")
    serve.add_argument("--host", default="127.0.0.1", help="the address to listen on (TLS: a reverse proxy's job)")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--filter", action="append", help="NAME=EXPRESSION, a filter requests name in filterArn")
    serve.add_argument("--api-key-env", help="the environment variable holding the X-Api-Key requests must carry")
    serve.add_argument("--max-batch", type=_positive_int, default=64,
                       help="the most requests answered together (default 64)")
    serve.add_argument("--create-event-tracker", action="store_true", help="print a new trackingId at start")
    serve.set_defaults(run=_personalize_serve)
    tracker = personalize.add_parser("create-event-tracker", help="print a new trackingId for PutEvents")
    tracker.add_argument("--events", required=True, help="the event database the campaign uses")
    tracker.set_defaults(run=_personalize_create_event_tracker)


def _parser():
    parser = argparse.ArgumentParser(prog="kerasts", description="Keras 3 forecasting and recommendation zoo.")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="train on the bundled data, print metrics, write plots and a SavedModel")
    demo.add_argument("--output-dir", default="demo_output", help="where plots and the SavedModel go")
    demo.add_argument("--epochs", type=_positive_int, help="every network's epochs (DeepAR's of 50 batches), for a "
                      "quick run; default: each part's own (DeepAR 20, recommenders 8, session models 30, MMoE 10)")
    demo.add_argument("--samples", type=_positive_int, default=100, help="sample paths per forecast")
    demo.add_argument("--networks", type=_positive_int, default=3, help="DeepAR networks pooled (its num_networks)")
    demo.add_argument("--seed", type=int, default=0)
    demo.set_defaults(run=_demo)

    forecast = commands.add_parser("forecast", help="Amazon Forecast's workflow on your tables").add_subparsers(
        dest="forecast_command", required=True)
    train = forecast.add_parser("train", help="train a predictor (one algorithm or AutoPredictor) and backtest it")
    train.add_argument("--target", required=True, help="target time series CSV")
    train.add_argument("--related", help="related time series CSV")
    train.add_argument("--item-metadata", help="item metadata CSV")
    train.add_argument("--past-only-columns", nargs="+", default=[], metavar="COLUMN",
                       help="related columns known only up to the forecast start (no future values needed)")
    train.add_argument("--frequency", required=True,
                       help="forecast frequency, e.g. H, D, W, M; step-12 for step numbers with a season of 12")
    train.add_argument("--horizon", type=_positive_int, required=True, help="steps to forecast")
    train.add_argument("--algorithm", default="auto", help="auto (AutoPredictor) or one algorithm")
    train.add_argument("--candidates", nargs="+", help="AutoPredictor's algorithms")
    train.add_argument("--selection", default="best", choices=["best", "ensemble", "per_item"],
                       help="AutoPredictor: one algorithm, the quantile average of the three best, or each item's best")
    train.add_argument("--backtest-windows", type=_positive_int, default=1,
                       help="windows at the end of the data that score (and choose) the algorithms (default 1, "
                            "as Forecast's)")
    train.add_argument("--backtest-window-offset", type=_positive_int,
                       help="steps between the windows' starts (default: the horizon)")
    train.add_argument("--forecast-types", nargs="+", default=["0.1", "0.5", "0.9"])
    train.add_argument("--forecast-origin", default="dataset_end", choices=["dataset_end", "series_end"],
                       help="backtest and forecast each series from the dataset's end or its own last observation")
    train.add_argument("--domain", default="CUSTOM", help="Forecast's dataset domain (names the fields)")
    train.add_argument("--dimensions", nargs="*", default=[], help="further key columns, e.g. store")
    train.add_argument("--item", help="the series column (default: the domain's, e.g. item_id)")
    train.add_argument("--target-column", help="the target column (default: the domain's, e.g. target_value)")
    train.add_argument("--timestamp", default="timestamp", help="the timestamp column")
    train.add_argument("--filling", help="Forecast's missing-value filling as JSON (or a .json path), e.g. "
                       '\'{"target_value": {"middlefill": "mean", "backfill": "nan"}}\'')
    train.add_argument("--train-on-filled", action="store_true",
                       help="train on and score filled target values as if recorded (default: inputs only)")
    train.add_argument("--holidays", nargs="+", default=[], metavar="COUNTRY",
                       help="country codes whose public holidays DeepAR reads as features, e.g. US")
    train.add_argument("--holiday-attribute", metavar="COLUMN",
                       help="instead, the item-metadata column holding each item's country code")
    train.add_argument("--epochs", type=_positive_int, help="epochs of the neural algorithms (their default otherwise)")
    train.add_argument("--likelihood", help="the likelihood of DeepAR and the MLP, e.g. negative_binomial; auto picks "
                                            "it by the targets' support and says which (DeepAR's default)")
    train.add_argument("--training-parameters", metavar="JSON",
                       help='settings per algorithm as JSON (or a .json file), e.g. \'{"deepar": {"num_networks": 1, '
                            '"context_length": 48}}\': the arguments of its forecaster class')
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--quiet", action="store_true", help="no progress lines")
    train.add_argument("--output", required=True, help="the predictor directory to write")
    _distributed_arguments(train)
    train.set_defaults(run=_forecast_train, python_names={
        "target_table": "--target", "related_table": "--related", "forecast_horizon": "--horizon",
        "forecast_types": "--forecast-types", "past_only_columns": "--past-only-columns", "filling": "--filling",
        "selection": "--selection", "holidays": "--holidays", "holiday_attribute": "--holiday-attribute",
        "backtest_window_offset": "--backtest-window-offset"})
    evaluate = forecast.add_parser("evaluate", help="print the leaderboard and the backtest metrics")
    evaluate.add_argument("predictor")
    evaluate.set_defaults(run=_forecast_evaluate)
    export = forecast.add_parser("export", help="write every item's forecast in Forecast's export layout")
    export.add_argument("predictor")
    export.add_argument("--output", required=True, help="the forecast CSV to write")
    export.add_argument("--origin", choices=["dataset_end", "series_end"],
                        help="forecast from the dataset's end or each series' own (default: the predictor's)")
    export.add_argument("--backtest", help="also write the backtest export into this directory")
    export.add_argument("--saved-model", help="also write the model's SavedModel into this directory")
    export.set_defaults(run=_forecast_export)
    what_if = forecast.add_parser("what-if", help="forecast with changed related series, next to the baseline")
    what_if.add_argument("predictor")
    what_if.add_argument("--replacements", help="a CSV in the related table's layout with the values to use")
    what_if.add_argument("--transformations", help="Forecast's TimeSeriesTransformations as JSON (or a .json path)")
    what_if.add_argument("--output", required=True, help="the CSV to write")
    what_if.set_defaults(run=_forecast_what_if, python_names={"replacements": "--replacements",
                                                              "transformations": "--transformations"})
    explain = forecast.add_parser("explain", help="impact scores of the related series and item attributes")
    explain.add_argument("predictor")
    explain.add_argument("--output", required=True, help="the CSV of overall scores to write")
    explain.add_argument("--per-item", help="also write each item's scores to this CSV")
    explain.add_argument("--plot", help="also draw the overall scores into this PNG")
    explain.set_defaults(run=_forecast_explain)
    for name, run, help_text in (("query", _forecast_query, "print one item's forecast as QueryForecast does"),
                                 ("plot", _forecast_plot, "plot one item's history and forecast")):
        command = forecast.add_parser(name, help=help_text)
        command.add_argument("predictor")
        command.add_argument("--item", required=True)
        command.add_argument("--dimension", action="append", help="NAME=VALUE of a further key, repeatable")
        if name == "plot":
            command.add_argument("--output", required=True, help="the PNG to write")
        command.set_defaults(run=run)
    _personalize_parser(commands)
    return parser


def main(argv=None):
    parser = _parser()
    arguments = parser.parse_args(argv)
    with warnings.catch_warnings():
        warnings.showwarning = _warning_printer()
        try:
            arguments.run(arguments, parser)
        except (ValueError, TypeError) as error:  # bad input: its message, not a traceback
            parser.error(_with_option_names(str(error), getattr(arguments, "python_names", {})))
    return 0


def _with_option_names(message, python_names):
    """The workflows' messages name their Python arguments (`forecast_horizon`); a command's user gave its
    options (--horizon): each argument the command maps to an option is named as that option."""
    return re.sub(r"`(\w+)`", lambda match: python_names.get(match.group(1), match.group(0)), message)


def _warning_printer():
    """Prints each warning's text once, as `Warning: ...`: the command's user needs the advice, not the line of
    our code that gave it, nor the same advice for each network trained."""
    printed = set()

    def show(message, category, filename, lineno, file=None, line=None):
        if str(message) not in printed:
            printed.add(str(message))
            print(f"Warning: {message}", file=sys.stderr if file is None else file, flush=True)

    return show


if __name__ == "__main__":
    sys.exit(main())
