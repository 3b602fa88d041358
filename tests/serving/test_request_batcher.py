"""The request batcher: concurrent requests answered in batches on one thread, each getting its own result."""

import asyncio
import threading

import pytest

from kerasts.serving import RequestBatcher


def test_requests_that_wait_while_the_worker_is_busy_are_answered_together():
    batches, busy = [], threading.Event()

    def answer(requests):
        batches.append(list(requests))
        if len(batches) == 1:
            busy.wait(10)  # the first batch holds the worker while the others arrive
        return [ValueError(f"bad {request}") if request < 0 else request * 10 for request in requests]

    batcher = RequestBatcher(answer, max_batch=4)

    async def clients():
        first = asyncio.ensure_future(batcher.submit(1))
        while not batches:
            await asyncio.sleep(0.001)
        rest = [asyncio.ensure_future(batcher.submit(request)) for request in (2, -3, 4, 5, 6)]
        await asyncio.sleep(0.05)
        busy.set()
        return await asyncio.gather(first, *rest, return_exceptions=True)

    results = asyncio.run(clients())
    batcher.close()
    assert results[:2] == [10, 20] and results[3:] == [40, 50, 60]
    assert isinstance(results[2], ValueError) and str(results[2]) == "bad -3"
    assert batches == [[1], [2, -3, 4, 5], [6]]  # no more than max_batch at once, in arrival order


def test_under_load_a_batch_waits_for_as_many_as_last_time_and_a_lone_client_never_waits():
    batches, busy = [], threading.Event()

    def answer(requests):
        batches.append(list(requests))
        if len(batches) == 1:
            busy.wait(10)
        return requests

    batcher = RequestBatcher(answer, max_wait_ms=1000)

    async def clients():
        first = asyncio.ensure_future(batcher.submit(0))
        while not batches:
            await asyncio.sleep(0.001)
        three = [asyncio.ensure_future(batcher.submit(request)) for request in (1, 2, 3)]
        await asyncio.sleep(0.05)
        busy.set()
        await asyncio.gather(first, *three)  # a batch of 3: the next one expects as many
        late = [asyncio.ensure_future(batcher.submit(4))]
        await asyncio.sleep(0.2)  # well inside the 1 s wait
        late += [asyncio.ensure_future(batcher.submit(request)) for request in (5, 6)]
        await asyncio.gather(*late)
        await batcher.submit(7)  # after a batch of 3, a lone request waits out the deadline once,
        await batcher.submit(8)  # then it is answered on its own at once
        loop = asyncio.get_running_loop()
        started = loop.time()
        await batcher.submit(9)
        return loop.time() - started

    lone = asyncio.run(clients())
    batcher.close()
    assert batches == [[0], [1, 2, 3], [4, 5, 6], [7], [8], [9]]
    assert lone < 0.5  # no wait for a lone client (the deadline is 1 s)


def test_a_failing_batch_fails_each_of_its_requests_and_the_worker_goes_on():
    def answer(requests):
        if 0 in requests:
            raise RuntimeError("broken")
        return requests

    batcher = RequestBatcher(answer)

    async def clients():
        with pytest.raises(RuntimeError, match="broken"):
            await batcher.submit(0)
        return await batcher.submit(7)

    assert asyncio.run(clients()) == 7
    batcher.close()
    with pytest.raises(ValueError, match="max_batch"):
        RequestBatcher(answer, max_batch=0)
    with pytest.raises(ValueError, match="max_wait_ms"):
        RequestBatcher(answer, max_wait_ms=-1)
