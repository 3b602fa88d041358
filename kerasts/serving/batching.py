"""Concurrent requests gathered into batches for one worker thread: how a campaign server answers many
clients with one model call and one commit per batch."""

import asyncio
import queue
import threading

from kerasts._checks import check_positive_int


class RequestBatcher:
    """Hands whatever requests are waiting to `answer(requests)`, one batch at a time, on one thread.

    No request waits for others to arrive: a worker that is free takes the first request at once, and
    the requests that came while it was busy form the next batch. A lone client is therefore answered as
    fast as unbatched, and under load the per-call costs (a model call, a commit's disk flush) are shared.

    Args:
        answer: `answer(requests)` → a list with one result per request, or in a request's place the
            exception it raised (`Campaign.answer`).
        max_batch: the most requests in one batch.

    Call arguments (`submit`, a coroutine):
        request: one request, as `answer` takes it. Returns its result, or raises its exception.

    Example:

    ```python
    batcher = RequestBatcher(campaign.answer)
    answer = await batcher.submit(("get_recommendations", {"user_id": "42"}))
    batcher.close()
    ```
    """

    def __init__(self, answer, max_batch=64):
        check_positive_int("max_batch", max_batch)
        self.answer = answer
        self.max_batch = max_batch
        self._queue = queue.SimpleQueue()
        self._worker = threading.Thread(target=self._run, name="kerasts-request-batcher", daemon=True)
        self._worker.start()

    async def submit(self, request):
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._queue.put((request, loop, future))
        result = await future
        if isinstance(result, BaseException):
            raise result
        return result

    def close(self):
        """Answers the requests already submitted, then stops the worker."""
        self._queue.put(None)
        self._worker.join()

    def _run(self):
        while True:
            waiting = self._queue.get()
            batch = []
            while waiting is not None:
                batch.append(waiting)
                if len(batch) == self.max_batch:
                    break
                try:
                    waiting = self._queue.get_nowait()
                except queue.Empty:
                    break
            if batch:
                try:
                    results = self.answer([request for request, _, _ in batch])
                except Exception as error:  # noqa: BLE001 - a failed batch fails each of its requests
                    results = [error] * len(batch)
                for (_, loop, future), result in zip(batch, results):
                    loop.call_soon_threadsafe(_settle, future, result)
            if waiting is None:
                return


def _settle(future, result):
    if not future.cancelled():  # the client went away
        future.set_result(result)
