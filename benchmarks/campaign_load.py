"""The campaign server under load, on loopback: GetRecommendations latency at 1, 8 and 32 concurrent clients
and durable PutEvents per second, with the HRNN solution of MovieLens-latest-small behind it.

    .venv/bin/python benchmarks/campaign_load.py [--data PATH] [--solution DIR] [--seconds 10] [--runs 3]
        [--store sqlite|postgresql] [--users N]

The solution (the `hrnn` recipe, a session after a day idle) is trained once with `--epochs` (1 by default:
latency depends on the network's size, not on how long it trained) and kept in `--solution`. The server is
`kerasts personalize serve` in its own process on 127.0.0.1 with a fresh SQLite event database (its defaults:
batches of up to 64 requests on one worker thread); the load tool is wrk (`apt-get install wrk`: written in C,
so the client takes little of the cores it shares with the server), one thread, N connections each sending its
next request when the last is answered. First every known user is asked once by httpx (their history is read
then: the "first request" figures), then each level of concurrency runs `--seconds` of GetRecommendations (25
items, random known users), then 8 connections send PutEvents of 10 events each (a new user each) for
`--seconds`; `--users N` asks a seeded draw of N known users instead of all (asking a large solution's users
one by one takes minutes); "acknowledged" counts the events of 2xx answers, "stored" the database's rows
afterwards (calls in flight at the end may be stored too). Every stage is bounded in time. `--store postgresql`
keeps the events in PostgreSQL instead: a server started from the pgserver wheel (the test extra) in a temporary
directory, a new database each run, on a Unix socket of the same machine.
"""

import argparse
import os
import shutil
import contextlib
import signal
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
    from kerasts.testing import free_local_ports

    port, = free_local_ports()
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


RECOMMENDATIONS_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local users = {%(users)s}
request = function()
  local user = users[math.random(1, #users)]
  return wrk.format(nil, "/recommendations", nil, '{"userId": "' .. user .. '", "numResults": 25}')
end
"""

EVENTS_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local items = {%(items)s}
local calls = 0
request = function()
  calls = calls + 1
  local events = {}
  for event = 0, 9 do
    events[#events + 1] = '{"eventId": "%(run)s-' .. calls .. '-' .. event .. '", "eventType": "click", "itemId": "'
      .. items[(calls * 10 + event) %% #items + 1] .. '", "sentAt": ' .. (%(later)d + event) .. '}'
  end
  return wrk.format(nil, "/events", nil, '{"trackingId": "%(tracker)s", "userId": "load-%(run)s-' .. calls
    .. '", "sessionId": "s", "eventList": [' .. table.concat(events, ", ") .. ']}')
end
"""


def wrk(url, script, connections, seconds, directory):
    """wrk's figures: `{"p50", "p99"}` in ms, requests per second, and the requests answered other than 2xx."""
    path = os.path.join(directory, "load.lua")
    with open(path, "w") as handle:
        handle.write(script)
    output = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", path, url],
                            capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    figures = {"failed": 0}
    for line in output.splitlines():
        words = line.split()
        if words[:1] in (["50%"], ["99%"]):
            figures["p" + words[0].rstrip("%")] = _milliseconds(words[1])
        elif line.startswith("Requests/sec:"):
            figures["requests/s"] = float(words[1])
        elif line.startswith("  Non-2xx or 3xx responses:"):
            figures["failed"] = int(words[-1])
        elif "requests in" in line:
            figures["requests"] = int(words[0])
    return figures


def _milliseconds(text):
    for unit, scale in (("us", 1e-3), ("ms", 1.0), ("s", 1e3)):
        if text.endswith(unit) and text[:-len(unit)].replace(".", "").isdigit():
            return float(text[:-len(unit)]) * scale
    raise ValueError(f"wrk printed a latency {text!r}")


@contextlib.contextmanager
def event_databases(store):
    """`database(directory, run)` → a new empty event database's URL, for each run."""
    if store == "sqlite":
        yield lambda directory, run: os.path.join(directory, "events.db")
        return
    import pgserver

    with tempfile.TemporaryDirectory() as data:
        server = pgserver.get_server(data, cleanup_mode="stop")
        try:
            def database(directory, run):
                server.psql(f"CREATE DATABASE events_{run};")
                return server.get_uri(f"events_{run}")

            yield database
        finally:
            server.cleanup()


def first_requests(url, users):
    """Every known user asked once (their history is read then): latencies in ms."""
    import httpx

    latencies = []
    with httpx.Client(base_url=url, timeout=60) as client:
        for user in users:
            started = time.perf_counter()
            client.post("/recommendations", json={"userId": str(user), "numResults": 25}).raise_for_status()
            latencies.append(time.perf_counter() - started)
    return np.array(latencies) * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=movielens.DEFAULT_DATA)
    parser.add_argument("--solution", default=os.path.join(tempfile.gettempdir(), "kerasts-campaign-hrnn"))
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--store", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--users", type=int, help="ask this many known users (a seeded draw), not all")
    arguments = parser.parse_args()
    if not os.path.isdir(arguments.solution):
        train(arguments.data, arguments.solution, arguments.epochs)
    import pandas as pd

    interactions = pd.read_csv(os.path.join(arguments.solution, "interactions.csv"), dtype={"USER_ID": str,
                                                                                            "ITEM_ID": str})
    users = interactions["USER_ID"].unique()
    if arguments.users is not None and arguments.users < users.size:
        users = np.random.default_rng(0).choice(users, size=arguments.users, replace=False)
    items = interactions["ITEM_ID"].unique()
    if shutil.which("wrk") is None:
        raise SystemExit("The load tool is wrk (a C HTTP benchmark, so the client costs the 2 cores little): "
                         "apt-get install wrk.")
    quoted = lambda ids: ", ".join(f'"{value}"' for value in ids)  # noqa: E731 - Lua tables
    from kerasts.serving import open_event_store

    rows = []
    for run in range(arguments.runs):
        with tempfile.TemporaryDirectory() as directory, event_databases(arguments.store) as database:
            events = database(directory, run)
            tracking_id = subprocess.run([sys.executable, "-m", "kerasts", "personalize", "create-event-tracker",
                                          "--events", events], capture_output=True, text=True,
                                         check=True).stdout.strip()
            process, url = start_server(arguments.solution, events)
            try:
                first = first_requests(url, users)
                row = {"run": run, "first p50": np.median(first), "first p99": np.percentile(first, 99)}
                for concurrency in (1, 8, 32):
                    figures = wrk(url, RECOMMENDATIONS_SCRIPT % {"users": quoted(users)}, concurrency,
                                  arguments.seconds, directory)
                    row.update({f"c{concurrency} p50": figures["p50"], f"c{concurrency} p99": figures["p99"],
                                f"c{concurrency} req/s": figures["requests/s"],
                                f"c{concurrency} failed": figures["failed"]})
                figures = wrk(url, EVENTS_SCRIPT % {"items": quoted(items), "run": run, "later": LATER,
                                                   "tracker": tracking_id}, 8, arguments.seconds, directory)
            finally:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=60)
            store = open_event_store(events)
            stored = len(store.events())
            store.close()
        row.update({"events/s": figures["requests/s"] * 10, "PutEvents p50": figures["p50"],
                    "PutEvents p99": figures["p99"], "acknowledged": 10 * (figures["requests"] - figures["failed"]),
                    "stored": stored})
        rows.append(row)
        print(", ".join(f"{key} {value:,.1f}" if isinstance(value, float) else f"{key} {value}"
                        for key, value in row.items()), flush=True)
    frame = pd.DataFrame(rows).set_index("run")
    print("\nMedians over runs (ms unless said):")
    print(frame.median().to_frame("median").T.to_string(float_format=lambda value: f"{value:,.1f}"))


if __name__ == "__main__":
    main()
