"""Fleet provisioning: N assistants against an emulator that enforces a create rate R.

``python -m benchmarks.provision_fleet [--n 500] [--rate 100] [--time-scale 0.1]``

The emulator runs in its own process with ``assistants_write`` limited to R requests per
(scaled) minute and ``assistants_read`` (list + describe) to 2R, as in Pinecone's plans; a
"minute" lasts ``60 * time_scale`` seconds. Measured, from the emulator's own counters:

- ``ratio``: wall time until every assistant is Ready, divided by the ideal N / R minutes.
- ``429s per accepted create``: rejected creates / accepted creates.
- ``polls per assistant``: readiness requests (list or describe) / N.

Runs: aiopinecone ``provision`` with the plan's limits given, aiopinecone with ``adaptive``
limits (starts at the Starter plan's and learns), and the naive approach: ``asyncio.gather`` of
the official SDK's ``create`` that waits until Ready (its default), bounded by a timeout.
Results go to ``benchmarks/RESULTS-provision.md`` (+ ``.json``) with the date and machine.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from benchmarks._harness import (
    API_KEY,
    EmulatorProcess,
    machine_info,
    table,
    write_json,
)

HERE: Final = Path(__file__).resolve().parent
RESULTS_MD: Final = HERE / "RESULTS-provision.md"
RESULTS_JSON: Final = HERE / "RESULTS-provision.json"


def _limits(rate: int) -> dict[str, int]:
    return {"assistants_write": rate, "assistants_read": 2 * rate}


def _counters(emu: EmulatorProcess) -> dict[str, dict[str, int]]:
    snapshot = emu.admin("GET", "counters")
    classes: dict[str, dict[str, int]] = snapshot["classes"]
    return classes


def _prepare(emu: EmulatorProcess, rate: int, time_scale: float) -> None:
    emu.reset()
    emu.admin("PUT", "rate-limits", {"limits": _limits(rate), "time_scale": time_scale})


def _metrics(
    name: str,
    emu: EmulatorProcess,
    *,
    n: int,
    rate: int,
    time_scale: float,
    wall: float,
    reads_not_polling: int,
    ready: int,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    counters = _counters(emu)
    write = counters["assistants_write"]
    read = counters["assistants_read"]
    ideal = n / rate * 60.0 * time_scale
    accepted = write["accepted"]
    polls = read["accepted"] + read["rejected"] - reads_not_polling
    return {
        "approach": name,
        "assistants": n,
        "ready": ready,
        "wall_s": round(wall, 2),
        "ideal_s": round(ideal, 2),
        "ratio": round(wall / ideal, 3),
        "creates_accepted": accepted,
        "creates_rejected_429": write["rejected"],
        "429_per_accepted_create": round(write["rejected"] / accepted, 4) if accepted else None,
        "polling_requests": polls,
        "polling_per_assistant": round(polls / n, 4),
        "reads_rejected_429": read["rejected"],
        **(extra or {}),
    }


async def _aiopinecone(url: str, n: int, preset: Any) -> tuple[float, int, Any]:
    from aiopinecone import AssistantSpec, AsyncPinecone

    specs = [AssistantSpec(name=f"bench-{i:04d}", instructions="benchmark") for i in range(n)]
    async with AsyncPinecone(api_key=API_KEY, host=url) as pc:
        start = time.perf_counter()
        report = await pc.assistants.provision(specs, rate_preset=preset)
        wall = time.perf_counter() - start
    ready = sum(1 for a in report.assistants if a.outcome == "ok")
    return wall, ready, report


def run_aiopinecone(
    emu: EmulatorProcess, *, n: int, rate: int, time_scale: float, adaptive: bool
) -> dict[str, Any]:
    """aiopinecone ``provision`` with the plan's limits (or adaptive)."""
    from aiopinecone import RateLimits

    _prepare(emu, rate, time_scale)
    window = 60.0 * time_scale
    if adaptive:
        preset = RateLimits.preset("adaptive", window=window)
    else:
        preset = RateLimits(limits=_limits(rate), window=window)
    wall, ready, report = asyncio.run(_aiopinecone(emu.url, n, preset))
    name = "aiopinecone provision (adaptive)" if adaptive else "aiopinecone provision (plan limits)"
    return _metrics(
        name,
        emu,
        n=n,
        rate=rate,
        time_scale=time_scale,
        wall=wall,
        reads_not_polling=1,  # the plan's one list
        ready=ready,
        extra={
            "readiness_polls": report.polls["readiness"],
            "client_429s": report.counts()["rate_limited"],
        },
    )


async def _naive(url: str, n: int, timeout: float) -> tuple[float, int, int]:
    import pinecone

    pc = pinecone.AsyncPinecone(api_key=API_KEY, host=url)
    try:

        async def one(i: int) -> bool:
            try:
                await pc.assistants.create(name=f"bench-{i:04d}", instructions="benchmark")
            except Exception:
                return False
            return True

        start = time.perf_counter()
        tasks = [asyncio.ensure_future(one(i)) for i in range(n)]
        done, pending = await asyncio.wait(tasks, timeout=timeout)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
        wall = time.perf_counter() - start
        ok = sum(1 for t in done if not t.cancelled() and t.result())
        return wall, ok, len(pending)
    finally:
        await pc.close()


def run_naive(
    emu: EmulatorProcess, *, n: int, rate: int, time_scale: float, timeout_factor: float = 3.0
) -> dict[str, Any]:
    """``asyncio.gather`` of the official SDK's ``create`` (waits for Ready by default)."""
    _prepare(emu, rate, time_scale)
    timeout = n / rate * 60.0 * time_scale * timeout_factor
    wall, ok, unfinished = asyncio.run(_naive(emu.url, n, timeout))
    return _metrics(
        "naive: gather(create) with pinecone " + _pinecone_version(),
        emu,
        n=n,
        rate=rate,
        time_scale=time_scale,
        wall=wall,
        reads_not_polling=0,
        ready=ok,
        extra={"failed": n - ok - unfinished, "unfinished_at_timeout": unfinished},
    )


def _pinecone_version() -> str:
    try:
        import pinecone

        return str(getattr(pinecone, "__version__", "?"))
    except ImportError:  # pragma: no cover - the official SDK is a test dependency
        return "(not installed)"


def run(
    *,
    n: int = 500,
    rate: int = 100,
    time_scale: float = 0.1,
    ready_delay: float = 1.0,
    naive: bool = True,
) -> dict[str, Any]:
    """Every approach against one emulator process; JSON-ready results."""
    rows = []
    with EmulatorProcess(ready_delay=ready_delay) as emu:
        rows.append(run_aiopinecone(emu, n=n, rate=rate, time_scale=time_scale, adaptive=False))
        rows.append(run_aiopinecone(emu, n=n, rate=rate, time_scale=time_scale, adaptive=True))
        if naive:
            rows.append(run_naive(emu, n=n, rate=rate, time_scale=time_scale))
    return {
        "machine": machine_info(),
        "parameters": {
            "assistants": n,
            "create_rate_per_minute": rate,
            "read_rate_per_minute": 2 * rate,
            "time_scale": time_scale,
            "minute_seconds": 60.0 * time_scale,
            "ready_delay_s": ready_delay,
        },
        "results": rows,
    }


def render(results: Mapping[str, Any]) -> str:
    """The markdown report."""
    m, p = results["machine"], results["parameters"]
    headers = [
        "approach",
        "ready",
        "wall s",
        "ideal s",
        "ratio",
        "429 / accepted create",
        "polls / assistant",
    ]
    rows: list[Sequence[object]] = [
        [
            r["approach"],
            f"{r['ready']}/{r['assistants']}",
            r["wall_s"],
            r["ideal_s"],
            r["ratio"],
            r["429_per_accepted_create"],
            r["polling_per_assistant"],
        ]
        for r in results["results"]
    ]
    return "\n".join(
        [
            "# Fleet provisioning benchmark",
            "",
            f"Measured {m['date']} on {m['cpu']} ({m['usable_cpus']} usable CPUs), "
            f"Python {m['python']}, {m['platform']}; commit {m['git_commit']}.",
            "",
            f"{p['assistants']} assistants; the emulator (its own process) accepts "
            f"{p['create_rate_per_minute']} creates and {p['read_rate_per_minute']} list/describe "
            f"requests per minute (sliding window), a minute lasting {p['minute_seconds']:g} s "
            f"(time scale {p['time_scale']:g}); assistants are Ready {p['ready_delay_s']:g} s "
            "after their create. Ideal = assistants / rate (minutes). Counts are the emulator's.",
            "",
            table(headers, rows),
            "",
            "Targets (issue 6): ratio <= 1.1, 429s per accepted create <= 0.05, polling requests "
            "per assistant <= 0.1. A ratio below 1 is possible: a sliding-window limit lets a "
            "fresh minute's whole budget through at once, so N creates need only "
            "ceil(N / R) - 1 full minutes plus the ready delay.",
            "",
            "Reproduce: `python -m benchmarks.provision_fleet` "
            f"(`--n {p['assistants']} --rate {p['create_rate_per_minute']} "
            f"--time-scale {p['time_scale']:g}`).",
            "",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and write the results."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.provision_fleet")
    parser.add_argument("--n", type=int, default=500, help="assistants (500)")
    parser.add_argument("--rate", type=int, default=100, help="creates per minute (100)")
    parser.add_argument("--time-scale", type=float, default=0.1, help="minute = 60 * X s (0.1)")
    parser.add_argument("--ready-delay", type=float, default=1.0, help="seconds (1.0)")
    parser.add_argument("--no-naive", action="store_true", help="skip the official SDK run")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    results = run(
        n=args.n,
        rate=args.rate,
        time_scale=args.time_scale,
        ready_delay=args.ready_delay,
        naive=not args.no_naive,
    )
    text = render(results)
    print(text)
    if not args.no_write:
        RESULTS_MD.write_text(text, encoding="utf-8")
        write_json(RESULTS_JSON, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
