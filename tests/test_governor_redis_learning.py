"""Several governors (one per process in real use) learning one unknown limit together through a
real Redis: slow start is the project's, not each process's (one shared limit, taken against
atomically and grown once per step), so the project overshoots the server's limit once, not once
per process. (The figures: ``python -m benchmarks.governor_redis``.)"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest

from aiopinecone import RequestTimeoutError
from aiopinecone._governor import Governor, RateLimits
from aiopinecone._governor._redis import RedisStore

CLASS = "assistants_write"


@pytest.fixture
async def two(redis_url: str) -> AsyncIterator[tuple[Governor, Governor]]:
    """Two adaptive governors, each with its own Redis connection, sharing one budget."""
    limits = RateLimits.preset("adaptive", window=60.0)
    stores = [RedisStore(redis_url, namespace="learning") for _ in range(2)]
    try:
        yield Governor(limits, store=stores[0]), Governor(limits, store=stores[1])
    finally:
        for store in stores:
            await store.aclose()


async def test_a_slow_start_step_is_the_projects(two: tuple[Governor, Governor]) -> None:
    a, b = two
    start = a.gate(CLASS).controller.limit
    permits = [await a.acquire(CLASS) for _ in range(int(start))]  # A fills the guess
    for permit in permits:
        a.settle(permit, status=201, retry_after=None)
    await a.aclose()  # its answers reached Redis
    grown = a.gate(CLASS).controller.limit
    assert grown > start  # every grant accepted: slow start stepped past the guess
    assert b.gate(CLASS).controller.limit == start  # B has not heard of it yet

    # B takes against the project's limit at once (not as a probe past its own guess), and
    # adopts it.
    extra = [
        await b.acquire(CLASS, deadline=time.monotonic() + 5.0) for _ in range(int(grown - start))
    ]
    assert not any(permit.probe for permit in extra)
    assert b.gate(CLASS).controller.limit == grown
    # No further: the project never holds more than the shared limit (B's grants are open).
    with pytest.raises(RequestTimeoutError):
        await b.acquire(CLASS, deadline=time.monotonic() + 0.3)
    for permit in extra:
        b.settle(permit, status=201, retry_after=None)
    await b.aclose()


async def test_the_first_real_limit_is_cut_once_for_the_project(
    two: tuple[Governor, Governor],
) -> None:
    a, b = two
    first = [await a.acquire(CLASS) for _ in range(10)]
    second = [await b.acquire(CLASS) for _ in range(10)]
    for permit in first[:8] + second[:8]:
        a_or_b = a if permit in first else b
        a_or_b.settle(permit, status=201, retry_after=None)
    await a.aclose()
    await b.aclose()
    # The server's limit is met: A hears it first (a real limit: a long Retry-After) and cuts;
    # B's 429s of the same burst adopt A's cut instead of cutting again.
    a.settle(first[8], status=429, retry_after=30.0)
    await a.aclose()
    learnt = a.gate(CLASS).controller
    assert not learnt.slow_start
    b.settle(second[8], status=429, retry_after=30.0)
    await b.aclose()
    adopted = b.gate(CLASS).controller
    assert not adopted.slow_start
    assert (adopted.limit, adopted.window) == (learnt.limit, learnt.window)
    assert learnt.limit >= 16  # what the server accepted (both processes' answers)
    for gov, permit in ((a, first[9]), (b, second[9])):
        gov.settle(permit, status=429, retry_after=30.0)
        await gov.aclose()
    # The same burst's later 429s cut nothing more, in either process.
    assert (b.gate(CLASS).controller.limit, b.gate(CLASS).controller.window) == (
        learnt.limit,
        learnt.window,
    )
