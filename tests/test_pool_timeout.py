"""The wait for a pooled connection is not the request timeout (issue 12).

A saturated pool (more calls than ``max_connections``) makes calls queue for a connection; that
wait is bounded by ``pool_timeout`` alone, so healthy calls do not fail "timed out waiting for
the server", are not retried into more load, and creates are not reported ambiguous.
"""

from __future__ import annotations

import asyncio

import pytest

from aiopinecone import (
    AsyncPinecone,
    PineconeError,
    PoolTimeoutError,
    RetryPolicy,
    TransportError,
    ValidationError,
    track_requests,
)
from aiopinecone.emulator import Emulator
from aiopinecone.emulator.faults import Fault

API_KEY = "test-key"  # accepted by the conftest emulator
ONE = "/assistant/assistants/{name}"
ALL = "/assistant/assistants"
CALLS = 200


async def test_a_saturated_pool_fails_no_healthy_describe(emulator: Emulator) -> None:
    emulator.store.create_assistant("busy")
    emulator.faults.script("GET", ONE, [Fault.delay(0.5)], repeat=True)
    async with AsyncPinecone(
        api_key=API_KEY,
        host=emulator.url,
        max_connections=10,
        timeout=2,
    ) as pc:
        with track_requests() as stats:
            results = await asyncio.gather(
                *(pc.assistants.describe(name="busy") for _ in range(CALLS)),
                return_exceptions=True,
            )
    assert [r for r in results if isinstance(r, BaseException)] == []
    assert emulator.log.count(method="GET", path="/assistant/assistants/busy") == CALLS
    assert stats.requests == CALLS
    assert stats.retries == 0


async def test_a_saturated_pool_reports_no_create_failed_or_ambiguous(
    emulator: Emulator,
) -> None:
    emulator.faults.script("POST", ALL, [Fault.delay(0.5)], repeat=True)
    async with AsyncPinecone(
        api_key=API_KEY,
        host=emulator.url,
        max_connections=10,
        timeout=2,
    ) as pc:
        results = await asyncio.gather(
            *(pc.assistants.create(name=f"c{i}", instructions="x") for i in range(CALLS)),
            return_exceptions=True,
        )
    assert [r for r in results if isinstance(r, BaseException)] == []
    assert emulator.log.count(method="POST", path=ALL) == CALLS
    assert len(emulator.store.list_assistants()) == CALLS


async def test_no_free_connection_in_time_is_a_typed_error_and_not_retried(
    emulator: Emulator,
) -> None:
    emulator.store.create_assistant("slow")
    slow = emulator.faults.script("GET", ONE, [Fault.delay(1.0)])
    async with AsyncPinecone(
        api_key=API_KEY, host=emulator.url, max_connections=1, pool_timeout=0.1
    ) as pc:
        holder = asyncio.create_task(pc.assistants.describe(name="slow"))
        for _ in range(400):  # until the slow call holds the one connection
            if slow.consumed:
                break
            await asyncio.sleep(0.005)
        with track_requests() as stats, pytest.raises(PoolTimeoutError) as info:
            await pc.assistants.describe(name="slow")
        assert (await holder).name == "slow"
        error = info.value
        assert isinstance(error, TransportError)
        assert "no connection free in the pool after 0.1 s" in str(error)
        assert "max_connections=1" in str(error)
        assert not error.ambiguous
        assert not error.connect_failed
        assert error.attempts == 1  # never retried into more load
        assert stats.requests == 0  # it was not sent
        assert emulator.log.count() == 1
        # the slot the timed-out waiter gave up is not lost: the pool serves again
        assert (await pc.assistants.describe(name="slow")).name == "slow"


async def test_a_create_that_waited_for_the_pool_is_not_ambiguous(emulator: Emulator) -> None:
    slow = emulator.faults.script("POST", ALL, [Fault.delay(1.0)])
    async with AsyncPinecone(
        api_key=API_KEY,
        host=emulator.url,
        max_connections=1,
        pool_timeout=0.1,
        retry=RetryPolicy(max_attempts=5),
    ) as pc:
        first = asyncio.create_task(pc.assistants.create(name="first", instructions="x"))
        for _ in range(400):
            if slow.consumed:
                break
            await asyncio.sleep(0.005)
        with pytest.raises(PoolTimeoutError) as info:
            await pc.assistants.create(name="second", instructions="x")
        assert not info.value.ambiguous
        await first
    assert [a.name for a in emulator.store.list_assistants()] == ["first"]


async def test_streams_hold_their_connection_slot_until_closed(emulator: Emulator) -> None:
    emulator.store.create_assistant("docs")
    async with AsyncPinecone(
        api_key=API_KEY, host=emulator.url, max_connections=1, pool_timeout=0.2
    ) as pc:
        stream = await pc.assistants.chat(
            assistant_name="docs", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        with pytest.raises(PoolTimeoutError):
            await pc.assistants.describe(name="docs")
        await stream.aclose()
        assert (await pc.assistants.describe(name="docs")).name == "docs"


def test_pool_timeout_is_validated() -> None:
    with pytest.raises(ValidationError, match="pool_timeout"):
        AsyncPinecone(api_key=API_KEY, pool_timeout=0)
    AsyncPinecone(api_key=API_KEY, pool_timeout=None)


async def test_closing_the_client_fails_the_calls_waiting_for_a_connection(
    emulator: Emulator,
) -> None:
    emulator.store.create_assistant("slow")
    slow = emulator.faults.script("GET", ONE, [Fault.delay(0.5)])
    pc = AsyncPinecone(api_key=API_KEY, host=emulator.url, max_connections=1, pool_timeout=60)
    holder = asyncio.create_task(pc.assistants.describe(name="slow"))
    for _ in range(400):
        if slow.consumed:
            break
        await asyncio.sleep(0.005)
    waiter = asyncio.create_task(pc.assistants.describe(name="slow"))
    await asyncio.sleep(0.05)
    assert not waiter.done()  # queued for the one connection
    await pc.close()
    with pytest.raises(PineconeError, match="closed"):
        await asyncio.wait_for(waiter, 5)  # at once, not after pool_timeout
    with pytest.raises(PineconeError):
        await holder
