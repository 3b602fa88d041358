"""The Personalize workflow: dataset group -> solution (recipe or AutoML) -> solution version metrics,
recommendations with filters, personalized ranking, batch jobs, save and load, the CLI (an update on a
campaign's events too); bad input."""

import kerasts  # first, to silence TensorFlow's start-up logging

import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from kerasts.data import personalize_split  # noqa: E402
from kerasts.personalize import (METRIC_NAMES, DatasetGroup, Filter, create_solution,  # noqa: E402
                                 fit_recipe, load_solution_version, recipe_names)
from kerasts.personalize import solution as solution_module  # noqa: E402
from kerasts.serving import Campaign  # noqa: E402

TINY = {"hrnn": {"epochs": 1, "units": 8, "embedding_dim": 8, "user_units": 8},
        "hrnn-metadata": {"epochs": 1, "units": 8, "embedding_dim": 8, "user_units": 8},
        "hrnn-coldstart": {"epochs": 1, "units": 8, "embedding_dim": 8, "user_units": 8},
        "gru4rec": {"epochs": 1, "units": 8, "embedding_dim": 8},
        "two-tower": {"epochs": 1, "embedding_dim": 8},
        "two-stage": {"num_candidates": 10, "retrieval": {"epochs": 1, "embedding_dim": 8}, "num_experts": 2,
                      "expert_units": [8], "tower_units": [4], "epochs": 1}}


def _seen(group, user, event_type=None):
    events = group.interactions[group.interactions["USER_ID"] == user]
    return set(events["ITEM_ID"] if event_type is None else events.loc[events["EVENT_TYPE"] == event_type, "ITEM_ID"])


def _tables():
    events = kerasts.data.synthetic_interactions(num_users=60, num_items=80, events_per_user=12, seed=0)
    events["EVENT_VALUE"] = np.arange(len(events)) % 5 + 1.0
    items = pd.DataFrame({"ITEM_ID": sorted(events["ITEM_ID"].unique())})
    items["GENRE"] = np.where(np.arange(len(items)) % 2, "comedy|drama", "horror")
    items["PRICE"] = np.arange(len(items)) * 3.0
    return events, items


@pytest.fixture(scope="module")
def group():
    events, items = _tables()
    return DatasetGroup(events, items=items)


@pytest.fixture(scope="module")
def automl(group):
    return create_solution(group, perform_auto_ml=True, settings=TINY).create_version(verbose=0)


@pytest.fixture(scope="module")
def popular(group):
    return create_solution(group, recipe="popularity-count").create_version(verbose=0)


def test_automl_trains_every_user_personalization_recipe_and_serves_the_best(automl):
    board = automl.leaderboard
    assert set(board.index) == set(recipe_names("USER_PERSONALIZATION")) == {
        "hrnn", "hrnn-metadata", "hrnn-coldstart", "gru4rec", "two-tower", "two-stage", "popularity-count"}
    assert list(board.columns) == list(METRIC_NAMES)
    metric = "normalized_discounted_cumulative_gain_at_10"
    assert board[metric].is_monotonic_decreasing and automl.recipe_name == board.index[0]
    assert automl.metrics == board.loc[automl.recipe_name].to_dict()
    assert ((board >= 0) & (board <= 1)).all().all()


def test_recommendations_have_personalize_runtime_shape_and_exclude_seen(popular, group):
    user = group.interactions["USER_ID"].iloc[0]
    answer = popular.get_recommendations(user_id=user, num_results=5)
    items = [entry["itemId"] for entry in answer["itemList"]]
    assert len(items) == 5 and not set(items) & _seen(group, user)
    assert all(set(entry) == {"itemId"} for entry in answer["itemList"])  # no score, as Popularity-Count's


def _catalog_probabilities(version, user):
    """Every item's probability for the user: the softmax of the recipe's logits over the whole catalog."""
    everything = version.recommender.recommend(user_id=user, k=len(version.recommender.items), exclude_seen=False)
    logits = version.recommender.logits(np.asarray(everything.scores, "float64"))
    return dict(zip(everything.item_ids, np.exp(logits - np.log(np.exp(logits).sum()))))


@pytest.mark.parametrize("recipe", ["hrnn", "two-tower"])
def test_scores_are_personalizes_probabilities(group, tmp_path, recipe):
    version = create_solution(group, recipe={"name": recipe, "config": TINY[recipe]}).create_version(verbose=0)
    user = group.interactions["USER_ID"].iloc[0]
    probabilities = _catalog_probabilities(version, user)
    assert np.isclose(sum(probabilities.values()), 1.0) and len(set(np.round(list(probabilities.values()), 12))) > 1
    listed = version.get_recommendations(user_id=user, num_results=5)["itemList"]
    np.testing.assert_allclose([entry["score"] for entry in listed],
                               [probabilities[entry["itemId"]] for entry in listed], rtol=1e-9)
    filtered = version.get_recommendations(user_id=user, num_results=3, filter="EXCLUDE ItemID WHERE Items.PRICE < 90")
    np.testing.assert_allclose([entry["score"] for entry in filtered["itemList"]],  # still over the whole catalog
                               [probabilities[entry["itemId"]] for entry in filtered["itemList"]], rtol=1e-9)
    ranked_items = list(group.items["ITEM_ID"][:4])
    ranking = version.get_personalized_ranking(user, ranked_items + ["not-an-item"])["personalizedRanking"]
    known = np.array([probabilities[entry["itemId"]] for entry in ranking[:-1]])
    np.testing.assert_allclose([entry["score"] for entry in ranking[:-1]], known / known.sum(), rtol=1e-9)
    assert ranking[-1] == {"itemId": "not-an-item", "score": 0.0}
    (tmp_path / "in.jsonl").write_text(json.dumps({"userId": user}) + "\n"
                                       + json.dumps({"userId": user, "itemList": ranked_items}) + "\n")
    version.batch_inference(tmp_path / "in.jsonl", tmp_path / "out.jsonl", num_results=5)
    recommended, reranked = [json.loads(line)["output"] for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert recommended["scores"] == [entry["score"] for entry in listed]
    assert reranked["scores"] == [entry["score"] for entry in ranking[:-1]]


def test_recipes_without_logits_give_no_scores(popular, group, tmp_path):
    user = group.interactions["USER_ID"].iloc[0]
    ranking = popular.get_personalized_ranking(user, list(group.items["ITEM_ID"][:3]) + ["not-an-item"])
    assert [set(entry) for entry in ranking["personalizedRanking"]] == [{"itemId"}] * 4
    (tmp_path / "in.jsonl").write_text(json.dumps({"userId": user}) + "\n"
                                       + json.dumps({"userId": user, "itemList": ["not-an-item"]}) + "\n")
    popular.batch_inference(tmp_path / "in.jsonl", tmp_path / "out.jsonl", num_results=5)
    outputs = [json.loads(line)["output"] for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [set(output) for output in outputs] == [{"recommendedItems"}] * 2


def test_filters_apply_inside_the_ranking(popular, group):
    user = group.interactions.loc[group.interactions["EVENT_TYPE"] == "purchase", "USER_ID"].iloc[0]
    genres = group.items.set_index("ITEM_ID")["GENRE"]
    prices = group.items.set_index("ITEM_ID")["PRICE"]
    answer = popular.get_recommendations(user_id=user, num_results=10, filter=(
        "INCLUDE ItemID WHERE Items.GENRE IN ($GENRES) AND Items.PRICE <= 150 | EXCLUDE ItemID WHERE Items.PRICE < 30"),
        filter_values={"GENRES": '"drama"'})
    items = [entry["itemId"] for entry in answer["itemList"]]
    seen = _seen(group, user)
    passing = [item for item in group.items["ITEM_ID"] if "drama" in genres[item] and 30 <= prices[item] <= 150
               and item not in seen]
    assert len(items) == min(10, len(passing)) and set(items) <= set(passing)  # K back when K pass
    purchased = _seen(group, user, "purchase")
    assert purchased
    kept = Filter('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("purchase")', group.items, group.interactions)
    allowed = kept.allowed(group.items["ITEM_ID"], user)
    assert not allowed[group.items["ITEM_ID"].isin(purchased)].any() and allowed.sum() == len(group.items) - len(
        purchased & set(group.items["ITEM_ID"]))
    assert kept.allowed(group.items["ITEM_ID"], "someone new").all()  # no events: nothing to exclude


@pytest.mark.parametrize("expression, message", [
    ("EXCLUDE ItemID WHER Items.GENRE IN (\"x\")", "expected WHERE at position 15, found 'WHER'"),
    ("INCLUDE ItemID WHERE Items.GENRE IN (\"x\"", "expected ',' or '\\)' at position 40, found the end"),
    ("INCLUDE ItemID WHERE Items.PRICE ~ 3", "unexpected character '~' at position 33"),
    ("INCLUDE ItemID WHERE Items.COLOUR IN (\"red\")", "Items.COLOUR, which the dataset group lacks"),
    ("INCLUDE ItemID WHERE Users.AGE > 3", "expected ITEMS or INTERACTIONS at position 21, found 'Users'"),
    ("", "non-empty"),
])
def test_bad_filters_name_the_position_and_token(group, expression, message):
    with pytest.raises(ValueError, match=message):
        Filter(expression, group.items, group.interactions)


def test_event_types_match_as_personalizes_do_ignoring_case_with_a_star_for_every_type(popular, group):
    user = group.interactions.loc[group.interactions["EVENT_TYPE"] == "purchase", "USER_ID"].iloc[0]
    seen, purchased = _seen(group, user), _seen(group, user, "purchase")
    listed = sorted(seen) + [item for item in group.items["ITEM_ID"] if item not in seen][:5]

    def ranked(expression):  # a ranking keeps the user's own items, which filters on Interactions select
        answer = popular.get_personalized_ranking(user, listed, filter=expression)["personalizedRanking"]
        return {entry["itemId"] for entry in answer}

    assert ranked('INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("*")') == seen
    assert ranked('INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("PURCHASE")') == purchased != seen
    assert ranked('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE = "Purchase"') == set(listed) - purchased


def test_filters_conditioned_on_the_current_user_read_the_users_table(group, tmp_path):
    users = pd.DataFrame({"USER_ID": group.interactions["USER_ID"].unique()[:3], "AGE": [12.0, 40.0, np.nan]})
    young, adult, unknown_age = users["USER_ID"]
    version = create_solution(DatasetGroup(group.interactions, users=users, items=group.items),
                              recipe="popularity-count").create_version(verbose=0)
    horror = set(group.items.loc[group.items["GENRE"] == "horror", "ITEM_ID"])
    expression = 'EXCLUDE ItemID WHERE Items.GENRE IN ("horror") IF CurrentUser.AGE < $AGE'

    def listed(version, user):
        return {entry["itemId"] for entry in version.get_recommendations(
            user_id=user, num_results=80, filter=expression, filter_values={"AGE": "18"})["itemList"]}

    assert not listed(version, young) & horror
    for user in (adult, unknown_age, "a-user-without-a-row"):  # the condition does not hold: no exclusion
        assert listed(version, user) & horror
    version.save(tmp_path / "solution")
    loaded = load_solution_version(tmp_path / "solution")
    assert not listed(loaded, young) & horror and listed(loaded, adult) & horror
    loaded.put_users([{"USER_ID": adult, "AGE": "15"}])  # PutUsers' text number; read by the next request
    assert not listed(loaded, adult) & horror and loaded.users["AGE"].dtype == "float64"
    for bad, message in [
            ('EXCLUDE ItemID WHERE Items.GENRE IN ("horror") IF CurrentUser.HEIGHT < 2',
             r"CurrentUser.HEIGHT, which the dataset group lacks; Users has \['AGE'\]"),
            ('EXCLUDE ItemID WHERE Items.GENRE IN ("horror") IF Items.PRICE < 2',
             "expected CURRENTUSER at position 50"),
            ('EXCLUDE ItemID WHERE Items.GENRE IN ("horror") IF CurrentUser.AGE < 2 OR CurrentUser.AGE > 60',
             "expected '|' or the end at position 75, found 'OR'")]:
        with pytest.raises(ValueError, match=message):
            version.filter(bad)
    with pytest.raises(ValueError, match="CurrentUser.AGE, but the dataset group has no Users table"):
        Filter(expression, group.items, group.interactions)


def test_items_carry_the_metadata_columns_asked_for(popular, group):
    user = group.interactions["USER_ID"].iloc[0]
    listed = popular.get_recommendations(user_id=user, num_results=3, metadata_columns={"ITEMS": ["PRICE"]})
    prices = group.items.set_index("ITEM_ID")["PRICE"]
    assert [entry["metadata"] for entry in listed["itemList"]] == [
        {"PRICE": prices[entry["itemId"]]} for entry in listed["itemList"]]
    json.dumps(listed)  # plain JSON values, as a campaign sends them
    for bad, message in [({"ITEMS": ["COLOUR"]}, r"Items table has no column\(s\) \['COLOUR'\]"),
                         (["PRICE"], 'must be {"ITEMS": \\[column, ...\\]}'),
                         ({"ITEMS": ["PRICE"] * 11}, "names 1 to 10 Items columns, got 11")]:
        with pytest.raises(ValueError, match=message):
            popular.get_recommendations(user_id=user, metadata_columns=bad)


def test_filter_parameters_must_be_given_and_compared_numbers_be_numbers(popular, group):
    with pytest.raises(ValueError, match=r"needs a value for \$GENRES: give it in `filter_values` \(`filterValues` "
                                         r"in a request or batch input line, `--filter-value GENRES=...` on the "
                                         r"CLI\)"):
        popular.get_recommendations(user_id="u1", filter="INCLUDE ItemID WHERE Items.GENRE IN ($GENRES)")
    for ask in (lambda: popular.get_recommendations(user_id="u1", filter_values={"GENRES": '"drama"'}),
                lambda: popular.get_personalized_ranking("u1", ["i1"], filter_values={"GENRES": '"drama"'}),
                lambda: popular.batch_inference(__file__, os.devnull, filter_values={"GENRES": '"drama"'})):
        with pytest.raises(ValueError, match=r"Values \{'GENRES': '\"drama\"'\} fill a filter's \$parameters .* and no "
                                             r"filter is given"):  # refused, not ignored
            ask()
    with pytest.raises(ValueError, match=r"Items.PRICE < compares a number, got 'cheap'"):
        popular.get_recommendations(user_id="u1", filter="EXCLUDE ItemID WHERE Items.PRICE < $MOST",
                                    filter_values={"MOST": "cheap"})


def test_personalized_ranking_ranks_the_list_and_reports_unknown_items_last(automl, group):
    user = group.interactions["USER_ID"].iloc[0]
    listed = list(group.items["ITEM_ID"][:6]) + ["not-an-item"]
    answer = automl.get_personalized_ranking(user, listed)
    ranked = [entry["itemId"] for entry in answer["personalizedRanking"]]
    assert sorted(ranked) == sorted(listed) and ranked[-1] == "not-an-item" and answer["unknownItems"] == ["not-an-item"]
    scores = [entry["score"] for entry in answer["personalizedRanking"][:-1]]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("recipe", ["personalized-ranking", "personalized-ranking-two-tower"])
def test_a_personalized_ranking_recipe_ranks_lists_and_only_that(group, tmp_path, recipe):
    settings = {"epochs": 1, "embedding_dim": 8, **({"units": 8, "user_units": 8} if recipe == "personalized-ranking"
                                                    else {})}
    version = create_solution(group, recipe={"name": recipe, "config": settings}).create_version(verbose=0)
    user = group.interactions["USER_ID"].iloc[0]
    listed = ["not-an-item"] + list(group.items["ITEM_ID"][:8]) + [group.items["ITEM_ID"][0]]  # one repeated
    answer = version.get_personalized_ranking(user, listed)
    ranked = [entry["itemId"] for entry in answer["personalizedRanking"]]
    assert sorted(ranked[:-1]) == sorted(group.items["ITEM_ID"][:8]) and ranked[-1] == "not-an-item"
    assert answer["unknownItems"] == ["not-an-item"]
    scores = version.recommender.score_items([version.recommender.context(user)])[0]
    order = version.recommender.items.encode(ranked[:-1]) - 1
    assert np.all(np.diff(scores[order]) <= 0)  # by the model's scores, seen items included
    with pytest.raises(ValueError, match=f"The {recipe} recipe ranks a given list .* get_personalized_ranking"):
        version.get_recommendations(user_id=user)
    with pytest.raises(ValueError, match="at most 500 can be ranked"):
        version.get_personalized_ranking(user, [f"i{number}" for number in range(501)])
    with pytest.raises(ValueError, match="`input_list` is empty"):
        version.get_personalized_ranking(user, [])
    with pytest.raises(TypeError, match="`input_list` must be a list of item ids, got str"):
        version.get_personalized_ranking(user, "i1")
    (tmp_path / "in.jsonl").write_text(json.dumps({"userId": user, "itemList": listed}) + "\n"
                                       + json.dumps({"userId": user}) + "\n")
    assert version.batch_inference(tmp_path / "in.jsonl", tmp_path / "out.jsonl") == {"lines": 2, "errors": 1}
    lines = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert lines[0]["output"]["recommendedItems"] == ranked and "ranks a given list" in lines[1]["error"]
    version.save(tmp_path / "saved")
    again = load_solution_version(tmp_path / "saved").get_personalized_ranking(user, listed)
    assert [entry["itemId"] for entry in again["personalizedRanking"]] == ranked


def test_batch_lines_carry_their_filter_values_and_errors_name_the_files_line(popular, group, tmp_path):
    user = group.interactions["USER_ID"].iloc[0]
    prices = group.items.set_index("ITEM_ID")["PRICE"]
    lines = ["", json.dumps({"userId": user}), json.dumps({"userId": user, "filterValues": {"MOST": "60"}}),
             json.dumps({"userId": user, "numResults": 3}), json.dumps({"userId": user, "filterValues": {"MOST": 60}})]
    (tmp_path / "in.jsonl").write_text("\n".join(lines) + "\n")
    counts = popular.batch_inference(tmp_path / "in.jsonl", tmp_path / "out.jsonl", num_results=50,
                                     filter="EXCLUDE ItemID WHERE Items.PRICE > $MOST", filter_values={"MOST": "120"})
    outputs = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert counts == {"lines": 4, "errors": 2}
    job, line = (prices[output["output"]["recommendedItems"]] for output in outputs[:2])
    assert job.max() <= 120 and job.max() > 60 and line.max() <= 60 and len(line) > 0
    assert "line 4 has unknown field(s) ['numResults']" in outputs[2]["error"]
    assert "line 5's filterValues must be an object of text values" in outputs[3]["error"]
    (tmp_path / "in.jsonl").write_text(lines[2] + "\n")
    popular.batch_inference(tmp_path / "in.jsonl", tmp_path / "out.jsonl")
    assert "line 1 gives filterValues, but the job has no filter" in (tmp_path / "out.jsonl").read_text()
    (tmp_path / "binary.jsonl").write_bytes(b"\xff\xfe\x00")
    for unreadable, reason in [(tmp_path / "missing.jsonl", "No such file"), (tmp_path, "Is a directory"),
                               (tmp_path / "binary.jsonl", "'utf-8' codec can't decode byte 0xff")]:
        with pytest.raises(ValueError, match=re.escape(f"Cannot read the batch input '{unreadable}': {reason}")):
            popular.batch_inference(unreadable, tmp_path / "out.jsonl")
    assert "line 1 gives filterValues" in (tmp_path / "out.jsonl").read_text()  # the last job's output kept


def test_automl_over_personalized_ranking_trains_its_recipes(group):
    version = create_solution(group, perform_auto_ml=True, recipe_type="PERSONALIZED_RANKING", settings={
        "personalized-ranking": TINY["hrnn"], "personalized-ranking-two-tower": TINY["two-tower"]}).create_version(
        verbose=0)
    assert set(version.leaderboard.index) == {"personalized-ranking", "personalized-ranking-two-tower"}
    assert version.recipe.recipe_type == "PERSONALIZED_RANKING"


def test_automl_leaves_out_a_recipe_this_data_does_not_suit_and_says_why():
    # 40 users with 4 events each: too few for the two-stage ranker's pairs of older and newer events.
    events = pd.DataFrame({"USER_ID": np.repeat([f"u{user}" for user in range(40)], 4),
                           "ITEM_ID": [f"i{(user % 3) * 4 + step}" for user in range(40) for step in range(4)],
                           "TIMESTAMP": np.tile(np.arange(4), 40) + 1_700_000_000})
    quick = {name: {"epochs": 1} for name in ("hrnn", "gru4rec", "two-tower", "two-stage")}
    with pytest.raises(ValueError, match="the ranker has nothing to learn"):  # alone, it is not left out
        create_solution(DatasetGroup(events), "two-stage", settings={"two-stage": {"epochs": 1}}).create_version(
            verbose=0)
    with pytest.warns(UserWarning, match="AutoML leaves two-stage out: No candidate"):
        version = create_solution(DatasetGroup(events), perform_auto_ml=True, settings=quick).create_version(
            verbose=0)
    assert list(version.settings["left_out"]) == ["two-stage"] and "two-stage" not in version.leaderboard.index
    assert {"hrnn", "two-tower", "popularity-count"} <= set(version.leaderboard.index)
    with pytest.raises(ValueError, match="'two-tower' does not take the arguments"):  # refused before training
        create_solution(DatasetGroup(events), perform_auto_ml=True, settings={"two-tower": {"epoch": 1}})


def test_related_items_recipes_need_an_item(group):
    version = create_solution(group, recipe="sims").create_version(verbose=0)
    item = group.items["ITEM_ID"].iloc[3]
    related = [entry["itemId"] for entry in version.get_recommendations(item_id=item, num_results=4)["itemList"]]
    assert len(related) == 4 and item not in related
    with pytest.raises(ValueError, match="recommends items related to an item: give `item_id`"):
        version.get_recommendations(user_id="u1")
    with pytest.raises(ValueError, match="needs a PERSONALIZED_RANKING or USER_PERSONALIZATION recipe; sims is "
                                         "RELATED_ITEMS"):
        version.get_personalized_ranking("u1", [item])


def test_filters_on_the_current_item_read_the_item_a_related_items_request_is_for(group, popular, tmp_path):
    version = create_solution(group, recipe="sims").create_version(verbose=0)
    items = group.items.set_index("ITEM_ID")
    item = items.index[5]  # a comedy|drama item at price 15
    same_genre_cheaper = 'INCLUDE ItemID WHERE Items.PRICE < CurrentItem.PRICE AND Items.GENRE IN CurrentItem.GENRE'
    related = [entry["itemId"] for entry in version.get_recommendations(
        item_id=item, num_results=80, filter=same_genre_cheaper)["itemList"]]
    cheaper_comedies = {other for other in items.index if items["PRICE"][other] < items["PRICE"][item]
                        and items["GENRE"][other] == "comedy|drama"} - {item}
    assert set(related) == cheaper_comedies and len(related) == 2
    (tmp_path / "in.jsonl").write_text(json.dumps({"itemId": item}) + "\n")
    version.batch_inference(tmp_path / "in.jsonl", tmp_path / "out.jsonl", num_results=80, filter=same_genre_cheaper)
    assert json.loads((tmp_path / "out.jsonl").read_text())["output"]["recommendedItems"] == related
    with pytest.raises(ValueError, match=r"reads CurrentItem.PRICE, the field of the item a related-items request "
                                         r"is for: give `item_id`"):
        popular.get_recommendations(user_id=group.interactions["USER_ID"].iloc[0], filter=same_genre_cheaper)
    with pytest.raises(ValueError, match=r"reads CurrentItem.COLOUR, which the dataset group lacks; Items has "
                                         r"\['GENRE', 'PRICE'\]"):
        version.filter("EXCLUDE ItemID WHERE Items.GENRE IN CurrentItem.COLOUR")


def test_batch_job_answers_every_line_in_order_batched_through_the_model(automl, group, tmp_path, monkeypatch):
    users = list(group.interactions["USER_ID"].unique()[:20])
    lines = [json.dumps({"userId": user}) for user in users]
    lines[3] = "not json"
    lines.append(json.dumps({"userId": users[0], "itemList": ["not-an-item", group.items["ITEM_ID"].iloc[0]]}))
    lines.append(json.dumps({"itemId": "i1"}))  # a user-personalization recipe needs a user
    (tmp_path / "in.jsonl").write_text("\n".join(lines) + "\n")
    calls = []
    original = automl.recommender.queries_scores
    monkeypatch.setattr(automl.recommender, "queries_scores", lambda queries: calls.append(len(queries)) or
                        original(queries))
    counts = automl.batch_inference(tmp_path / "in.jsonl", tmp_path / "out.jsonl", num_results=5)
    outputs = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert counts == {"lines": 22, "errors": 2} and len(outputs) == 22
    assert "line 4 is not JSON" in outputs[3]["error"] and outputs[3]["output"] is None
    assert outputs[0]["input"] == {"userId": users[0]} and len(outputs[0]["output"]["recommendedItems"]) == 5
    single = automl.get_recommendations(user_id=users[1], num_results=5)
    assert outputs[1]["output"]["recommendedItems"] == [entry["itemId"] for entry in single["itemList"]]
    assert outputs[20]["output"]["recommendedItems"][-1] == "not-an-item"
    # A line that is JSON but cannot be answered keeps its object as input, and its error names its line.
    assert outputs[21]["input"] == {"itemId": "i1"} and outputs[21]["error"].startswith("line 22: ")
    assert "give `user_id`" in outputs[21]["error"] and outputs[3]["input"] == "not json"
    assert calls[:2] == [19, 1]  # the recommendation lines in one call, the ranking line in another


@pytest.mark.parametrize("recipe", ["hrnn", "hrnn-metadata", "hrnn-coldstart", "two-tower", "two-stage", "swing"])
def test_saved_versions_load_and_recommend_the_same(group, tmp_path, recipe):
    spec = {"name": recipe, "config": TINY.get(recipe, {})}
    version = create_solution(group, recipe=spec, event_type="click").create_version(verbose=0)
    version.save(tmp_path / "v")
    loaded = load_solution_version(tmp_path / "v")
    context = {"item_id": group.items["ITEM_ID"].iloc[2]} if recipe == "swing" else {
        "user_id": group.interactions["USER_ID"].iloc[5]}
    assert loaded.get_recommendations(**context, num_results=7) == version.get_recommendations(**context, num_results=7)
    pd.testing.assert_frame_equal(loaded.leaderboard, version.leaderboard)
    assert loaded.recipe_name == recipe
    assert loaded.training_events()["EVENT_TYPE"].eq("click").all()
    if recipe != "swing":
        (tmp_path / "v" / "model.keras").write_bytes(b"not a zip")  # a damaged network
        with pytest.raises(ValueError, match="damaged"):
            load_solution_version(tmp_path / "v")
        version.export(tmp_path / "saved")
        assert (tmp_path / "saved" / "saved_model.pb").exists()
        if recipe in ("hrnn", "two-tower"):
            version.export(tmp_path / "on_device.tflite", format="litert")
            assert (tmp_path / "on_device.tflite").stat().st_size > 0
    else:
        with pytest.raises(ValueError, match="no network"):
            version.export(tmp_path / "saved")


def test_hrnn_metadata_reads_the_items_tables_grouping_columns(group):
    version = create_solution(group, recipe={"name": "hrnn-metadata", "config": TINY["hrnn-metadata"]}).create_version(
        verbose=0)
    model = version.recommender.model
    assert set(model.item_features) == {"GENRE", "PRICE"}  # ITEM_ID is the key
    genres = group.items.set_index("ITEM_ID")["GENRE"]
    assert model.item_feature_values["GENRE"] == [genres[item] for item in model.items.ids]
    events, items = _tables()
    for without_metadata in (DatasetGroup(events), DatasetGroup(events, items=items[["ITEM_ID"]])):
        # Settings for every network recipe of the type, as the CLI's --epochs gives them, are fine.
        automl = [spec["name"] for spec in create_solution(without_metadata, perform_auto_ml=True, settings={
            "hrnn": {"epochs": 1}, "hrnn-metadata": {"epochs": 1}}).specs]
        assert "hrnn" in automl and "hrnn-metadata" not in automl and "hrnn-coldstart" not in automl
    with pytest.raises(ValueError, match=r"names recipe\(s\) \['sims'\] that this solution does not train"):
        create_solution(DatasetGroup(events), perform_auto_ml=True, settings={"sims": {}})
    with pytest.raises(ValueError, match="are read from the Items table: pass `items` to fit"):
        kerasts.models.SessionRecommender(item_features=["GENRE"], epochs=1).fit(events)
    with pytest.raises(ValueError, match="hrnn-metadata recipe reads item metadata: the dataset group needs an Items"):
        create_solution(DatasetGroup(events), recipe="hrnn-metadata")


def test_hrnn_coldstart_recommends_items_put_after_training_without_retraining(group):
    version = create_solution(group, recipe={"name": "hrnn-coldstart", "config": TINY["hrnn-coldstart"]}).create_version(
        verbose=0)
    user = group.interactions["USER_ID"].iloc[5]
    assert "brand-new" not in _listed(version, user)
    version.put_items([{"ITEM_ID": "brand-new", "GENRE": "horror", "PRICE": 3.0}])
    assert "brand-new" in _listed(version, user)  # the one new item: it gets one of round(0.3 * 10) slots
    assert "brand-new" in version.recommender.items.ids
    ranking = version.get_personalized_ranking(user, ["brand-new", group.items["ITEM_ID"].iloc[0]])
    assert [entry["itemId"] for entry in ranking["personalizedRanking"]][0] != "brand-new" or \
        ranking["personalizedRanking"][0]["score"] >= ranking["personalizedRanking"][1]["score"]  # by score alone


def _listed(version, user):
    return [entry["itemId"] for entry in version.get_recommendations(user_id=user, num_results=10)["itemList"]]


def test_a_cold_user_of_a_session_recipe_gets_popular_items(group):
    version = create_solution(group, recipe={"name": "gru4rec", "config": TINY["gru4rec"]}).create_version(verbose=0)
    cold = [entry["itemId"] for entry in version.get_recommendations(user_id="never-seen", num_results=3)["itemList"]]
    counts = group.interactions["ITEM_ID"].value_counts(sort=False)
    order = sorted(counts.index, key=lambda item: (-counts[item], version.recommender.items.ids.index(item)))
    assert cold == order[:3]


def test_damaged_and_foreign_directories_are_refused(popular, tmp_path):
    with pytest.raises(ValueError, match="no solution version directory"):
        load_solution_version(tmp_path / "missing")
    (tmp_path / "other").mkdir()
    with pytest.raises(ValueError, match="not a kerasts solution version"):
        load_solution_version(tmp_path / "other")
    popular.save(tmp_path / "v")
    (tmp_path / "v" / "interactions.csv").unlink()
    with pytest.raises(ValueError, match="damaged or incomplete"):
        load_solution_version(tmp_path / "v")
    popular.save(tmp_path / "w")
    description = json.loads((tmp_path / "w" / "solution_version.json").read_text())
    (tmp_path / "w" / "solution_version.json").write_text(json.dumps({**description, "format": 7}))
    with pytest.raises(ValueError, match="of format 7"):
        load_solution_version(tmp_path / "w")


def test_schemas_are_checked_against_the_tables():
    events, items = _tables()
    schema = {"type": "record", "name": "Items", "fields": [
        {"name": "ITEM_ID", "type": "string"}, {"name": "GENRE", "type": "string", "categorical": True},
        {"name": "PRICE", "type": "float"}]}
    DatasetGroup(events, items=items, schemas={"items": schema})
    with pytest.raises(ValueError, match=r"columns not in the schema \['PRICE'\]"):
        DatasetGroup(events, items=items, schemas={"items": {**schema, "fields": schema["fields"][:2]}})
    wrong = items.assign(PRICE=["cheap"] + list(items["PRICE"][1:]))
    with pytest.raises(ValueError, match="types 'PRICE' as \\['float'\\], but row 0 holds 'cheap'"):
        DatasetGroup(events, items=wrong, schemas={"items": schema})


@pytest.mark.parametrize("make, message", [
    (lambda e, i: DatasetGroup(e.drop(columns="TIMESTAMP")), "lacks column"),
    (lambda e, i: DatasetGroup(e.assign(TIMESTAMP=e["TIMESTAMP"] * 1000)), "milliseconds"),
    (lambda e, i: DatasetGroup(e.assign(TIMESTAMP=pd.to_datetime(e["TIMESTAMP"], unit="s"))),
     r"'TIMESTAMP' must hold epoch seconds, not datetimes \(datetime64\[ns\]\): convert it with"),
    (lambda e, i: DatasetGroup(e, items=pd.concat([i, i.iloc[:1]])), "repeats ITEM_ID"),
    (lambda e, i: DatasetGroup(e, items=i.drop(columns="ITEM_ID")), r"items table lacks column\(s\) \['ITEM_ID'\]"),
    (lambda e, i: DatasetGroup(e.rename(columns=str.lower)),  # Personalize's field names are upper case
     r"names are case-sensitive: rename 'user_id' to 'USER_ID', 'item_id' to 'ITEM_ID', 'timestamp' to 'TIMESTAMP'"),
    (lambda e, i: DatasetGroup(e, items=i.assign(CREATION_TIMESTAMP=1_700_000_000_000)),
     r"`items` column 'CREATION_TIMESTAMP' must hold epoch seconds, but its values look like epoch milliseconds"),
    (lambda e, i: DatasetGroup(e, items=i.assign(CREATION_TIMESTAMP="2023-11-01")),
     "'CREATION_TIMESTAMP' must hold epoch seconds; row 0 holds '2023-11-01' \\(a date string"),
    (lambda e, i: create_solution(DatasetGroup(e.assign(EVENT_VALUE="x")), recipe="sims", event_value_threshold=3),
     "EVENT_VALUE"),
    (lambda e, i: create_solution(DatasetGroup(e), recipe="deep-magic"), "Unknown recipe 'deep-magic'"),
    (lambda e, i: create_solution(DatasetGroup(e), recipe="sims", settings={"hrnn": {}}), "does not train"),
    (lambda e, i: create_solution(DatasetGroup(e), perform_auto_ml=True, auto_ml_metric="accuracy"),
     "auto_ml_metric"),
    (lambda e, i: DatasetGroup("no/such.csv"), "does not exist"),
])
def test_bad_input_is_named(make, message):
    events, items = _tables()
    before = events.copy()
    with pytest.raises(ValueError, match=message):
        make(events, items)
    pd.testing.assert_frame_equal(events, before)  # nothing the user gave is changed


def test_cli_trains_evaluates_recommends_ranks_runs_a_batch_and_updates_on_a_campaigns_events(tmp_path, capsys):
    from kerasts.cli import main

    events, items = _tables()
    events.to_csv(tmp_path / "interactions.csv", index=False)
    items.to_csv(tmp_path / "items.csv", index=False)
    solution = str(tmp_path / "solution")
    assert main(["personalize", "train", "--interactions", str(tmp_path / "interactions.csv"), "--items",
                 str(tmp_path / "items.csv"), "--recipe", "popularity-count", "--quiet", "--output", solution]) == 0
    assert "Serving: popularity-count" in capsys.readouterr().out
    assert main(["personalize", "evaluate", solution]) == 0
    evaluated = capsys.readouterr().out
    assert "best first by normalized_discounted_cumulative_gain_at_10" in evaluated and "precision_at_5" in evaluated
    assert main(["personalize", "recommend", solution, "--user", "u1", "--num-results", "3", "--filter",
                 "INCLUDE ItemID WHERE Items.GENRE IN ($G)", "--filter-value", 'G="horror"']) == 0
    answer = json.loads(capsys.readouterr().out)
    genres = items.set_index("ITEM_ID")["GENRE"]
    assert len(answer["itemList"]) == 3 and all(genres[entry["itemId"]] == "horror" for entry in answer["itemList"])
    assert main(["personalize", "rank", solution, "--user", "u1", "--items", "i1,i2,zz"]) == 0
    assert json.loads(capsys.readouterr().out)["unknownItems"] == ["zz"]
    assert main(["personalize", "rank", solution, "--user", "u1", "--items", "i1", "i2,zz"]) == 0  # spaces too
    assert json.loads(capsys.readouterr().out)["unknownItems"] == ["zz"]
    (tmp_path / "in.jsonl").write_text('{"userId": "u1"}\n{"userId": "u2"}\n')
    assert main(["personalize", "batch", solution, "--input", str(tmp_path / "in.jsonl"), "--output",
                 str(tmp_path / "out.jsonl")]) == 0
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == 2
    with pytest.raises(SystemExit):  # no user: a clear message, not a traceback
        main(["personalize", "recommend", solution])
    assert "give `user_id` (`userId` in a request or batch input line, `--user` on the CLI)" in \
        capsys.readouterr().err
    similar = str(tmp_path / "similar")  # a recipe's own settings, as Personalize's algorithmHyperParameters
    assert main(["personalize", "train", "--interactions", str(tmp_path / "interactions.csv"), "--recipe", "sims",
                 "--hyperparameters", '{"sims": {"min_cointeractions": 2}}', "--quiet", "--output", similar]) == 0
    assert load_solution_version(similar).spec == {"name": "sims", "config": {"min_cointeractions": 2}}
    for options, refusal in [
            (["--recipe", "popularity-count", "--hyperparameters", '{"hrnn": {}}'],
             r"names \['hrnn'\], which this run"),
            (["--recipe", "hrnn", "--epochs", "1", "--hyperparameters", '{"hrnn": {"epochs": 2}}'],
             "both set hrnn's 'epochs'"),
            (["--recipe", "two-stage", "--epochs", "1", "--hyperparameters",
              '{"two-stage": {"retrieval": {"epochs": 2}}}'],
             "both set two-stage's 'retrieval.epochs'"),  # --epochs sets its two-tower's too
            (["--recipe", "two-stage", "--epochs", "1", "--hyperparameters", '{"two-stage": {"retrieval": 2}}'],
             "gives two-stage's 'retrieval' as 2: expected a dict"),
            (["--recipe-type", "SIMILAR_ITEMS"], "argument --recipe-type: must be one of USER_PERSONALIZATION, "),
            (["--recipe", "popularity-count", "--epochs", "2"],
             "--epochs is read by hrnn, .*; this run trains popularity-count, which does not read it")]:
        with pytest.raises(SystemExit):  # refused before any training
            main(["personalize", "train", "--interactions", str(tmp_path / "interactions.csv"), *options,
                  "--output", str(tmp_path / "refused")])
        assert re.search(refusal, capsys.readouterr().err)

    # The campaign's events and items join the next training (training mode UPDATE), once.
    campaign = Campaign(load_solution_version(solution), tmp_path / "events.db")
    tracker = campaign.create_event_tracker()
    for user in range(10):  # 30 events on one new item: the most popular of all
        campaign.put_events(tracker, f"fan{user}", f"s{user}", [{
            "eventId": f"fan{user}-{step}", "eventType": "click", "itemId": "brand-new", "sentAt": 2e9 + 3 * user + step}
            for step in range(3)])
    campaign.put_items([{"itemId": "brand-new", "properties": {"GENRE": "comedy", "PRICE": 9.0}}])
    campaign.close()
    updated, again = str(tmp_path / "v2"), str(tmp_path / "v3")
    assert main(["personalize", "train", "--update", solution, "--events", str(tmp_path / "events.db"), "--output",
                 updated]) == 0
    assert "Added 30 events" in capsys.readouterr().out
    version = load_solution_version(updated)
    assert len(version.interactions) == len(events) + 30 and "SESSION_ID" not in version.interactions.columns
    assert version.items.set_index("ITEM_ID").loc["brand-new", "GENRE"] == "comedy"
    assert version.settings["training_mode"] == "UPDATE"
    assert version.get_recommendations(user_id="someone", num_results=1)["itemList"][0]["itemId"] == "brand-new"
    assert main(["personalize", "train", "--update", updated, "--events", str(tmp_path / "events.db"), "--output",
                 again]) == 0  # the same store again: nothing twice
    assert len(load_solution_version(again).interactions) == len(events) + 30
    with pytest.raises(SystemExit):
        main(["personalize", "train", "--update", solution, "--recipe", "hrnn", "--output", str(tmp_path / "v4")])
    assert "drop ['--recipe']" in capsys.readouterr().err


def test_promotions_reserve_a_share_for_their_filter_in_the_recipes_order(popular, group):
    user = group.interactions["USER_ID"].iloc[0]
    cheap = "INCLUDE ItemID WHERE Items.PRICE < $MAX"
    answer = popular.get_recommendations(user_id=user, num_results=10, promotions=[
        {"name": "cheap", "percentPromotedItems": 30, "filter": cheap, "filterValues": {"MAX": 20}}])
    entries = answer["itemList"]
    prices = group.items.set_index("ITEM_ID")["PRICE"]
    promoted = [entry for entry in entries if entry.get("promotionName") == "cheap"]
    assert len(entries) == 10 and len(promoted) == 3 and all(prices[entry["itemId"]] < 20 for entry in promoted)
    order = list(popular.recommender.recommend(user_id=user, k=len(popular.recommender.items)).item_ids)
    positions = [order.index(entry["itemId"]) for entry in entries]
    assert positions == sorted(positions)  # placed by the recipe's ranking
    plain = [entry["itemId"] for entry in popular.get_recommendations(user_id=user, num_results=40)["itemList"]]
    promoted_ids = {entry["itemId"] for entry in promoted}
    others = [item for item in plain if item not in promoted_ids][:7]  # the other slots: the best of the rest
    assert [entry["itemId"] for entry in entries if "promotionName" not in entry] == others
    with pytest.raises(ValueError, match="percentPromotedItems must be 1 to 100"):
        popular.get_recommendations(user_id=user, promotions=[{"name": "x", "percentPromotedItems": 0,
                                                               "filter": cheap}])


def test_hpo_tunes_on_validation_users_and_serves_the_best_settings(group):
    solution = create_solution(group, recipe="sims", perform_hpo=True, hpo_trials=3)
    version = solution.create_version(verbose=0)
    settings = version.spec["config"]
    assert set(settings) == {"popularity_discount", "min_cointeractions"}
    assert version.recommender.popularity_discount == settings["popularity_discount"]
    assert version.recommender.min_cointeractions == settings["min_cointeractions"]
    trials = version.settings["hpo_trials"]["sims"]
    metric = "normalized_discounted_cumulative_gain_at_10"
    assert len(trials) == 3 and len({json.dumps(trial["hyperparameters"], sort_keys=True) for trial in trials}) == 3
    best = max(trials, key=lambda trial: trial[metric])
    assert best[metric] == max(trial[metric] for trial in trials) and best["hyperparameters"] == settings
    # Popularity has nothing to tune: HPO leaves it as it is.
    plain = create_solution(group, recipe="popularity-count", perform_hpo=True, hpo_trials=2).create_version(verbose=0)
    assert plain.spec["config"] == {}


@pytest.mark.parametrize("fraction", [None, 0.3])
def test_hpo_trials_fit_on_the_training_users_less_the_validation_share(group, monkeypatch, fraction):
    if fraction is not None:
        monkeypatch.setattr(solution_module, "HPO_VALIDATION_FRACTION", fraction)
    fitted_users = []

    def recording_fit_recipe(spec, interactions, *args, **kwargs):
        fitted_users.append(set(interactions["USER_ID"]))
        return fit_recipe(spec, interactions, *args, **kwargs)

    monkeypatch.setattr(solution_module, "fit_recipe", recording_fit_recipe)
    create_solution(group, recipe="sims", perform_hpo=True, hpo_trials=2).create_version(seed=0, verbose=0)
    training_users = set(personalize_split(group.interactions, seed=0)[0]["USER_ID"])
    share = solution_module.HPO_VALIDATION_FRACTION
    assert len(fitted_users) == 4  # two trials, the best settings on the split, then on every event
    held_out = round(share * len(training_users))  # 5 of the 54, or 16 with 0.3
    for trial_users in fitted_users[:2]:
        assert trial_users < training_users and len(trial_users) == len(training_users) - held_out
    assert fitted_users[2] == training_users and len(training_users) == 54


def test_hpo_searches_only_the_settings_the_user_left_open(group, capsys):
    solution = create_solution(group, recipe="sims", perform_hpo=True, hpo_trials=3,
                               settings={"sims": {"min_cointeractions": 3}})
    version = solution.create_version(verbose=0)
    assert capsys.readouterr().out == ""  # verbose=0 (the CLI's --quiet) silences keras-tuner's trial reports
    trials = version.settings["hpo_trials"]["sims"]
    assert len(trials) == 3 and {trial["hyperparameters"]["min_cointeractions"] for trial in trials} == {3}
    assert len({trial["hyperparameters"]["popularity_discount"] for trial in trials}) == 3
    assert version.spec["config"]["min_cointeractions"] == 3 == version.recommender.min_cointeractions
    # Every searched setting given: nothing is left to tune, no trial runs.
    given = {"min_cointeractions": 1, "popularity_discount": 0.3}
    version = create_solution(group, recipe="sims", perform_hpo=True, hpo_trials=3,
                              settings={"sims": given}).create_version(verbose=0)
    assert version.spec["config"] == given and version.settings["hpo_trials"] == {}


def test_update_warm_starts_the_latest_version_on_new_events_and_items():
    events, _ = _tables()
    new_item = pd.DataFrame({"USER_ID": ["u1", "u2"], "ITEM_ID": ["brand-new"] * 2, "EVENT_TYPE": "click",
                             "TIMESTAMP": [events["TIMESTAMP"].max() + 60, events["TIMESTAMP"].max() + 120],
                             "EVENT_VALUE": 3.0})
    solution = create_solution(DatasetGroup(events), recipe={"name": "two-tower", "config": {
        "epochs": 4, "embedding_dim": 8}})
    with pytest.raises(ValueError, match="create one with training_mode='FULL' first"):
        solution.create_version(training_mode="UPDATE", verbose=0)
    first = solution.create_version(verbose=0)
    updated = solution.create_version(training_mode="UPDATE", group=DatasetGroup(pd.concat([events, new_item])),
                                      verbose=0)
    assert updated is solution.latest_version and updated.settings["training_mode"] == "UPDATE"
    assert updated.recommender.epochs == 1 and "brand-new" in updated.recommender.items.ids
    pd.testing.assert_frame_equal(updated.leaderboard, first.leaderboard)  # not re-scored, as Personalize
    assert updated.get_recommendations(user_id="u3", num_results=5)["itemList"]
    with pytest.raises(ValueError, match="'FULL' or 'UPDATE'"):
        solution.create_version(training_mode="PATCH")


@pytest.mark.parametrize("recipe", ["hrnn", "gru4rec", "two-tower", "two-stage"])
def test_update_continues_a_saved_version(recipe, tmp_path):
    # What `kerasts personalize train --update` does: the previous version comes from disk, where a two-tower's
    # variables are named apart from its model's name (the warm start refused it), and the two-stage took no
    # warm start at all.
    events, _ = _tables()
    config = {**TINY[recipe], "epochs": 4}
    if recipe == "two-stage":
        config["retrieval"] = {**config["retrieval"], "epochs": 4}
    create_solution(DatasetGroup(events), recipe={"name": recipe, "config": config}).create_version(
        verbose=0).save(tmp_path / "version")
    updated = load_solution_version(tmp_path / "version").update(DatasetGroup(events), verbose=0)
    assert updated.recommender.epochs == 1 and updated.settings["training_mode"] == "UPDATE"
    if recipe == "two-stage":
        assert updated.recommender.retrieval.epochs == 1  # a quarter of its two-tower's epochs too
    assert len(updated.get_recommendations(user_id="u3", num_results=5)["itemList"]) == 5


def test_transfer_weights_matches_item_rows_by_id():
    from kerasts.models import HRNN
    from kerasts.models.warm_start import transfer_weights

    previous = HRNN(["a", "b", "c"], units=4, embedding_dim=3, tie_embeddings=True)
    previous.build()
    model = HRNN(["b", "c", "d"], units=4, embedding_dim=3, tie_embeddings=True)
    model.build()
    fresh = np.asarray(model.item_embedding.embeddings.numpy()).copy()
    assert transfer_weights(model, ["b", "c", "d"], previous, ["a", "b", "c"], model.item_axes()) == 2
    old, new = np.asarray(previous.item_embedding.embeddings), np.asarray(model.item_embedding.embeddings)
    np.testing.assert_array_equal(new[[0, 1, 2]], old[[0, 2, 3]])  # padding, b, c
    np.testing.assert_array_equal(new[3], fresh[3])  # d is new: as initialised
    np.testing.assert_array_equal(model.readout.kernel.numpy(), previous.readout.kernel.numpy())
    with pytest.raises(ValueError, match="same architecture and settings"):
        transfer_weights(HRNN(["b"], units=8, embedding_dim=3), ["b"], previous, ["a", "b", "c"], {})
