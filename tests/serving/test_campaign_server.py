"""The campaign server as users run it: a real `kerasts personalize serve` process on 127.0.0.1, called over
HTTP; its answers against the in-process solution version; bad requests; SIGKILL in the middle of a stream
of PutEvents, then a restart. Every wait is bounded."""

import kerasts  # first, to silence TensorFlow's start-up logging

import concurrent.futures  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import select  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import sqlite3  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

import httpx  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from kerasts.personalize import DatasetGroup, create_solution, load_solution_version  # noqa: E402
from kerasts.serving.campaign import Campaign  # noqa: E402

API_KEY = "test-key"
FILTER = 'EXCLUDE ItemID WHERE Items.GENRE IN ($GENRE)'
START_SECONDS = 120
LATER = 2_000_000_000


@pytest.fixture(scope="module")
def solution(tmp_path_factory):
    events = kerasts.data.synthetic_interactions(num_users=40, num_items=50, events_per_user=10, seed=2)
    items = pd.DataFrame({"ITEM_ID": sorted(events["ITEM_ID"].unique())})
    items["GENRE"] = np.where(np.arange(len(items)) % 2, "comedy", "drama")
    items["PRICE"] = np.arange(len(items)) * 2
    version = create_solution(DatasetGroup(events, items=items), recipe="hrnn", settings={
        "hrnn": {"epochs": 1, "units": 8, "embedding_dim": 8, "user_units": 8}}).create_version(verbose=0)
    directory = tmp_path_factory.mktemp("server") / "solution"
    version.save(directory)
    return directory


class Server:
    """`kerasts personalize serve` in a child process on a free port of 127.0.0.1 (`--port 0`: the port it
    prints it serves is the one called)."""

    def __init__(self, solution, events):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kerasts", "personalize", "serve", str(solution), "--events", str(events),
             "--port", "0", "--filter", f"genre={FILTER}", "--api-key-env", "CAMPAIGN_KEY"],
            env={**os.environ, "CAMPAIGN_KEY": API_KEY}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        # Raw reads of the pipe, so no line can wait in a reader's buffer while `select` waits on the pipe.
        deadline, printed, address = time.monotonic() + START_SECONDS, b"", None
        while address is None and time.monotonic() < deadline:
            ready, _, _ = select.select([self.process.stdout], [], [], max(0.0, deadline - time.monotonic()))
            chunk = os.read(self.process.stdout.fileno(), 4096) if ready else b""
            if ready and not chunk:
                raise AssertionError(f"The server exited: {self.process.stderr.read().decode()[-2000:]}")
            printed += chunk
            address = re.search(rb"Serving .* on (http://127\.0\.0\.1:\d+)", printed)
        if address is None:
            self.stop()
            raise AssertionError(f"The server did not start within {START_SECONDS} s.")
        self.url = address.group(1).decode()
        assert httpx.get(f"{self.url}/health", timeout=10).status_code == 200  # listening once it says so
        self.client = httpx.Client(base_url=self.url, headers={"X-Api-Key": API_KEY}, timeout=30)

    def post(self, path, body, **options):
        return self.client.post(path, json=body, **options)

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


def _stored(events):
    with sqlite3.connect(events) as connection:
        return connection.execute("SELECT event_id FROM events ORDER BY sequence").fetchall()


def test_every_endpoint_answers_as_the_solution_version_does_in_process(solution, tmp_path):
    events = tmp_path / "events.db"
    tracker = Campaign(load_solution_version(solution), events).create_event_tracker()
    server = Server(solution, events)
    try:
        reference = load_solution_version(solution)
        user = reference.interactions["USER_ID"].iloc[0]
        catalog = list(reference.recommender.items.ids)
        answer = server.post("/recommendations", {"userId": user, "numResults": 5}).json()
        assert answer["itemList"] == reference.get_recommendations(user_id=user, num_results=5)["itemList"]
        assert "recommendationId" in answer
        put = server.post("/events", {"trackingId": tracker, "userId": user, "sessionId": "s1", "eventList": [
            {"eventId": "a", "eventType": "click", "itemId": catalog[2], "sentAt": LATER}]})
        assert put.status_code == 200 and put.json() == {"stored": 1, "duplicates": 0}
        reference.put_events(user, [{"ITEM_ID": catalog[2], "TIMESTAMP": LATER, "EVENT_TYPE": "click"}], "s1")
        live = server.post("/recommendations", {"userId": user, "numResults": 5}).json()["itemList"]
        assert live == reference.get_recommendations(user_id=user, num_results=5)["itemList"] != answer["itemList"]
        filtered = server.post("/recommendations", {"userId": user, "filterArn": "genre",
                                                    "filterValues": {"GENRE": '"comedy"'}}).json()["itemList"]
        assert filtered == reference.get_recommendations(user_id=user, filter=FILTER,
                                                         filter_values={"GENRE": '"comedy"'})["itemList"]
        ranking = server.post("/personalize-ranking", {"userId": user, "inputList": [catalog[0], "nope", catalog[1]]})
        expected = reference.get_personalized_ranking(user, [catalog[0], "nope", catalog[1]])
        assert {key: ranking.json()[key] for key in expected} == expected
        described = server.post("/recommendations", {"userId": user, "numResults": 3, "metadataColumns": {
            "ITEMS": ["PRICE", "GENRE"]}}).json()["itemList"]
        prices = reference.items.set_index("ITEM_ID")["PRICE"]
        assert [entry["metadata"] for entry in described] == [
            {"PRICE": int(prices[entry["itemId"]]), "GENRE": "comedy" if prices[entry["itemId"]] % 4 else "drama"}
            for entry in described]
        ranked = server.post("/personalize-ranking", {"userId": user, "inputList": [catalog[0], "nope"],
                                                      "metadataColumns": {"ITEMS": ["GENRE"]}}).json()
        assert [entry["metadata"] for entry in ranked["personalizedRanking"]] == [{"GENRE": "drama"}, {}]
        assert server.post("/items", {"items": [{"itemId": catalog[0], "properties": '{"GENRE": "western"}'}]}
                           ).status_code == 200
        assert server.post("/users", {"users": [{"userId": "new-user", "properties": '{"AGE": "30"}'}]}
                           ).status_code == 200
        assert server.client.get("/health").json()["recipe"] == "hrnn"
        assert server.client.get("/openapi.json").json()["paths"].keys() >= {"/recommendations", "/events"}
    finally:
        server.stop()


BAD_REQUESTS = [
    ("malformed JSON", "/events", b"{not json", 422, "json_invalid"),
    ("a missing field", "/events", {"userId": "u", "sessionId": "s", "eventList": []}, 422, "trackingId"),
    ("too many events", "/events", {"trackingId": "T", "sessionId": "s", "eventList": [
        {"eventType": "click", "itemId": "x", "sentAt": LATER}] * 11}, 422, "eventList"),
    ("an unknown tracker", "/events", {"trackingId": "nope", "sessionId": "s", "eventList": [
        {"eventType": "click", "itemId": "x", "sentAt": LATER}]}, 400, "trackingId: no event tracker"),
    ("milliseconds", "/events", {"trackingId": "T", "sessionId": "s", "eventList": [
        {"eventType": "click", "itemId": "x", "sentAt": LATER * 1000}]}, 400, r"eventList\[0\].sentAt"),
    ("a text timestamp", "/events", {"trackingId": "T", "sessionId": "s", "eventList": [
        {"eventType": "click", "itemId": "x", "sentAt": "yesterday"}]}, 422, "sentAt"),
    ("an unknown field", "/events", {"trackingId": "T", "sessionId": "s", "colour": "red", "eventList": [
        {"eventType": "click", "itemId": "x", "sentAt": LATER}]}, 422, "colour"),
    ("no user for a user recipe", "/recommendations", {"itemId": "x"}, 400, r"give `user_id` \(`userId`"),
    ("too many results", "/recommendations", {"userId": "u", "numResults": 10_000}, 422, "numResults"),
    ("an unknown filter", "/recommendations", {"userId": "u", "filterArn": "nope"}, 400, "filterArn: no filter"),
    ("a filter value missing", "/recommendations", {"userId": "u", "filterArn": "genre"}, 400, r"\$GENRE"),
    ("an empty ranking list", "/personalize-ranking", {"userId": "u", "inputList": []}, 422, "inputList"),
    ("an unknown metadata column", "/recommendations", {"userId": "u", "metadataColumns": {"ITEMS": ["TITLE"]}},
     400, r"metadata_columns`: the Items table has no column\(s\) \['TITLE'\]; it has \['GENRE', 'PRICE'\]"),
    ("contextual metadata", "/recommendations", {"userId": "u", "context": {"DEVICE": "phone"}}, 400,
     r"context: no kerasts recipe reads contextual metadata \(got \['DEVICE'\]\)"),
    ("contextual metadata in a ranking", "/personalize-ranking", {"userId": "u", "inputList": ["x"], "context": {
        "DEVICE": "phone"}}, 400, "context: no kerasts recipe reads"),
    ("an item field the table lacks", "/items", {"items": [{"itemId": "n", "properties": '{"COLOUR": "red"}'}]}, 400,
     "COLOUR"),
    ("a body too large", "/events", b"x" * 2_000_000, 413, "over 1000000 bytes"),
]


def test_bad_requests_get_their_4xx_naming_the_field_and_store_nothing(solution, tmp_path):
    events = tmp_path / "events.db"
    tracker = Campaign(load_solution_version(solution), events).create_event_tracker()
    server = Server(solution, events)
    try:
        assert httpx.post(f"{server.url}/recommendations", json={"userId": "u"}).status_code == 401
        assert httpx.get(f"{server.url}/health").status_code == 200  # health needs no key
        for case, path, body, status, message in BAD_REQUESTS:
            if isinstance(body, dict) and body.get("trackingId") == "T":
                body = {**body, "trackingId": tracker}
            response = server.client.post(path, content=body, headers={"content-type": "application/json"}) \
                if isinstance(body, bytes) else server.post(path, body)
            assert response.status_code == status, (case, response.text)
            assert re.search(message, response.text), (case, response.text)
        # `curl -d` declares a form: refused with the header to send, as is a body declared as nothing.
        declared_form = server.client.post("/recommendations", content=b'{"userId": "u"}',
                                           headers={"content-type": "application/x-www-form-urlencoded"})
        assert declared_form.status_code == 415
        assert "Content-Type: application/json (got 'application/x-www-form-urlencoded')" in declared_form.text
        undeclared = server.client.post("/recommendations", content=b'{"userId": "u"}')
        assert undeclared.status_code == 415 and "(got none)" in undeclared.text
        assert server.client.post("/recommendations", content=b'{"userId": "u"}',
                                  headers={"content-type": "application/json; charset=utf-8"}).status_code == 200
        assert _stored(events) == []
    finally:
        server.stop()


def test_sigkill_in_a_stream_of_events_loses_no_acknowledged_event_and_restarts_in_the_same_state(solution, tmp_path):
    events = tmp_path / "events.db"
    tracker = Campaign(load_solution_version(solution), events).create_event_tracker()
    catalog = list(load_solution_version(solution).recommender.items.ids)
    server = Server(solution, events)
    acknowledged, stop = [], threading.Event()

    def client(number):
        with httpx.Client(base_url=server.url, headers={"X-Api-Key": API_KEY}, timeout=10) as http:
            for batch in range(10_000):
                if stop.is_set():
                    return
                ids = [f"c{number}-b{batch}-e{event}" for event in range(3)]
                body = {"trackingId": tracker, "userId": f"live-{number}", "sessionId": "s", "eventList": [
                    {"eventId": event_id, "eventType": "click", "itemId": catalog[(batch + offset) % len(catalog)],
                     "sentAt": LATER + batch} for offset, event_id in enumerate(ids)]}
                try:
                    if http.post("/events", json=body).status_code == 200:
                        acknowledged.extend(ids)
                except httpx.TransportError:
                    return  # the server is gone

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        clients = [pool.submit(client, number) for number in range(4)]
        deadline = time.monotonic() + 30
        while len(acknowledged) < 150 and time.monotonic() < deadline:
            time.sleep(0.05)
        server.kill()  # mid-stream: the clients are still sending
        stop.set()
        for finished in clients:
            finished.result(timeout=30)
    assert len(acknowledged) >= 150
    stored = [row[0] for row in _stored(events)]
    assert len(stored) == len(set(stored)) and set(acknowledged) <= set(stored)
    batches = pd.Series(stored).str.rsplit("-", n=1).str[0].value_counts()
    assert (batches == 3).all()  # a batch is stored whole or not at all
    restarted = Server(solution, events)
    try:
        replayed = Campaign(load_solution_version(solution), events)  # a clean replay, in this process
        for number in range(4):
            body = {"userId": f"live-{number}", "numResults": 10}
            assert restarted.post("/recommendations", body).json()["itemList"] == \
                replayed.get_recommendations(user_id=f"live-{number}", num_results=10)["itemList"]
    finally:
        restarted.stop()


def test_a_taken_port_is_named(solution, tmp_path):
    from kerasts.serving.server import serve

    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(ValueError, match=f"Cannot listen on 127.0.0.1:{port}: Address already in use"):
            serve(solution, tmp_path / "events.db", port=port)
