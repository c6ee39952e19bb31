"""One pool: connection limits seen from the server, reuse, cancellation and clean closing."""

from __future__ import annotations

import asyncio
import gc
import warnings

import pytest

from aiopinecone import AsyncPinecone
from aiopinecone.emulator import Emulator
from aiopinecone.emulator.faults import Fault

API_KEY = "test-key"  # accepted by the conftest emulator
ONE = "/assistant/assistants/{name}"


def max_in_flight(emulator: Emulator) -> int:
    """The most requests the server was handling at once (HTTP/1.1: one per connection)."""
    events: list[tuple[float, int]] = []
    for entry in emulator.log.entries:
        events.append((entry.start, 1))
        events.append((entry.end, -1))
    events.sort(key=lambda e: (e[0], e[1]))  # an end before a start at the same instant
    current = peak = 0
    for _, step in events:
        current += step
        peak = max(peak, current)
    return peak


@pytest.mark.parametrize("limit", [1, 3, 8])
async def test_concurrent_calls_never_exceed_max_connections(
    emulator: Emulator, limit: int
) -> None:
    emulator.store.create_assistant("busy")
    emulator.faults.script("GET", ONE, [Fault.delay(0.05)], repeat=True)
    async with AsyncPinecone(api_key=API_KEY, host=emulator.url, max_connections=limit) as pc:
        results = await asyncio.gather(
            *(pc.assistants.describe(name="busy") for _ in range(limit * 6))
        )
        assert all(a.name == "busy" for a in results)
        connector = pc.connector
        assert connector is not None
        assert connector.limit == limit
    peak = max_in_flight(emulator)
    assert peak <= limit
    if limit > 1:
        assert peak >= 2  # the calls really ran concurrently (so the limit was what held them)


async def test_connections_are_reused(client: AsyncPinecone, emulator: Emulator) -> None:
    emulator.store.create_assistant("reuse")
    for _ in range(20):
        await client.assistants.describe(name="reuse")
    connector = client.connector
    assert connector is not None
    # after sequential calls exactly one keep-alive connection sits in the pool
    conns = getattr(connector, "_conns", {})
    assert sum(len(v) for v in conns.values()) == 1


async def test_cancelled_calls_release_their_connection(emulator: Emulator) -> None:
    emulator.store.create_assistant("slow")
    emulator.faults.script("GET", ONE, [Fault.delay(5.0)] * 3)
    async with AsyncPinecone(api_key=API_KEY, host=emulator.url, max_connections=3) as pc:
        tasks = [asyncio.create_task(pc.assistants.describe(name="slow")) for _ in range(3)]
        for _ in range(200):  # bounded: until the three requests are in flight
            await asyncio.sleep(0.01)
            connector = pc.connector
            if connector is not None and len(getattr(connector, "_acquired", ())) == 3:
                break
        for task in tasks:
            task.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert all(isinstance(r, asyncio.CancelledError) for r in results)
        # the pool is usable again at full width
        assert (await pc.assistants.describe(name="slow")).name == "slow"
        connector = pc.connector
        assert connector is not None
        assert len(getattr(connector, "_acquired", ())) == 0


async def test_closing_leaves_nothing_behind(emulator: Emulator) -> None:
    emulator.store.create_assistant("tidy")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        async with AsyncPinecone(api_key=API_KEY, host=emulator.url) as pc:
            await asyncio.gather(*(pc.assistants.describe(name="tidy") for _ in range(10)))
        pc = None  # type: ignore[assignment]
        gc.collect()
    assert [str(w.message) for w in caught] == []


async def test_data_plane_shares_the_one_pool(client: AsyncPinecone, emulator: Emulator) -> None:
    await client.assistants.create(name="shared")
    session = client.session
    assert session is not None
    assert await client.assistants.list_files(assistant_name="shared") == []
    assert emulator.log.count(method="GET", path="/assistant/files/shared") == 1
    assert client.session is session
