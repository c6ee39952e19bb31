"""Item 4: how client CPU per request and memory grow with the number of concurrent requests.

At each level ``C`` (100 ... 10,000), ``C`` tasks are started at once, each doing ``describe``
calls until ``max(min_requests, C)`` requests are done, through a pool that stays at
``pool`` connections (100). The emulator holds every answer back for ``delay`` seconds (a
scripted ``delay`` fault), so requests really are in flight: ``pool`` on the wire, the rest
queued for a connection inside the client. Flat CPU per request is the goal; memory grows with
the number of pending tasks, so it is reported per concurrent request as well.

Every (implementation, level) runs in a freshly spawned interpreter so that its peak RSS is
its own.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Mapping, Sequence
from typing import Any, Final

from ._harness import EmulatorProcess, Meter, in_child, mib, peak_growth, table
from .client_cost import DESCRIBED, FACTORIES, FloorClient

DEFAULT_LEVELS: Final = (100, 1000, 10_000)
IMPLEMENTATIONS: Final = ("floor", "aiopinecone")


async def _measure(
    url: str, implementation: str, concurrency: int, requests: int, pool: int, collect: bool
) -> dict[str, Any]:
    client = FACTORIES[implementation](url, max_connections=pool)
    try:
        # Fill the pool first: connection set-up is not what this measures.
        warm = [client.describe(DESCRIBED) for _ in range(2 * pool)]
        await asyncio.gather(*warm)
        del warm
        per_task, extra = divmod(requests, concurrency)

        async def task(index: int) -> None:
            for _ in range(per_task + (1 if index < extra else 0)):
                await client.describe(DESCRIBED)

        gc.collect()
        if not collect:
            gc.disable()
        collections = sum(s["collections"] for s in gc.get_stats())
        with peak_growth() as memory, Meter() as meter:
            await asyncio.gather(*(task(i) for i in range(concurrency)))
        sample = meter.sample(requests)
        collections = sum(s["collections"] for s in gc.get_stats()) - collections
    finally:
        gc.enable()
        await client.aclose()
    growth = memory["growth"]
    return {
        "implementation": implementation + ("" if collect else " (gc off)"),
        "concurrency": concurrency,
        "gc_collections": collections,
        "requests": requests,
        "cpu_us_per_request": round(sample.cpu_us_per_request, 1),
        "requests_per_second": round(sample.requests_per_second, 1),
        "wall_s": round(sample.wall, 2),
        "peak_rss_growth_mib": mib(growth),
        "rss_growth_kib_per_concurrent_request": (
            round(growth / concurrency / 1024, 2) if growth is not None else None
        ),
    }


def measure_level(
    url: str,
    implementation: str,
    concurrency: int,
    requests: int,
    pool: int,
    collect: bool = True,
) -> dict[str, Any]:
    """One (implementation, level) measurement; meant to run in a fresh child process.

    ``collect=False`` switches the cyclic garbage collector off for the measured part: the
    difference is what collecting over every pending request's objects costs.
    """
    return asyncio.run(_measure(url, implementation, concurrency, requests, pool, collect))


async def _ensure_described(url: str) -> None:
    client = FloorClient(url)
    try:
        await client.create(DESCRIBED)
    finally:
        await client.aclose()


def run_scale(
    emulator: EmulatorProcess,
    *,
    levels: Sequence[int] = DEFAULT_LEVELS,
    min_requests: int = 4000,
    pool: int = 100,
    delay: float = 0.05,
    implementations: Sequence[str] = IMPLEMENTATIONS,
    log: Any = print,
) -> dict[str, Any]:
    """Measure every level for every implementation (each in its own process)."""
    emulator.reset()
    asyncio.run(_ensure_described(emulator.url))
    emulator.admin(
        "POST",
        "faults",
        {
            "method": "GET",
            "path": f"/assistant/assistants/{DESCRIBED}",
            "faults": [{"type": "delay", "seconds": delay}],
            "repeat": True,
        },
    )
    rows: list[dict[str, Any]] = []
    runs = [(c, i, True) for c in levels for i in implementations]
    runs.append((max(levels), implementations[-1], False))  # the top level without the GC
    try:
        for concurrency, implementation, collect in runs:
            emulator.admin("DELETE", "log")
            row = in_child(
                measure_level,
                emulator.url,
                implementation,
                concurrency,
                max(min_requests, concurrency),
                pool,
                collect,
            )
            log(
                f"    {row['implementation']:22} {concurrency:>6} concurrent: "
                f"{row['cpu_us_per_request']:7.1f} us/request, "
                f"{row['requests_per_second']:7.0f} req/s, "
                f"peak RSS +{row['peak_rss_growth_mib']} MiB"
            )
            rows.append(row)
    finally:
        emulator.admin("DELETE", "faults")
    return {"pool": pool, "server_delay_s": delay, "levels": list(levels), "rows": rows}


def markdown(results: Mapping[str, Any]) -> str:
    """The item-4 section of RESULTS.md."""
    rows = [
        [
            f"{r['concurrency']:,}",
            r["implementation"],
            f"{r['requests']:,}",
            r["cpu_us_per_request"],
            r["requests_per_second"],
            r["peak_rss_growth_mib"],
            r["rss_growth_kib_per_concurrent_request"],
            r.get("gc_collections"),
        ]
        for r in results["rows"]
    ]
    return "\n".join(
        [
            f"Pool of {results['pool']} connections; the emulator holds each answer "
            f"{results['server_delay_s'] * 1000:.0f} ms, so every level keeps the pool busy and "
            "the rest of the requests queued inside the client. Each row runs in a fresh process; "
            "the last one repeats the top level with Python's cyclic garbage collector switched "
            "off, to show what collecting over every pending request's objects costs.",
            "",
            table(
                [
                    "concurrent requests",
                    "client",
                    "requests",
                    "client CPU us/request",
                    "requests/s",
                    "peak RSS growth (MiB)",
                    "KiB per concurrent request",
                    "GC collections",
                ],
                rows,
            ),
        ]
    )
