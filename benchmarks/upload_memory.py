"""Peak memory of a 200 MB streamed upload (client process only).

Run: ``python benchmarks/upload_memory.py [--size-mib 200] [--write-results]``.

The emulator runs in a child process (it keeps uploaded files in memory; that is its business,
not the client's), so the numbers are the client's alone. For each API version (2025-10: POST;
2026-04: PUT upsert) the client uploads the file from a path with ``upload_file(file_path=...)``
and we record the growth of the client's peak RSS (Linux ``VmHWM``, reset through
``/proc/self/clear_refs`` before each run) above its RSS just before the upload. A *control* run
reads the whole file into ``bytes`` first (what an SDK that buffers uploads does) to show that the
meter sees buffering when there is some. Target: under 30 MiB of growth for the streamed upload.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import gc
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Final

import aiohttp

import aiopinecone
from aiopinecone import AsyncPinecone

KEY: Final = "bench-key"
MiB: Final = 1024 * 1024
TARGET_MIB: Final = 30
RESULTS: Final = Path(__file__).with_name("RESULTS-upload.md")

_CHILD: Final = """
import asyncio, sys
from aiopinecone.emulator import Emulator

async def main() -> None:
    async with Emulator(api_keys=(sys.argv[1],), max_body_size=int(sys.argv[2])) as emu:
        print(emu.url, flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)

asyncio.run(main())
"""


def _status_kib(key: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark to the current RSS (Linux)."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")
    except OSError:
        return False
    return True


async def measure(action: Callable[[], Awaitable[Any]]) -> dict[str, float]:
    """Run ``action``; return peak RSS growth above the RSS at the start, and seconds taken."""
    gc.collect()
    if not reset_peak():
        raise SystemExit("this benchmark needs Linux (/proc/self/clear_refs, VmHWM)")
    baseline = _status_kib("VmRSS") or 0
    started = time.perf_counter()
    await action()
    seconds = time.perf_counter() - started
    peak = _status_kib("VmHWM") or 0
    return {"growth_mib": (peak - baseline) / MiB, "seconds": seconds}


def make_file(directory: str, size: int) -> Path:
    path = Path(directory) / "big.pdf"
    block = os.urandom(MiB)
    with path.open("wb") as out:
        for _ in range(size // MiB):
            out.write(block)
        out.write(block[: size % MiB])
    return path


async def run(size: int) -> dict[str, Any]:
    child = subprocess.Popen(  # noqa: ASYNC220 - started once, before anything is measured
        [sys.executable, "-c", _CHILD, KEY, str(size + 16 * MiB)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        url = child.stdout.readline().strip()
        if not url.startswith("http://"):
            raise SystemExit("the emulator did not start")
        with tempfile.TemporaryDirectory(prefix="aiopinecone-bench-") as tmp:
            path = make_file(tmp, size)
            return await _measure_all(url, path)
    finally:
        if child.stdin is not None:
            child.stdin.close()
        child.wait(timeout=30)


async def _measure_all(url: str, path: Path) -> dict[str, Any]:
    results: dict[str, Any] = {}
    timeout = aiohttp.ClientTimeout(total=600)
    for version in ("2025-10", "2026-04"):
        async with AsyncPinecone(api_key=KEY, host=url, api_version=version, timeout=timeout) as pc:
            name = f"bench-{version.replace('-', '')}"
            await pc.assistants.create(name=name, wait=True)
            # Warm up: the pool, the worker threads and every code path exist before measuring.
            await pc.assistants.upload_file(assistant_name=name, file=b"warm", file_name="w.txt")

            async def streamed(pc: AsyncPinecone = pc, name: str = name) -> None:
                await pc.assistants.upload_file(
                    assistant_name=name, file_path=path, check_limits=False
                )

            async def buffered(pc: AsyncPinecone = pc, name: str = name) -> None:
                data = await asyncio.to_thread(path.read_bytes)
                await pc.assistants.upload_file(
                    assistant_name=name, file=data, file_name=path.name, check_limits=False
                )
                del data

            results[version] = {
                "streamed": await measure(streamed),
                "buffered (control)": await measure(buffered),
            }
    return results


def report(size: int, results: dict[str, Any]) -> str:
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as info:
            cpu = next(
                (line.split(":", 1)[1].strip() for line in info if line.startswith("model name")),
                cpu,
            )
    except OSError:
        pass
    lines = [
        "# Upload memory benchmark",
        "",
        f"`python benchmarks/upload_memory.py` — {now}",
        "",
        f"- machine: {cpu}, {os.cpu_count()} CPUs, {platform.platform()}",
        f"- Python {platform.python_version()}, aiopinecone {aiopinecone.__version__}, "
        f"aiohttp {aiohttp.__version__}",
        f"- file: {size // MiB} MiB from disk; emulator in a child process (not measured)",
        "- growth: client peak RSS (VmHWM, reset before each run) minus RSS at the start",
        "",
        "| API version | upload | peak RSS growth (MiB) | seconds | MiB/s |",
        "|---|---|---:|---:|---:|",
    ]
    for version, runs in results.items():
        for label, numbers in runs.items():
            lines.append(
                f"| {version} | {label} | {numbers['growth_mib']:.1f} | "
                f"{numbers['seconds']:.2f} | {size / MiB / numbers['seconds']:.0f} |"
            )
    worst = max(r["streamed"]["growth_mib"] for r in results.values())
    verdict = "met" if worst < TARGET_MIB else "NOT met"
    lines += [
        "",
        f"Target (streamed growth under {TARGET_MIB} MiB): **{verdict}** (worst {worst:.1f} MiB).",
        "The buffered control holds the whole file in memory, as an SDK that reads the file "
        "into bytes before sending does; it shows the meter would catch buffering.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=200)
    parser.add_argument(
        "--write-results", action="store_true", help=f"write {RESULTS.name} next to this script"
    )
    args = parser.parse_args(argv)
    size = args.size_mib * MiB
    results = asyncio.run(run(size))
    text = report(size, results)
    print(text)
    if args.write_results:
        RESULTS.write_text(text, encoding="utf-8")
    worst = max(r["streamed"]["growth_mib"] for r in results.values())
    return 0 if worst < TARGET_MIB else 1


if __name__ == "__main__":
    raise SystemExit(main())
