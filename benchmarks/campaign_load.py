"""The campaign server under load, on loopback: GetRecommendations latency at 1, 8 and 32 concurrent clients
and durable PutEvents per second, with the HRNN solution of MovieLens-latest-small behind it.

    .venv/bin/python benchmarks/campaign_load.py [--data PATH] [--solution DIR] [--seconds 10] [--runs 3]

The solution (the `hrnn` recipe, a session after a day idle) is trained once with `--epochs` (1 by default:
latency depends on the network's size, not on how long it trained) and kept in `--solution`. The server
is `kerasts personalize serve` in its own process on 127.0.0.1 with a fresh SQLite event database; the
clients are asyncio tasks of one httpx process on the same machine, so they share its cores. First every
known user is asked once (their history is read then: the "first request" figures), then each level of
concurrency runs `--seconds` of GetRecommendations (25 items, random known users), then 8 clients send
PutEvents of 10 events each (new users, one session each) for `--seconds`; a PutEvents is counted when it
is acknowledged, and the events stored are counted afterwards. Every stage is bounded in time.
"""

import argparse
import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import movielens  # noqa: E402

LATER = 2_000_000_000  # after every MovieLens rating: applied live


def train(data, directory, epochs):
    import kerasts  # noqa: F401 - first, to silence TensorFlow's start-up logging
    from kerasts.data import load_movielens
    from kerasts.personalize import DatasetGroup, create_solution

    interactions, items = load_movielens(data)
    started = time.perf_counter()
    version = create_solution(DatasetGroup(interactions, items=items), recipe={"name": "hrnn", "config": {
        "session_gap_seconds": 86400, "epochs": epochs}}).create_version(verbose=0)
    version.save(directory)
    print(f"Trained the hrnn solution in {time.perf_counter() - started:.0f} s: {directory}", flush=True)


def start_server(solution, events):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "kerasts", "personalize", "serve", solution, "--events", events,
                                "--port", str(port)], stdout=subprocess.DEVNULL)
    import httpx

    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process, f"http://127.0.0.1:{port}"
        except httpx.TransportError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit("The server did not start within 180 s.")


async def recommendations(client, users, concurrency, seconds, seed):
    generator = np.random.default_rng(seed)
    latencies, deadline = [], time.monotonic() + seconds

    async def worker():
        while time.monotonic() < deadline:
            body = {"userId": str(users[generator.integers(len(users))]), "numResults": 25}
            started = time.perf_counter()
            response = await client.post("/recommendations", json=body)
            latencies.append(time.perf_counter() - started)
            response.raise_for_status()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return np.array(latencies) * 1000


async def put_events(client, tracking_id, items, concurrency, seconds, run):
    acknowledged, latencies, deadline = 0, [], time.monotonic() + seconds

    async def worker(number):
        nonlocal acknowledged
        for batch in range(1_000_000):
            if time.monotonic() >= deadline:
                return
            body = {"trackingId": tracking_id, "userId": f"load-{run}-{number}-{batch}", "sessionId": "s",
                    "eventList": [{"eventId": f"{run}-{number}-{batch}-{event}", "eventType": "click",
                                   "itemId": items[(batch * 10 + event) % len(items)], "sentAt": LATER + event}
                                  for event in range(10)]}
            started = time.perf_counter()
            response = await client.post("/events", json=body)
            latencies.append(time.perf_counter() - started)
            response.raise_for_status()
            acknowledged += 10

    started = time.perf_counter()
    await asyncio.gather(*(worker(number) for number in range(concurrency)))
    return acknowledged, acknowledged / (time.perf_counter() - started), np.array(latencies) * 1000


async def measure(url, users, items, tracking_id, seconds, run):
    import httpx

    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:
        first = []
        for user in users:  # every known user once: their history is read on the first request
            started = time.perf_counter()
            (await client.post("/recommendations", json={"userId": str(user), "numResults": 25})).raise_for_status()
            first.append(time.perf_counter() - started)
        figures = {"first": np.array(first) * 1000}
        for concurrency in (1, 8, 32):
            figures[concurrency] = await recommendations(client, users, concurrency, seconds, seed=run)
        figures["events"] = await put_events(client, tracking_id, items, 8, seconds, run)
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=movielens.DEFAULT_DATA)
    parser.add_argument("--solution", default=os.path.join(tempfile.gettempdir(), "kerasts-campaign-hrnn"))
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=3)
    arguments = parser.parse_args()
    if not os.path.isdir(arguments.solution):
        train(arguments.data, arguments.solution, arguments.epochs)
    import pandas as pd

    interactions = pd.read_csv(os.path.join(arguments.solution, "interactions.csv"), dtype={"USER_ID": str,
                                                                                            "ITEM_ID": str})
    users = interactions["USER_ID"].unique()
    items = interactions["ITEM_ID"].unique()
    rows = []
    for run in range(arguments.runs):
        with tempfile.TemporaryDirectory() as directory:
            events = os.path.join(directory, "events.db")
            tracking_id = subprocess.run([sys.executable, "-m", "kerasts", "personalize", "create-event-tracker",
                                          "--events", events], capture_output=True, text=True,
                                         check=True).stdout.strip()
            process, url = start_server(arguments.solution, events)
            try:
                figures = asyncio.run(measure(url, users, items, tracking_id, arguments.seconds, run))
            finally:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=60)
            with sqlite3.connect(events) as connection:
                stored = connection.execute("SELECT COUNT(*) FROM events").fetchone()[0]
        acknowledged, rate, event_latencies = figures["events"]
        row = {"run": run, "first p50": np.median(figures["first"]), "first p99": np.percentile(figures["first"], 99)}
        for concurrency in (1, 8, 32):
            latencies = figures[concurrency]
            row.update({f"c{concurrency} p50": np.median(latencies), f"c{concurrency} p99": np.percentile(latencies, 99),
                        f"c{concurrency} req/s": len(latencies) / arguments.seconds})
        row.update({"events/s": rate, "PutEvents p50": np.median(event_latencies), "acknowledged": acknowledged,
                    "stored": stored})
        rows.append(row)
        print(", ".join(f"{key} {value:,.1f}" if isinstance(value, float) else f"{key} {value}"
                        for key, value in row.items()), flush=True)
    frame = pd.DataFrame(rows).set_index("run")
    print("\nMedians over runs (ms unless said):")
    print(frame.median().to_frame("median").T.to_string(float_format=lambda value: f"{value:,.1f}"))


if __name__ == "__main__":
    main()
