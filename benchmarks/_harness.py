"""What every benchmark shares: the emulator in its own process, CPU/RSS meters, rounds, reports.

- :class:`EmulatorProcess` runs ``python -m aiopinecone.emulator --port 0`` in a child process on
  127.0.0.1 (so the server's CPU is never charged to the client being measured) and drives its
  ``/__emulator/`` admin routes.
- :class:`Meter` measures wall time and the *process* CPU time of the client
  (``time.process_time``: user + system, every thread of this process).
- :func:`reset_peak_rss` / :func:`peak_rss` / :func:`current_rss` read Linux's
  ``/proc/self/status`` (``VmHWM``, reset through ``/proc/self/clear_refs``).
- :func:`in_child` runs a measurement in a freshly spawned interpreter (clean heap, clean peak).
- :func:`interleave` runs several implementations round after round, rotating their order.
- :func:`machine_info`, :func:`write_json`, :func:`write_markdown`: the report.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import datetime
import importlib.metadata
import json
import multiprocessing
import os
import platform
import random
import selectors
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Final, Self, TypeVar

API_KEY: Final = "bench-key"
"""The key the benchmark emulator accepts (a fake; never a real key)."""

EMULATOR_START_TIMEOUT: Final = 30.0
CHILD_TIMEOUT: Final = 300.0
REPO_ROOT: Final = Path(__file__).resolve().parent.parent

T = TypeVar("T")


# -- the emulator in another process --------------------------------------------------------


class EmulatorProcess:
    """``python -m aiopinecone.emulator`` on an ephemeral loopback port, in a child process.

    ``with EmulatorProcess(ready_delay=0.0) as emu: emu.url``. Keyword options are the CLI's
    (``ready_delay=0.5`` becomes ``--ready-delay 0.5``). :meth:`admin` calls the admin routes.
    """

    def __init__(self, **options: object) -> None:
        # Deletes are instant unless asked otherwise: benchmarks reuse the names they delete.
        self._options = {"delete_delay": 0.0, **options}
        self._process: subprocess.Popen[str] | None = None
        self._stderr: IO[str] | None = None
        self.url = ""

    def _argv(self) -> list[str]:
        argv = [sys.executable, "-m", "aiopinecone.emulator", "--host", "127.0.0.1"]
        argv += ["--port", "0", "--api-key", API_KEY]
        for key, value in self._options.items():
            argv += ["--" + key.replace("_", "-"), str(value)]
        return argv

    def start(self) -> None:
        """Start the process and wait (bounded) until it prints the URL it listens on."""
        self._stderr = tempfile.TemporaryFile("w+")  # noqa: SIM115 - closed in stop()
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self._process = subprocess.Popen(
            self._argv(),
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
            cwd=REPO_ROOT,
        )
        assert self._process.stdout is not None
        deadline = time.monotonic() + EMULATOR_START_TIMEOUT
        with selectors.DefaultSelector() as selector:
            selector.register(self._process.stdout, selectors.EVENT_READ)
            while time.monotonic() < deadline:
                if not selector.select(timeout=max(0.0, deadline - time.monotonic())):
                    continue
                line = self._process.stdout.readline()
                if not line:
                    break
                marker = "listening on "
                if marker in line:
                    self.url = line.split(marker, 1)[1].strip()
                    return
        self.stop()
        raise RuntimeError(f"the emulator did not start: {self._stderr_text()}")

    def _stderr_text(self) -> str:
        if self._stderr is None or self._stderr.closed:
            return ""
        self._stderr.seek(0)
        return self._stderr.read()[-2000:]

    @property
    def pid(self) -> int:
        """The emulator's process id."""
        assert self._process is not None
        return self._process.pid

    def cpu_seconds(self) -> float | None:
        """CPU time (user + system) the emulator process has used so far (Linux)."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def admin(self, method: str, path: str, body: object | None = None) -> Any:
        """Call ``/__emulator/<path>`` and return the decoded JSON answer."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.url}/__emulator/{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")

    def reset(self) -> None:
        """State, log, faults and rate-limit counters back to a fresh start; this process's
        clients made from now on start as against a new project (what earlier ones kept of the
        server's budget is forgotten: ``aiopinecone.forget_projects``)."""
        from aiopinecone import forget_projects

        self.admin("POST", "reset")
        forget_projects()

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 10 s; idempotent."""
        process, self._process = self._process, None
        if process is not None:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=10)
            if process.stdout is not None:
                process.stdout.close()
        if self._stderr is not None:
            self._stderr.close()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


# -- CPU, wall time, memory -------------------------------------------------------------------


@dataclass
class Sample:
    """One measured run: ``requests`` done in ``wall`` seconds using ``cpu`` seconds of CPU."""

    requests: int
    wall: float
    cpu: float
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def cpu_us_per_request(self) -> float:
        """Client CPU microseconds per request."""
        return self.cpu / self.requests * 1e6 if self.requests else 0.0

    @property
    def requests_per_second(self) -> float:
        """Requests per wall-clock second."""
        return self.requests / self.wall if self.wall > 0 else 0.0


class Meter:
    """``with Meter() as m: ...`` then ``m.sample(n)``: wall time and this process's CPU time."""

    __slots__ = ("_cpu0", "_wall0", "cpu", "wall")

    def __init__(self) -> None:
        self._cpu0 = self._wall0 = 0.0
        self.cpu = self.wall = 0.0

    def __enter__(self) -> Self:
        self._wall0 = time.perf_counter()
        self._cpu0 = time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cpu = time.process_time() - self._cpu0
        self.wall = time.perf_counter() - self._wall0

    def sample(self, requests: int, **extra: Any) -> Sample:
        """The measurement as a :class:`Sample`."""
        return Sample(requests=requests, wall=self.wall, cpu=self.cpu, extra=dict(extra))


def _status_kib(key: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def current_rss() -> int | None:
    """This process's resident set size in bytes (Linux), else None."""
    return _status_kib("VmRSS")


def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark (``VmHWM``) to the current RSS; False if unsupported."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")
    except OSError:
        return False
    return True


def peak_rss() -> int | None:
    """Peak RSS in bytes since the last :func:`reset_peak_rss` (Linux), else None."""
    return _status_kib("VmHWM")


@contextlib.contextmanager
def peak_growth() -> Iterator[dict[str, int | None]]:
    """``with peak_growth() as mem: ...`` then ``mem["growth"]``: peak RSS minus RSS at entry.

    ``None`` values where the platform cannot tell (not Linux, or ``clear_refs`` refused).
    """
    out: dict[str, int | None] = {"baseline": None, "peak": None, "growth": None}
    supported = reset_peak_rss()
    baseline = current_rss()
    out["baseline"] = baseline
    try:
        yield out
    finally:
        peak = peak_rss() if supported else None
        out["peak"] = peak
        if peak is not None and baseline is not None:
            out["growth"] = max(0, peak - baseline)


MIB: Final = 1024 * 1024


def mib(value: int | float | None) -> float | None:
    """Bytes to MiB (rounded to 0.1), None stays None."""
    return None if value is None else round(value / MIB, 1)


# -- running things -----------------------------------------------------------------------------


def in_child(fn: Callable[..., T], *args: Any, timeout: float = CHILD_TIMEOUT) -> T:
    """``fn(*args)`` in a freshly spawned interpreter (clean heap and peak RSS); its result.

    ``fn`` must be a module-level function and its arguments and result picklable.
    """
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(fn, *args).result(timeout=timeout)


async def run_concurrently(
    count: int, concurrency: int, operation: Callable[[int], Awaitable[object]]
) -> None:
    """``operation(i)`` for ``i`` in ``range(count)``, at most ``concurrency`` at a time.

    ``concurrency`` worker tasks pull from one shared counter, so every implementation measured
    sees exactly the same schedule shape.
    """
    indices = iter(range(count))

    async def worker() -> None:
        for index in indices:
            await operation(index)

    await asyncio.gather(*(worker() for _ in range(min(concurrency, count))))


Runner = Callable[[int], Awaitable[Sample]]
"""One implementation's workload: called with the round number, returns its measurement."""


async def interleave(
    runners: Mapping[str, Runner],
    rounds: int,
    *,
    between: Callable[[], object] | None = None,
    limits: Mapping[str, int] | None = None,
) -> dict[str, list[Sample]]:
    """Run every implementation once per round, rotating the order from round to round.

    Rotation spreads slow drifts of a shared machine (other processes, CPU frequency) over all
    implementations instead of charging them to whichever always ran last. ``between`` runs
    before every single run (e.g. an emulator reset). ``limits`` caps the number of rounds of
    some implementations (a slow one takes part in the first N rounds only). Each sample records
    its round in ``extra["round"]``, which :func:`paired_ratio` pairs on.
    """
    names = list(runners)
    caps = limits or {}
    samples: dict[str, list[Sample]] = {name: [] for name in names}
    for round_index in range(rounds):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            if round_index >= caps.get(name, rounds):
                continue
            if between is not None:
                between()
            sample = await runners[name](round_index)
            sample.extra["round"] = round_index
            samples[name].append(sample)
    return samples


def median(values: Sequence[float]) -> float:
    """The median (0.0 for no values)."""
    return float(statistics.median(values)) if values else 0.0


def summarize(samples: Sequence[Sample]) -> dict[str, Any]:
    """Median, min and max of CPU per request and requests per second over rounds."""
    cpu = [s.cpu_us_per_request for s in samples]
    rps = [s.requests_per_second for s in samples]
    return {
        "rounds": len(samples),
        "requests": samples[0].requests if samples else 0,
        "cpu_us_per_request": round(median(cpu), 1),
        "cpu_us_min": round(min(cpu), 1) if cpu else None,
        "cpu_us_max": round(max(cpu), 1) if cpu else None,
        "requests_per_second": round(median(rps), 1),
        "rps_min": round(min(rps), 1) if rps else None,
        "rps_max": round(max(rps), 1) if rps else None,
        "cpu_us_all": [round(v, 1) for v in cpu],
    }


def _paired_ratios(samples: Sequence[Sample], floor: Sequence[Sample]) -> list[float]:
    by_round = {f.extra.get("round", i): f for i, f in enumerate(floor)}
    ratios = []
    for i, sample in enumerate(samples):
        other = by_round.get(sample.extra.get("round", i))
        if other is not None and other.cpu_us_per_request > 0:
            ratios.append(sample.cpu_us_per_request / other.cpu_us_per_request)
    return ratios


def paired_ratio(samples: Sequence[Sample], floor: Sequence[Sample]) -> float | None:
    """Median over rounds of (CPU per request / the floor's in the same round)."""
    ratios = _paired_ratios(samples, floor)
    return round(median(ratios), 3) if ratios else None


def ratio_interval(
    samples: Sequence[Sample], floor: Sequence[Sample], *, confidence: float = 0.95
) -> tuple[float, float] | None:
    """A bootstrap confidence interval of :func:`paired_ratio` (fixed seed: reproducible)."""
    ratios = _paired_ratios(samples, floor)
    if len(ratios) < 5:
        return None
    rng = random.Random(0)
    medians = sorted(median(rng.choices(ratios, k=len(ratios))) for _ in range(2000))
    tail = (1.0 - confidence) / 2.0
    low = medians[int(tail * len(medians))]
    high = medians[min(len(medians) - 1, int((1.0 - tail) * len(medians)))]
    return round(low, 3), round(high, 3)


# -- the report -------------------------------------------------------------------------------


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _memory_total() -> int | None:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    return None


def _git_commit() -> str | None:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            cwd=REPO_ROOT,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head or None


def load_average() -> list[float] | None:
    """The 1/5/15-minute load averages, if the platform has them."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def machine_info() -> dict[str, Any]:
    """Date, machine and software versions, recorded with every result."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 0
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "cpu": _cpu_model(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": usable,
        "memory_mib": mib(_memory_total()),
        "load_average_at_start": load_average(),
        "git_commit": _git_commit(),
        "versions": {
            name: _version(name)
            for name in ("aiopinecone", "aiohttp", "orjson", "cattrs", "attrs", "pinecone", "httpx")
        },
    }


def write_json(path: Path, results: Mapping[str, Any]) -> None:
    """The results as indented JSON."""
    path.write_text(json.dumps(results, indent=2, sort_keys=False) + "\n", encoding="utf-8")


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub-flavoured markdown table."""

    def cell(value: object) -> str:
        if value is None:
            return "n/a"
        if isinstance(value, float):
            return f"{value:,.2f}" if abs(value) < 10 else f"{value:,.0f}"
        return str(value)

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)
