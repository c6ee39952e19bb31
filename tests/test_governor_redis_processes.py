"""Several real processes share one rate budget through a real Redis, against the emulator's
real rate limit: together they never exceed it (zero 429s), and all their work completes."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import orjson
from redis_server import RedisServer

from aiopinecone.emulator import Emulator

WORKER = Path(__file__).with_name("shared_budget_worker.py")


async def run_workers(
    emulator: Emulator, redis_url: str, *, processes: int, each: int, limit: int, window: float
) -> list[dict[str, int]]:
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            str(WORKER),
            emulator.url,
            redis_url,
            f"p{n}",
            str(each),
            str(limit),
            str(window),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        for n in range(processes)
    ]
    for proc in procs:  # all start together
        assert proc.stdin is not None
        proc.stdin.write(b"go\n")
        await proc.stdin.drain()
    outputs = await asyncio.wait_for(asyncio.gather(*(p.communicate() for p in procs)), 100)
    assert [p.returncode for p in procs] == [0] * processes
    return [orjson.loads(out.splitlines()[-1]) for out, _ in outputs]


async def test_processes_sharing_a_budget_stay_under_the_servers_limit(redis_url: str) -> None:
    limit, window = 6, 0.5
    async with Emulator(
        api_keys=("test-key",),
        rate_limits={"assistants_write": limit},
        time_scale=window / 60,
    ) as emu:
        results = await run_workers(emu, redis_url, processes=3, each=6, limit=limit, window=window)
        counters = emu.limiter.counters["assistants_write"]
        assert sum(r["created"] for r in results) == 18
        assert counters.accepted == 18
        assert counters.rejected == 0  # never more than the limit in any window
        assert sum(r["rate_limited"] for r in results) == 0
        assert sum(r["fallbacks"] for r in results) == 0


async def test_redis_killed_mid_run_loses_no_work(redis_server: RedisServer) -> None:
    limit, window = 6, 0.5
    async with Emulator(
        api_keys=("test-key",),
        rate_limits={"assistants_write": limit},
        time_scale=window / 60,
    ) as emu:
        counters = emu.limiter.counters
        run = asyncio.create_task(
            run_workers(emu, redis_server.url, processes=3, each=6, limit=limit, window=window)
        )
        for _ in range(3000):  # some work done, every worker still has some left
            if counters["assistants_write"].accepted >= 3 or run.done():
                break
            await asyncio.sleep(0.01)
        redis_server.kill()
        for _ in range(3000):
            if counters["assistants_write"].accepted >= 12 or run.done():
                break
            await asyncio.sleep(0.01)
        redis_server.start()  # back (empty) while the workers finish
        results = await run
        assert sum(r["created"] for r in results) == 18  # nothing lost, nobody crashed
        assert counters["assistants_write"].accepted == 18
        assert sum(r["fallbacks"] for r in results) >= 1
