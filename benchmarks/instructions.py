"""Item 1, noise-free: user-space instructions per request under valgrind (callgrind).

CPU time on a shared 2-core machine moves by tens of percent from round to round. The number of
instructions the client process executes per request does not depend on what else runs, so it
is a steadier (if partial: no kernel time, no cache misses) view of the same comparison. Each
(implementation, workload) runs twice under ``valgrind --tool=callgrind`` in a fresh process,
with ``n`` and ``2n`` requests after the same warm-up; the difference divided by ``n`` is the
cost of one request, start-up and warm-up excluded.

Opt-in (``python -m benchmarks --only instructions``): it takes a few minutes and needs valgrind.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from typing import Any, Final

from ._harness import REPO_ROOT, EmulatorProcess, run_concurrently, table
from .client_cost import DESCRIBED, FACTORIES, TARGET_RATIO, WORKLOADS, Client, FloorClient

IMPLEMENTATIONS: Final = ("floor", "aiopinecone")
_COLLECTED: Final = re.compile(r"Collected\s*:\s*(\d+)")
_TIMEOUT: Final = 900.0


def available() -> bool:
    """Whether valgrind is installed."""
    return shutil.which("valgrind") is not None


async def _create_delete(client: Client, names: list[str], concurrency: int) -> None:
    await run_concurrently(len(names), concurrency, lambda i: client.create(names[i]))
    await run_concurrently(len(names), concurrency, lambda i: client.delete(names[i]))


async def _workload(url: str, implementation: str, workload: str, n: int, concurrency: int) -> None:
    client = FACTORIES[implementation](url)
    tag = f"i{os.getpid()}"
    try:
        if workload == "describe":
            await run_concurrently(100, concurrency, lambda _i: client.describe(DESCRIBED))
            await run_concurrently(n, concurrency, lambda _i: client.describe(DESCRIBED))
            return
        await _create_delete(client, [f"{tag}w-{i}" for i in range(50)], concurrency)
        await _create_delete(client, [f"{tag}m-{i}" for i in range(n // 2)], concurrency)
    finally:
        await client.aclose()


def _collected(url: str, implementation: str, workload: str, n: int, concurrency: int) -> int:
    valgrind = shutil.which("valgrind") or "valgrind"
    command = [
        valgrind,
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        "-m",
        "benchmarks.instructions",
        url,
        implementation,
        workload,
        str(n),
        str(concurrency),
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=_TIMEOUT, cwd=REPO_ROOT, check=False
    )
    match = _COLLECTED.search(done.stderr)
    if done.returncode != 0 or match is None:
        raise RuntimeError(f"callgrind run failed ({done.returncode}): {done.stderr[-1000:]}")
    return int(match.group(1))


def _per_request(url: str, implementation: str, workload: str, n: int, concurrency: int) -> int:
    small = _collected(url, implementation, workload, n, concurrency)
    large = _collected(url, implementation, workload, 2 * n, concurrency)
    return (large - small) // n


async def _ensure_described(url: str) -> None:
    client = FloorClient(url)
    try:
        await client.create(DESCRIBED)
    finally:
        await client.aclose()


def run_instructions(
    emulator: EmulatorProcess,
    *,
    requests: int = 1000,
    concurrency: int = 50,
    log: Callable[[str], object] = print,
) -> dict[str, Any]:
    """Instructions per request for each implementation and workload (two runs at a time)."""
    if not available():
        return {"available": False}
    emulator.reset()
    asyncio.run(_ensure_described(emulator.url))
    jobs = [(impl, workload) for workload in WORKLOADS for impl in IMPLEMENTATIONS]
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        futures = {
            job: pool.submit(_per_request, emulator.url, job[0], job[1], requests, concurrency)
            for job in jobs
        }
        counts = {job: future.result() for job, future in futures.items()}
    results: dict[str, Any] = {"available": True, "requests": requests, "concurrency": concurrency}
    for workload in WORKLOADS:
        floor = counts[("floor", workload)]
        ours = counts[("aiopinecone", workload)]
        results[workload] = {
            "floor": floor,
            "aiopinecone": ours,
            "ratio_to_floor": round(ours / floor, 3) if floor else None,
        }
        log(f"    {workload:14} floor {floor:,} aiopinecone {ours:,} instructions/request")
    return results


def markdown(results: Mapping[str, Any]) -> str:
    """The section of RESULTS.md."""
    if not results.get("available"):
        return "valgrind is not installed: not measured."
    rows = [
        [
            workload,
            f"{results[workload]['floor']:,}",
            f"{results[workload]['aiopinecone']:,}",
            f"{results[workload]['ratio_to_floor']:.3f}x",
        ]
        for workload in WORKLOADS
        if workload in results
    ]
    return "\n".join(
        [
            "User-space instructions per request of the client process (valgrind callgrind; "
            f"{results['requests']:,} requests at concurrency {results['concurrency']}, start-up "
            "and warm-up subtracted). Deterministic within a few thousand instructions "
            "(how many answers arrive per event-loop turn varies), but blind to kernel time "
            f"(the same for both) and to cache misses. Target: <= {TARGET_RATIO}x.",
            "",
            table(["workload", "floor", "aiopinecone", "aiopinecone vs floor"], rows),
        ]
    )


def _main(argv: list[str]) -> None:
    url, implementation, workload, n, concurrency = argv
    asyncio.run(_workload(url, implementation, workload, int(n), int(concurrency)))


if __name__ == "__main__":
    _main(sys.argv[1:])
