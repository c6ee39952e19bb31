"""Several processes, one project's budget: the rate governor shared through Redis, and without.

``python -m benchmarks.governor_redis [--quick]`` (its rows are also part of
``python -m benchmarks.governor``: this module registers them in ``EXTRA_SCENARIOS``).

P worker processes (3, then 8) each create N / P assistants with ``asyncio.gather`` through one
``AsyncPinecone`` whose governor is adaptive and told the (scaled) minute, against one emulator
process that limits ``assistants_write`` to L per minute (a minute lasts ``MINUTE`` seconds,
every request waits ``LATENCY`` in the server). With Redis, the workers share one budget (one
real ``redis-server`` started for the run, ``RateLimits(redis_url=...)``); without, each learns
alone (the contrast). The workers start together (a line on their stdin) and report their own
start and end times.

- **wall** = the last worker's end - the first worker's start;
- **ideal** = ``floor((N - 1) / L)`` minutes (a fresh window's burst included) + the service
  floor (the last window's share of creates, no limit, governor off, one process);
- **429s per accepted** = every 429 the workers received / creates accepted.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import math
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final

import orjson

from benchmarks._harness import API_KEY, EmulatorProcess, machine_info, table, write_json

HERE: Final = Path(__file__).resolve().parent
RESULTS_MD: Final = HERE / "RESULTS-governor-redis.md"
RESULTS_JSON: Final = HERE / "RESULTS-governor-redis.json"
MINUTE: Final = 2.0
LATENCY: Final = 0.005
LIMIT: Final = 100
CLASS: Final = "assistants_write"
TIMEOUT_FACTOR: Final = 10.0


def _redis_server_class() -> Any:
    """The test suite's real-Redis helper (``tests/redis_server.py``), its one home."""
    path = HERE.parent / "tests" / "redis_server.py"
    spec = importlib.util.spec_from_file_location("_aiopinecone_redis_server", path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.RedisServer


# -- the worker process ------------------------------------------------------------------------


async def _work(url: str, n: int, prefix: str, redis_url: str, timeout: float) -> dict[str, Any]:
    from aiopinecone import AsyncPinecone
    from aiopinecone._governor import RateLimits

    limits = RateLimits.preset("adaptive", window=MINUTE, redis_url=redis_url)
    async with AsyncPinecone(api_key=API_KEY, host=url, rate_limits=limits) as pc:
        names = [f"{prefix}-{i:04d}" for i in range(n)]
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)  # everyone starts together
        start = time.time()
        tasks = [asyncio.ensure_future(pc.assistants.create(name=name)) for name in names]
        done, pending = await asyncio.wait(tasks, timeout=timeout)
        end = time.time()
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        ok = sum(1 for t in done if not t.cancelled() and t.exception() is None)
        snapshot = pc.governor.snapshot().get(CLASS, {})
    return {"start": start, "end": end, "ok": ok, "unfinished": len(pending), **snapshot}


def worker_main(argv: Sequence[str]) -> int:
    """``--worker URL N PREFIX REDIS_URL TIMEOUT`` (REDIS_URL ``""``: no sharing)."""
    url, n, prefix, redis_url, timeout = argv
    result = asyncio.run(_work(url, int(n), prefix, redis_url, float(timeout)))
    print(orjson.dumps(result).decode(), flush=True)
    return 0


# -- the scenarios ----------------------------------------------------------------------------


def _configure(emu: EmulatorProcess, limit: int | None) -> None:
    emu.reset()
    emu.admin(
        "PUT",
        "rate-limits",
        {"limits": {CLASS: limit} if limit else "unlimited", "time_scale": MINUTE / 60.0},
    )
    emu.admin("POST", "chaos", {"seed": 11, "rates": {"delay": 1.0}, "delay": [LATENCY] * 2})


def _run_workers(
    emu: EmulatorProcess, processes: int, n: int, redis_url: str, timeout: float
) -> list[dict[str, Any]]:
    share = [n // processes + (1 if p < n % processes else 0) for p in range(processes)]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "benchmarks.governor_redis",
                "--worker",
                emu.url,
                str(count),
                f"w{p}",
                redis_url,
                str(timeout),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=HERE.parent,
        )
        for p, count in enumerate(share)
    ]
    for proc in procs:  # interpreters up and clients built (not measured)
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != b"ready":
            raise RuntimeError("a worker did not start")
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(b"go\n")
        proc.stdin.flush()
    results = []
    for proc in procs:
        out, _ = proc.communicate(timeout=timeout + 60)
        if proc.returncode != 0:
            raise RuntimeError(f"a worker failed (exit {proc.returncode})")
        results.append(orjson.loads(out.splitlines()[-1]))
    return results


def _floor(emu: EmulatorProcess, n: int) -> float:
    _configure(emu, None)
    results = _run_workers(emu, 1, n, "", 120.0)
    return float(results[0]["end"] - results[0]["start"])


def run_scenario(
    emu: EmulatorProcess, *, processes: int, n: int, redis_url: str, floor: float
) -> dict[str, Any]:
    """One row: P workers, N creates in all, sharing through ``redis_url`` (or not)."""
    _configure(emu, LIMIT)
    limit_time = ((n - 1) // LIMIT) * MINUTE
    ideal = limit_time + floor
    results = _run_workers(emu, processes, n, redis_url, TIMEOUT_FACTOR * ideal + 5.0)
    counters = emu.admin("GET", "counters")["classes"][CLASS]
    wall = max(r["end"] for r in results) - min(r["start"] for r in results)
    ok = sum(r["ok"] for r in results)
    unfinished = sum(r["unfinished"] for r in results)
    rate_limited = sum(int(r.get("rate_limited", 0)) for r in results)
    shared = "through Redis" if redis_url else "without Redis"
    return {
        "scenario": f"{LIMIT}/min, {processes} processes {shared}",
        "note": "shared budget" if redis_url else "each process alone (contrast)",
        "processes": processes,
        "redis": bool(redis_url),
        "n": n,
        "done": ok,
        "wall_s": round(wall, 3),
        "ideal_s": round(ideal, 3),
        "ratio": round(wall / ideal, 3) if unfinished == 0 else math.inf,
        "limit_s": round(limit_time, 3),
        "floor_s": round(floor, 3),
        "client_429s": rate_limited,
        "limit_429s": counters["rejected"],
        "429_per_accepted": round(rate_limited / max(ok, 1), 4),
        "learnt_limit": round(max(float(r.get("limit", 0.0)) for r in results), 1),
        "learnt_window_s": results[0].get("window_s"),
        "wait_s": round(sum(float(r.get("wait_s", 0.0)) for r in results), 3),
        "windows_s": sorted(round(float(r.get("window_s", 0.0)), 3) for r in results),
    }


def rows(
    emu: EmulatorProcess, quick: bool = False, *, log: Callable[[str], object] = print
) -> list[dict[str, Any]]:
    """3 and 8 processes through one real Redis, and the same without (the contrast);
    ``quick``: 3 processes, 30 creates (a smoke test)."""
    sizes = ((3, 30),) if quick else ((3, 300), (8, 320))
    server = _redis_server_class()()
    server.start()
    out: list[dict[str, Any]] = []
    try:
        floors: dict[int, float] = {}
        for processes, n in sizes:
            last = n - LIMIT * ((n - 1) // LIMIT)
            if last not in floors:
                floors[last] = _floor(emu, last)
            for redis_url in (server.url, ""):
                if redis_url:
                    server.flush()
                row = run_scenario(
                    emu, processes=processes, n=n, redis_url=redis_url, floor=floors[last]
                )
                log(
                    f"    {row['scenario']:45} wall/ideal {row['ratio']}, "
                    f"429/accepted {row['429_per_accepted']}"
                )
                out.append(row)
    finally:
        server.close()
    return out


def met(results: Sequence[dict[str, Any]]) -> bool:
    """Issue 11's target for the shared rows: wall/ideal <= 1.25, <= 0.02 429s per accepted."""
    shared = [r for r in results if r.get("redis")]
    return bool(shared) and all(
        r["ratio"] <= 1.25 and r["429_per_accepted"] <= 0.02 for r in shared
    )


def render(results: Sequence[dict[str, Any]], machine: dict[str, Any]) -> str:
    """The markdown report of these rows alone."""
    headers = ["scenario", "N", "wall s", "ideal s", "wall / ideal", "429 / accepted",
               "429s", "learnt (limit per window s)"]  # fmt: skip
    rows: list[Sequence[object]] = [
        [
            r["scenario"],
            f"{r['done']}/{r['n']}",
            r["wall_s"],
            r["ideal_s"],
            r["ratio"],
            r["429_per_accepted"],
            r["client_429s"],
            f"{r['learnt_limit']} / {r['learnt_window_s']}",
        ]
        for r in results
    ]
    verdict = "**met**" if met(results) else "**not met**"
    return "\n".join(
        [
            "# Rate governor: several processes, one budget",
            "",
            f"Measured {machine['date']} on {machine['cpu']} ({machine['usable_cpus']} usable "
            f"CPUs), Python {machine['python']}; commit {machine['git_commit']}.",
            "",
            f"One emulator process limiting `{CLASS}` to {LIMIT} per minute; a minute lasts "
            f"{MINUTE:g} s, every request waits {LATENCY * 1000:g} ms in the server. P worker "
            "processes start together and create N / P each (`asyncio.gather`, one client "
            "each, adaptive, told the minute), through one real Redis or each alone. Wall = the "
            "last worker's end - the first one's start; ideal = floor((N-1)/L) minutes + the "
            "service floor (the last window's share, no limit, governor off); 429s per "
            "accepted = every 429 the workers received / creates accepted.",
            "",
            table(headers, rows),
            "",
            "Target (issue 11), through Redis: aggregate wall/ideal <= 1.25 and <= 0.02 429s per "
            f"accepted: {verdict}.",
            "",
            "Reproduce: `python -m benchmarks.governor_redis` (also rows of "
            "`python -m benchmarks.governor`).",
            "",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the rows alone and write them (``--worker``: one worker process)."""
    args_in = list(sys.argv[1:] if argv is None else argv)
    if args_in[:1] == ["--worker"]:
        return worker_main(args_in[1:])
    parser = argparse.ArgumentParser(prog="python -m benchmarks.governor_redis")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (a smoke test)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(args_in)
    with EmulatorProcess(ready_delay=0.0) as emu:
        results = rows(emu, args.quick)
    machine = machine_info()
    text = render(results, machine)
    print(text)
    if not args.no_write and not args.quick:
        RESULTS_MD.write_text(text, encoding="utf-8")
        write_json(RESULTS_JSON, {"machine": machine, "results": results})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
