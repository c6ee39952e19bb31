"""Load: 10,000 calls in flight at once through a pool of 100 connections.

Every call succeeds; the pool never holds more than 100 connections (client and server side);
file descriptors come back to where they were; memory stays bounded and does not keep growing
when the same load runs again. Bounds are generous on purpose: they catch a leak (a socket, a
task or a buffer per request), not a slow machine. No timing is asserted.
"""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from aiopinecone import AsyncPinecone, set_retry_testing
from aiopinecone.emulator import Emulator
from aiopinecone.models import Assistant

KEY = "load-key"
CALLS = int(os.environ.get("AIOPINECONE_LOAD_CALLS", "10000"))
POOL = 100
pytestmark = pytest.mark.slow


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


class Sampler:
    """Samples pool use, server connections and file descriptors while the load runs."""

    def __init__(self, pc: AsyncPinecone, emu: Emulator) -> None:
        self.pc, self.emu = pc, emu
        self.max_in_use = self.max_server = self.max_fds = 0
        self.samples = 0

    def sample(self) -> None:
        connector = self.pc.connector
        in_use = len(getattr(connector, "_acquired", ())) if connector is not None else 0
        server = self.emu.open_connections
        self.max_in_use = max(self.max_in_use, in_use)
        self.max_server = max(self.max_server, server)
        self.max_fds = max(self.max_fds, open_fds())
        self.samples += 1

    async def run(self, done: asyncio.Event) -> None:
        while not done.is_set():
            self.sample()
            await asyncio.sleep(0.005)


async def storm(calls: list[Callable[[], Awaitable[Any]]], sampler: Sampler) -> list[Any]:
    done = asyncio.Event()
    watcher = asyncio.ensure_future(sampler.run(done))
    try:
        return await asyncio.gather(*(call() for call in calls), return_exceptions=True)
    finally:
        done.set()
        await watcher


async def test_ten_thousand_calls_through_a_pool_of_one_hundred() -> None:
    set_retry_testing(True)
    gc.collect()
    fds_before = open_fds()
    try:
        async with Emulator(api_keys=(KEY,)) as emu:
            emu.store.create_assistant("busy", instructions="Serve everyone.")
            emu.store.put_file("busy", name="faq.txt", content=b"Opening hours: 9 to 5.")
            async with AsyncPinecone(api_key=KEY, host=emu.url, max_connections=POOL) as pc:
                await pc.assistants.describe(name="busy")  # warm: host cache, converter hooks
                rss_before = rss_mib()
                sampler = Sampler(pc, emu)

                def mix(i: int) -> Callable[[], Awaitable[Any]]:
                    if i % 10 == 0:
                        return lambda: pc.assistants.list_files(assistant_name="busy")
                    if i % 10 == 1:
                        return lambda: pc.assistants.list()
                    return lambda: pc.assistants.describe(name="busy")

                results = await storm([mix(i) for i in range(CALLS)], sampler)
                errors = [r for r in results if isinstance(r, BaseException)]
                assert not errors, f"{len(errors)} errors, first: {errors[0]!r}"
                assert sum(isinstance(r, Assistant) for r in results) == CALLS * 8 // 10
                assert emu.log.total >= CALLS
                assert sampler.samples > 1
                assert sampler.max_in_use <= POOL
                assert sampler.max_server <= POOL
                # Client and server sockets of the pool live in this process: 2 per connection.
                assert sampler.max_fds <= fds_before + 2 * POOL + 32, sampler.max_fds - fds_before
                gc.collect()
                rss_first = rss_mib()
                assert rss_first - rss_before < 400, (rss_before, rss_first)

                # More of the same load must not need more memory: nothing accumulates per call.
                again = await storm([mix(i) for i in range(CALLS // 4)], Sampler(pc, emu))
                assert not [r for r in again if isinstance(r, BaseException)]
                gc.collect()
                rss_second = rss_mib()
                assert rss_second - rss_first < 48, (rss_before, rss_first, rss_second)
                connector = pc.connector
                assert connector is not None
                assert len(getattr(connector, "_acquired", ())) == 0
        gc.collect()
        assert open_fds() <= fds_before + 2, (fds_before, open_fds())
    finally:
        set_retry_testing(False)
