"""`make demo`: the Forecast workflow on the bundled electricity data, then the recommenders.

AutoPredictor backtests DeepAR, the likelihood-head MLP, NPTS and seasonal naive on the last 7 days
(24-hour windows), prints the leaderboard, trains the winner on all the data and writes its forecast
CSV (Forecast export layout), a fan chart, the predictor and its SavedModel. Then the
Personalize workflow (AutoML over the recipes, a filter, a batch job) and HRNN on sessions on
generated interactions, and MMoE on the synthetic multi-task data, each against its baselines.
"""

import os

import keras

from kerasts._files import writable_directory
from kerasts.data import load_electricity_sample
from kerasts.forecast import DatasetGroup, train_predictor
from kerasts.optimizers import Adam


def run_demo(output_dir="demo_output", epochs=None, num_samples=100, seed=0, num_networks=3, log=print):
    """Runs the demo; returns the forecasting leaderboard (one row per candidate algorithm). `epochs` sets
    every network's (DeepAR's of 50 batches), for a quick run; None keeps each part's own (DeepAR 20, the
    recommenders 8, the session models 30, MMoE 10)."""
    given_epochs = {} if epochs is None else {"epochs": epochs}
    writable_directory(output_dir)  # before minutes of training, not after
    group = DatasetGroup(load_electricity_sample(), frequency="H")
    panel = group.panel()
    log(f"Bundled UCI electricity sample: {len(panel.keys)} clients x {len(panel.timestamps)} hours. AutoPredictor "
        "backtests DeepAR, the likelihood-head MLP, NPTS and seasonal naive on the last 7 days in 24-hour windows "
        "(each trained on the data before them), keeps the lowest Average wQL and trains it on all the data.")
    deepar = {"epochs": 20, **given_epochs, "seed": seed, "num_networks": num_networks}
    candidates = ({"name": "deepar", "config": deepar}, "mlp", "npts", "seasonal_naive")
    predictor = train_predictor(group, 24, backtest_windows=7, candidates=candidates, num_samples=num_samples,
                                seed=seed, verbose=0)
    table = predictor.leaderboard
    log("\nLeaderboard (backtest averages, best first):\n" + table.to_string(float_format=lambda value: f"{value:.3f}"))
    log(f"Chosen: {predictor.algorithm}.")
    table.to_csv(os.path.join(output_dir, "metrics.csv"))
    forecast_path = os.path.join(output_dir, "forecast.csv")
    predictor.forecast().to_csv(forecast_path, index=False)
    plot_path = os.path.join(output_dir, "fan_chart.png")
    _write_fan_charts(plot_path, predictor)
    predictor_path = os.path.join(output_dir, "predictor")
    predictor.save(predictor_path)
    written = f"{forecast_path} (the next 24 hours), {plot_path}, metrics.csv, {predictor_path}/ (kerasts forecast " \
              "evaluate|export|query|plot read it)"
    if getattr(predictor.forecaster, "model", None) is not None:
        saved_model_path = os.path.join(output_dir, "saved_model")
        predictor.export(saved_model_path)
        written += f" and {saved_model_path}/ (the {predictor.algorithm} network's SavedModel)"
    log(f"Wrote {written}.")
    run_recommendation_demo(output_dir, seed=seed, log=log, **given_epochs)
    run_session_demo(output_dir, seed=seed, log=log, **given_epochs)
    run_multitask_demo(output_dir, seed=seed, log=log, **given_epochs)
    return table


RECOMMENDATION_METRICS = ["recall_at_10", "normalized_discounted_cumulative_gain_at_10", "mean_reciprocal_rank_at_25",
                          "recall_at_25", "coverage"]


def run_recommendation_demo(output_dir="demo_output", epochs=8, seed=0, log=print):
    """The Personalize workflow on generated interactions: AutoML over the user-personalization recipes
    and the related-items ones on Personalize's split, a filter, a batch job over every user, the saved
    solution version and its SavedModel. Returns the leaderboard."""
    import json
    import time

    import pandas as pd

    from kerasts.data import synthetic_interactions
    from kerasts.personalize import DatasetGroup, create_solution

    events = synthetic_interactions(seed=seed)
    catalog = pd.DataFrame({"ITEM_ID": sorted(events["ITEM_ID"].unique())})  # the Items table: every item
    group = DatasetGroup(events, items=catalog)
    log(f"\nThe Personalize workflow on generated interactions: {events['USER_ID'].nunique()} users, "
        f"{events['ITEM_ID'].nunique()} items, {len(events):,} events. AutoML trains every user-personalization "
        "recipe and the related-items ones on Personalize's split (10% of users held out, their newest 10% of "
        "events the truth) and serves the best by NDCG@10, retrained on every event.")
    sessions = {"epochs": epochs, "session_gap_seconds": 2 * 86400, "seed": seed}  # a new session after two idle days
    settings = {"two-tower": {"embedding_dim": 32, "history_length": 20, "epochs": epochs, "batch_size": 256,
                              "learning_rate": 3e-3, "seed": seed}, "hrnn": sessions, "gru4rec": sessions,
                "two-stage": {"epochs": epochs, "retrieval": {"epochs": epochs}, "seed": seed}}
    version = create_solution(group, perform_auto_ml=True, settings=settings).create_version(seed=seed, verbose=0)
    related = create_solution(group, perform_auto_ml=True, recipe_type="RELATED_ITEMS").create_version(
        seed=seed, verbose=0)
    table = pd.concat([version.leaderboard, related.leaderboard])[RECOMMENDATION_METRICS]
    log("\n" + table.to_string(float_format=lambda value: f"{value:.3f}"))
    log(f"Serving: {version.recipe_name}.")
    table.to_csv(os.path.join(output_dir, "recommender_metrics.csv"))
    user = events.loc[events["EVENT_TYPE"] == "purchase", "USER_ID"].iloc[0]
    no_repeats = 'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("purchase")'
    answer = version.get_recommendations(user_id=user, num_results=5, filter=no_repeats)
    log(f"GetRecommendations for {user} with the filter {no_repeats}: "
        f"{[entry['itemId'] for entry in answer['itemList']]}")
    batch_input, batch_output = (os.path.join(output_dir, name) for name in ("batch_input.jsonl",
                                                                             "batch_output.jsonl"))
    with open(batch_input, "w") as handle:
        handle.writelines(json.dumps({"userId": user_id}) + "\n" for user_id in events["USER_ID"].unique())
    started = time.perf_counter()
    counts = version.batch_inference(batch_input, batch_output, num_results=25)
    seconds = time.perf_counter() - started
    log(f"Batch inference job: {counts['lines']} users in {seconds:.1f} s ({counts['lines'] / seconds:,.0f} users/s), "
        f"{counts['errors']} errors -> {batch_output}")
    solution_path = os.path.join(output_dir, "solution")
    version.save(solution_path)
    saved_model_path = os.path.join(output_dir, "recommender_saved_model")
    version.export(saved_model_path)
    log(f"Wrote recommender_metrics.csv, {solution_path}/ (kerasts personalize evaluate|recommend|rank|batch read "
        f"it) and {saved_model_path}/ (the {version.recipe_name} network's SavedModel).")
    return table


SESSION_METRICS = ["recall_at_5", "mean_reciprocal_rank_at_5", "recall_at_20", "mean_reciprocal_rank_at_20"]


def run_session_demo(output_dir="demo_output", epochs=30, seed=0, log=print):
    """HRNN and session-only GRU4Rec against popularity, SIMS and item-kNN on generated sessions,
    with the HRNN paper's protocol; writes the table and the step SavedModel. Returns the table."""
    import pandas as pd

    from kerasts.baselines import SIMS, Popularity
    from kerasts.data import (filter_interactions, leave_last_session_out, sessionize, synthetic_interactions,
                              validate_interactions)
    from kerasts.evaluation import evaluate_next_items
    from kerasts.models import SessionRecommender

    events = validate_interactions(synthetic_interactions(seed=seed))
    sessions = filter_interactions(sessionize(events, gap_seconds=2 * 86400), min_session_length=2,
                                   min_sessions_per_user=2)
    history, test = leave_last_session_out(sessions, known_items_only=True)
    log(f"\nThe same kind of generated interactions in sessions (a new one after two idle days): "
        f"{history['SESSION_ID'].nunique():,} training sessions, {test['SESSION_ID'].nunique()} last sessions "
        "to predict, every next event a target, ranked over the whole catalog.")
    settings = {"epochs": epochs, "learning_rate": 3e-3, "seed": seed, "units": 64, "embedding_dim": 32,
                "dropout": 0.25, "hidden_dropout": 0.5, "tie_embeddings": True}
    recommenders = {  # name: (recommender, whether it reads only the session's last item)
        "HRNN-all": (SessionRecommender(mode="all", user_units=32, user_dropout=0.75, **settings), False),
        "GRU4Rec": (SessionRecommender(user_gru=False, **settings), False),
        "popularity": (Popularity(), False), "SIMS": (SIMS(), False),
        "item-kNN (last item)": (SIMS(min_cointeractions=1, user_column="SESSION_ID"), True),
    }
    scores = {name: evaluate_next_items(recommender.fit(history), test, history, last_item_only=last_item_only)
              for name, (recommender, last_item_only) in recommenders.items()}
    step_path = os.path.join(output_dir, "hrnn_step_saved_model")
    recommenders["HRNN-all"][0].model.export(step_path, k=20)
    table = pd.DataFrame(scores).T[SESSION_METRICS]
    log("\n" + table.to_string(float_format=lambda value: f"{value:.3f}"))
    table.to_csv(os.path.join(output_dir, "session_metrics.csv"))
    log(f"Wrote session_metrics.csv and {step_path}/ (endpoint step: item ids, flags and states in -> top-20 "
        "item_ids, scores and the new states).")
    return table


def _write_fan_charts(path, predictor, shown=4):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from kerasts.plotting import plot_fan_chart

    panel, horizon = predictor.panel, predictor.forecast_horizon
    future = panel.step_timestamps(len(panel.timestamps), horizon)
    figure, axes = plt.subplots(shown, 1, figsize=(9, 2.6 * shown), constrained_layout=True)
    for row, ax in enumerate(axes):
        plot_fan_chart(panel.target[row], np.full(horizon, np.nan), predictor.sample_paths()[row],
                       title=f"{panel.series_ids[row]}: {predictor.algorithm}, the next day", ax=ax,
                       history_steps=72, history_dates=panel.timestamps, future_dates=future)
    figure.savefig(path, dpi=100)
    plt.close(figure)


def run_multitask_demo(output_dir="demo_output", correlation=0.5, epochs=10, seed=0, log=print):
    """MMoE against a shared-bottom model of about the same size on the MMoE paper's synthetic tasks;
    writes and returns the table of test MSE per task."""
    import numpy as np
    import pandas as pd

    from kerasts.data import synthetic_multitask
    from kerasts.models import MMoE, SharedBottom

    x, y = synthetic_multitask(6000, dim=20, correlation=correlation, seed=seed)
    train, test = slice(0, 5000), slice(5000, None)
    features = {"x": {"type": "numeric", "size": 20, "units": None}}
    tasks = {"task_1": "regression", "task_2": "regression"}
    models = {"MMoE (4 experts x 16)": lambda: MMoE(features, tasks, num_experts=4, expert_units=(16,)),
              "shared-bottom (48)": lambda: SharedBottom(features, tasks, bottom_units=(48,))}
    rows = {}
    for name, make in models.items():
        keras.utils.set_random_seed(seed)
        model = make()
        model.compile(Adam(1e-2))  # mean squared error per regression task
        model.fit({"x": x[train]}, {task: values[train] for task, values in y.items()}, epochs=epochs, batch_size=128,
                  verbose=0)
        predicted = model({"x": x[test]})
        rows[name] = {"parameters": model.count_params(),
                      **{f"{task}_test_MSE": float(np.mean((keras.ops.convert_to_numpy(predicted[task])[:, 0]
                                                            - y[task][test]) ** 2)) for task in tasks}}
    table = pd.DataFrame(rows).T.astype({"parameters": int})
    log(f"\nTwo synthetic regression tasks (the MMoE paper's generator, correlation {correlation}), 5,000 rows "
        "to train, 1,000 to test:\n" + table.to_string(float_format=lambda value: f"{value:.3f}"))
    table.to_csv(os.path.join(output_dir, "multitask_metrics.csv"))
    return table
