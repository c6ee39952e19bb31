"""Item 1, noise-free: user-space instructions per request under valgrind (callgrind).

CPU time on a shared 2-core machine moves by tens of percent from round to round. The number of
instructions the client process executes per request does not depend on what else runs, so it
is a steadier (if partial: no kernel time, no cache misses) view of the same comparison. Each
(implementation, workload) runs twice under ``valgrind --tool=callgrind`` in a fresh process,
with ``n`` and ``2n`` requests after the same warm-up; the difference divided by ``n`` is the
cost of one request, start-up and warm-up excluded. The ``aiopinecone`` row (a new default
client every round, ``client_cost.FreshAiopineconeClient``) runs its requests in rounds of
:data:`ROUND`, each on a new client, which adopts what the earlier ones learnt of the project
(a client per batch); ``aiopinecone new project`` likewise, each client of a new project
(``NewProjectAiopineconeClient``), so its count includes what a new client's governor spends
learning the budget from scratch; ``aiopinecone learnt`` is one client throughout,
``aiopinecone off`` one with ``rate_limits="off"``.

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
from .client_cost import (
    DESCRIBED,
    FACTORIES,
    OURS,
    TARGET_RATIO,
    WORKLOADS,
    Client,
    FloorClient,
    begin_round,
)

IMPLEMENTATIONS: Final = ("floor", *OURS)
ROUND: Final = 500
"""Requests per round (a new client's, for the ``aiopinecone`` and ``new project`` rows)."""
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
        else:
            await _create_delete(client, [f"{tag}w-{i}" for i in range(50)], concurrency)
        for start in range(0, n, ROUND):
            size = min(ROUND, n - start)
            await begin_round(client)
            if workload == "describe":
                await run_concurrently(size, concurrency, lambda _i: client.describe(DESCRIBED))
            else:
                names = [f"{tag}m{start}-{i}" for i in range(size // 2)]
                await _create_delete(client, names, concurrency)
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
    # (Each job is two valgrind runs of n and 2n requests.)
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        futures = {
            job: pool.submit(_per_request, emulator.url, job[0], job[1], requests, concurrency)
            for job in jobs
        }
        counts = {job: future.result() for job, future in futures.items()}
    results: dict[str, Any] = {"available": True, "requests": requests, "concurrency": concurrency}
    for workload in WORKLOADS:
        floor = counts[("floor", workload)]
        row: dict[str, Any] = {"floor": floor}
        for impl in OURS:
            row[impl] = counts[(impl, workload)]
            row[f"{impl} ratio"] = round(counts[(impl, workload)] / floor, 3) if floor else None
        row["ratio_to_floor"] = row["aiopinecone ratio"]
        row["aiopinecone"] = counts[("aiopinecone", workload)]
        results[workload] = row
        log(
            f"    {workload:14} floor {floor:,} "
            + " ".join(f"{impl} {row[impl]:,}" for impl in OURS)
            + " instructions/request"
        )
    return results


def markdown(results: Mapping[str, Any]) -> str:
    """The section of RESULTS.md."""
    if not results.get("available"):
        return "valgrind is not installed: not measured."

    def cell(row: Mapping[str, Any], impl: str) -> str:
        if impl not in row:
            return "n/a"
        ratio = row.get(f"{impl} ratio", row.get("ratio_to_floor"))
        return f"{row[impl]:,} ({ratio:.3f}x)" if ratio is not None else f"{row[impl]:,}"

    rows = [
        [workload, f"{results[workload]['floor']:,}", *(cell(results[workload], i) for i in OURS)]
        for workload in WORKLOADS
        if workload in results
    ]
    return "\n".join(
        [
            "User-space instructions per request of the client process (valgrind callgrind; "
            f"{results['requests']:,} requests at concurrency {results['concurrency']}, start-up "
            "and warm-up subtracted). Deterministic within a few thousand instructions "
            "(how many answers arrive per event-loop turn varies), but blind to kernel time "
            "(the same system calls for both, `strace -c`) and to cache misses. "
            f"Target: <= {TARGET_RATIO}x. "
            "`aiopinecone`: a new default client every "
            f"{ROUND} requests (it adopts what the earlier ones learnt of the project); `new "
            "project`: likewise, each client of a new project (its governor learns each time); "
            '`learnt`: one default client; `off`: `rate_limits="off"`.',
            "",
            table(["workload", "floor", *OURS], rows),
        ]
    )


def _main(argv: list[str]) -> None:
    url, implementation, workload, n, concurrency = argv
    asyncio.run(_workload(url, implementation, workload, int(n), int(concurrency)))


if __name__ == "__main__":
    _main(sys.argv[1:])
