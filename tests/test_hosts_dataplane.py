"""Data-plane host resolution against the emulator: single flight, priming, invalidation."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import orjson
import pytest

from aiopinecone import AsyncPinecone, NotFoundError, RetryPolicy, ServerError
from aiopinecone.emulator import Emulator
from aiopinecone.emulator.faults import Fault

KEY = "test-key"
DESCRIBE = "/assistant/assistants/docs"
FILES = "/assistant/files/docs"


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(api_keys=(KEY,), delete_delay=0.0) as emulator:
        emulator.store.create_assistant("docs")
        yield emulator


@pytest.fixture
async def pc(emu: Emulator) -> AsyncIterator[AsyncPinecone]:
    async with AsyncPinecone(api_key=KEY, host=emu.url, retry=RetryPolicy.none()) as client:
        yield client


def describes(emu: Emulator) -> int:
    return emu.log.count(method="GET", path=DESCRIBE)


async def cache_host(emu: Emulator, pc: AsyncPinecone, host: str) -> None:
    """Have ``pc`` cache ``host`` for "docs" through the public path: a describe that says so."""
    answer = orjson.dumps({"name": "docs", "status": "Ready", "host": host})
    emu.faults.script(
        "GET", DESCRIBE, [Fault.status(200, body=answer, content_type="application/json")]
    )
    await pc.assistants.describe(name="docs")
    emu.log.clear()


async def test_concurrent_first_calls_resolve_once(emu: Emulator, pc: AsyncPinecone) -> None:
    results = await asyncio.gather(
        *(pc.assistants.list_files(assistant_name="docs") for _ in range(20))
    )
    assert all(r == [] for r in results)
    assert describes(emu) == 1
    assert emu.log.count(method="GET", path=FILES) == 20
    await pc.assistants.list_files(assistant_name="docs")
    assert describes(emu) == 1


async def test_concurrent_first_calls_share_a_failure(emu: Emulator, pc: AsyncPinecone) -> None:
    emu.faults.script("GET", DESCRIBE, [Fault.status(503)])
    results = await asyncio.gather(
        *(pc.assistants.list_files(assistant_name="docs") for _ in range(10)),
        return_exceptions=True,
    )
    assert all(isinstance(r, ServerError) for r in results)
    assert describes(emu) == 1
    # Not cached: the next call resolves again and succeeds.
    assert await pc.assistants.list_files(assistant_name="docs") == []
    assert describes(emu) == 2


async def test_control_plane_results_prime_the_cache(emu: Emulator, pc: AsyncPinecone) -> None:
    await pc.assistants.list()
    await pc.assistants.list_files(assistant_name="docs")
    await pc.assistants.create(name="other")
    await pc.assistants.list_files(assistant_name="other")
    assert emu.log.count(method="GET", path="/assistant/assistants/*") == 0


async def test_delete_forgets_the_host(emu: Emulator, pc: AsyncPinecone) -> None:
    await pc.assistants.list_files(assistant_name="docs")
    await pc.assistants.delete(name="docs")
    emu.store.create_assistant("docs")
    await pc.assistants.list_files(assistant_name="docs")
    assert describes(emu) == 2


async def test_assistant_404_from_the_host_forgets_it(emu: Emulator, pc: AsyncPinecone) -> None:
    await pc.assistants.list_files(assistant_name="docs")
    emu.store.delete_assistant("docs")  # deleted behind this client's back
    with pytest.raises(NotFoundError):
        await pc.assistants.list_files(assistant_name="docs")
    emu.store.create_assistant("docs")
    before = describes(emu)
    assert await pc.assistants.list_files(assistant_name="docs") == []
    assert describes(emu) == before + 1


async def test_a_describe_primes_a_host_a_stale_404_forgot(
    emu: Emulator, pc: AsyncPinecone
) -> None:
    await pc.assistants.describe(name="docs")  # primes the host
    emu.store.delete_assistant("docs")  # deleted behind this client's back
    with pytest.raises(NotFoundError):
        await pc.assistants.list_files(assistant_name="docs")  # forgotten, not resolved again
    emu.store.create_assistant("docs")
    await pc.assistants.describe(name="docs")  # the same host as before: cached again
    emu.log.clear()
    assert await pc.assistants.list_files(assistant_name="docs") == []
    assert describes(emu) == 0


async def test_file_404_keeps_the_host(emu: Emulator, pc: AsyncPinecone) -> None:
    await pc.assistants.list_files(assistant_name="docs")
    with pytest.raises(NotFoundError):
        await pc.assistants.describe_file(assistant_name="docs", file_id="nope")
    await pc.assistants.list_files(assistant_name="docs")
    assert describes(emu) == 1


async def test_stale_host_is_resolved_again_and_the_call_retried(
    emu: Emulator, pc: AsyncPinecone
) -> None:
    async with Emulator(api_keys=(KEY,)) as old_host:
        # As if the assistant had been re-created on another host since it was cached.
        await cache_host(emu, pc, old_host.url)
        assert await pc.assistants.list_files(assistant_name="docs") == []
        assert old_host.log.count(method="GET", path=FILES) == 1
    assert describes(emu) == 1
    assert emu.log.count(method="GET", path=FILES) == 1


async def test_unreachable_cached_host_is_resolved_again(emu: Emulator, pc: AsyncPinecone) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    await cache_host(emu, pc, dead)
    assert await pc.assistants.list_files(assistant_name="docs") == []
    assert describes(emu) == 1
