"""A `Campaign` over HTTP, with the optional extra `kerasts[serve]` (FastAPI, run by uvicorn).

Personalize's runtime and event APIs in their JSON shapes (camelCase):

- `POST /recommendations` (GetRecommendations): `userId` and/or `itemId`, `numResults`, `filterArn` (the
  name of a filter the server was started with), `filterValues` and `metadataColumns` (`{"ITEMS": [...]}`:
  each item's values of those Items columns, in its `metadata`). A `context` (Personalize's contextual
  metadata) is refused, not ignored: no kerasts recipe reads it.
- `POST /personalize-ranking` (GetPersonalizedRanking): `userId`, `inputList`, `filterArn`, `filterValues`,
  `metadataColumns`.
- `POST /events` (PutEvents): `trackingId`, `userId`, `sessionId`, `eventList` (at most 10 events).
- `POST /users`, `POST /items` (PutUsers, PutItems): `users` / `items` (at most 10).
- `GET /health`; the OpenAPI page at `/docs`.

A malformed request is answered 422 with the field's location (FastAPI's validation), a request the
campaign refuses 400 with `{"message": ...}` naming the field, a body over `max_body_bytes` 413; with an
`api_key`, every path but `/health` needs it in the `X-Api-Key` header (401 otherwise). Nothing is
stored from a refused request. The server speaks plain HTTP: put TLS in a reverse proxy in front of it.
"""

import contextlib
import gc
import hmac
import json
import re
import socket
import uuid

# A PutEvents call is a few KiB; the limit stops a client from making the server read without end.
MAX_BODY_BYTES = 1_000_000


def _models():
    from pydantic import BaseModel, ConfigDict, Field

    from kerasts.personalize.solution import MAX_RESULTS

    class Shape(BaseModel):
        model_config = ConfigDict(extra="forbid")

    class Event(Shape):
        eventId: str | None = None
        eventType: str
        sentAt: float
        itemId: str | None = None
        eventValue: float | None = None
        properties: str | dict | None = None
        impression: list[str] | None = None
        recommendationId: str | None = None

    class PutEvents(Shape):
        trackingId: str
        userId: str | None = None
        sessionId: str
        eventList: list[Event] = Field(min_length=1, max_length=10)

    class Recommendations(Shape):
        userId: str | None = None
        itemId: str | None = None
        numResults: int = Field(25, ge=1, le=MAX_RESULTS)
        filterArn: str | None = None
        filterValues: dict[str, str] | None = None
        context: dict[str, str] | None = None
        metadataColumns: dict[str, list[str]] | None = None

    class Ranking(Shape):
        userId: str
        inputList: list[str] = Field(min_length=1, max_length=MAX_RESULTS)
        filterArn: str | None = None
        filterValues: dict[str, str] | None = None
        context: dict[str, str] | None = None
        metadataColumns: dict[str, list[str]] | None = None

    class Row(Shape):
        properties: str | dict | None = None

    class User(Row):
        userId: str

    class Item(Row):
        itemId: str

    class PutUsers(Shape):
        datasetArn: str | None = None
        users: list[User] = Field(min_length=1, max_length=10)

    class PutItems(Shape):
        datasetArn: str | None = None
        items: list[Item] = Field(min_length=1, max_length=10)

    return PutEvents, Recommendations, Ranking, PutUsers, PutItems


class _Guard:
    """ASGI middleware in front of the app (plain ASGI: Starlette's `BaseHTTPMiddleware` costs milliseconds a
    request): the API key on every path but `/health` (401), a POST body not declared as JSON answered 415
    with the header to send (`curl -d` declares a form; FastAPI would answer a bare 422, and reading a form
    as JSON is what cross-site request forgery needs), and a body over `limit` bytes answered 413
    before the app reads it whole."""

    def __init__(self, app, api_key, limit):
        self.app, self.limit = app, limit
        self.api_key = None if api_key is None else api_key.encode()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        if self.api_key is not None and scope["path"] != "/health" and not hmac.compare_digest(
                headers.get(b"x-api-key", b""), self.api_key):
            return await _send_json(send, 401, {"message": "Missing or wrong X-Api-Key header."})
        media_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower().decode("latin-1")
        if scope["method"] == "POST" and not re.fullmatch(r"application/([\w.+-]+\+)?json", media_type):
            declared = repr(media_type) if media_type else "none"
            return await _send_json(send, 415, {"message": "The body must be JSON, sent with the header "
                                                f"Content-Type: application/json (got {declared})."})
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            return await _send_json(send, 413, {"message": f"The request body is over {self.limit} bytes."})
        received = 0

        async def limited():
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise _TooLarge()
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await _send_json(send, 413, {"message": f"The request body is over {self.limit} bytes."})


class _TooLarge(Exception):
    pass


async def _send_json(send, status, body):
    payload = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})


def create_app(campaign, filters=None, api_key=None, max_body_bytes=MAX_BODY_BYTES, max_batch=64):
    """The ASGI app serving `campaign`.

    Requests are answered on one worker thread in batches (`kerasts.serving.RequestBatcher` over
    `Campaign.answer`): the event loop parses and validates while the worker runs the model, concurrent
    GetRecommendations share one model call and concurrent PutEvents one commit.

    Args:
        campaign: the `Campaign`.
        filters: `{name: expression}`, the filters requests name in `filterArn` (parsed now, so a bad one
            fails at start).
        api_key: if given, the `X-Api-Key` every request but `GET /health` must carry.
        max_body_bytes: the largest request body read.
        max_batch: the most requests answered in one batch.
    """
    try:
        from fastapi import FastAPI, Request
        from fastapi.responses import JSONResponse
    except ImportError as error:
        raise ImportError("The campaign server needs FastAPI and uvicorn: pip install 'kerasts[serve]'.") from error
    from kerasts.serving.batching import RequestBatcher

    PutEvents, Recommendations, Ranking, PutUsers, PutItems = _models()
    filters = dict(filters or {})
    for expression in filters.values():
        campaign.version.filter(expression)
    batcher = None

    @contextlib.asynccontextmanager
    async def lifespan(app):
        nonlocal batcher
        batcher = RequestBatcher(campaign.answer, max_batch=max_batch)
        try:
            yield
        finally:
            batcher.close()

    app = FastAPI(title="kerasts campaign", version="1", description=__doc__, lifespan=lifespan)

    @app.exception_handler(ValueError)
    async def refused(request: Request, error: ValueError):
        return JSONResponse({"message": str(error)}, status_code=400)

    def no_context(context):
        if context:
            raise ValueError(f"context: no kerasts recipe reads contextual metadata (got {sorted(context)}), so "
                             "recommendations would not depend on it; leave `context` out.")

    def filter_of(name):
        if name is None:
            return None
        if name not in filters:
            raise ValueError(f"filterArn: no filter {name!r}; this campaign has {sorted(filters)}.")
        return filters[name]

    # Each answers a JSONResponse, which FastAPI sends as it is: a returned dict is walked by its encoder first.
    @app.post("/recommendations")
    async def get_recommendations(request: Recommendations):
        no_context(request.context)
        answer = await batcher.submit(("get_recommendations", {
            "user_id": request.userId, "item_id": request.itemId, "num_results": request.numResults,
            "filter": filter_of(request.filterArn), "filter_values": request.filterValues,
            "metadata_columns": request.metadataColumns}))
        return JSONResponse({**answer, "recommendationId": uuid.uuid4().hex})

    @app.post("/personalize-ranking")
    async def get_personalized_ranking(request: Ranking):
        no_context(request.context)
        answer = await batcher.submit(("get_personalized_ranking", {
            "user_id": request.userId, "input_list": request.inputList, "filter": filter_of(request.filterArn),
            "filter_values": request.filterValues, "metadata_columns": request.metadataColumns}))
        return JSONResponse({**answer, "recommendationId": uuid.uuid4().hex})

    @app.post("/events")
    async def put_events(request: PutEvents):
        events = [event.model_dump(exclude_none=True) for event in request.eventList]
        return JSONResponse(await batcher.submit(("put_events", {
            "tracking_id": request.trackingId, "user_id": request.userId, "session_id": request.sessionId,
            "events": events})))

    @app.post("/users")
    async def put_users(request: PutUsers):
        return JSONResponse(await batcher.submit(("put_users", {
            "users": [user.model_dump(exclude_none=True) for user in request.users]})))

    @app.post("/items")
    async def put_items(request: PutItems):
        return JSONResponse(await batcher.submit(("put_items", {
            "items": [item.model_dump(exclude_none=True) for item in request.items]})))

    @app.get("/health")
    async def health():
        return {"status": "ok", "recipe": campaign.version.recipe_name}

    return _Guard(app, api_key, max_body_bytes)


def serve(solution_directory, events, host="127.0.0.1", port=8080, filters=None, api_key=None, max_batch=64,
          create_event_tracker=False):
    """Loads the solution version, opens its campaign on the `events` store, listens on `host:port` (0: a free
    port), prints the address it serves, and serves it with uvicorn until stopped. With `create_event_tracker`,
    prints a new tracking id first."""
    import uvicorn

    from kerasts.serving.campaign import Campaign
    from kerasts.personalize.solution import load_solution_version

    campaign = Campaign(load_solution_version(solution_directory), events)
    app = create_app(campaign, filters=filters, api_key=api_key, max_batch=max_batch)
    try:  # bound here, so the address printed is the one served and a taken port is named
        listener = socket.create_server((host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET)
    except (OSError, OverflowError) as error:  # OverflowError: a port outside 0-65535
        campaign.close()
        raise ValueError(f"Cannot listen on {host}:{port}: {getattr(error, 'strerror', None) or error}") from None
    if create_event_tracker:
        print(f"trackingId: {campaign.create_event_tracker()}", flush=True)
    print(f"Serving {solution_directory} on http://{host}:{listener.getsockname()[1]} (events in {events})",
          flush=True)
    # The loaded model and tables are millions of long-lived objects: frozen, the collector's full passes
    # skip them (they paused every request for ~100 ms, a p99 of 150 ms at 8 clients against 10 ms frozen).
    gc.collect()
    gc.freeze()
    try:
        uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning")).run(sockets=[listener])
    finally:
        listener.close()
        campaign.close()
