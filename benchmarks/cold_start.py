"""Cold start: what a new process pays before its first answer (issue #10, item 7).

Two measurements, each in fresh interpreters started one after the other, implementations
interleaved round by round (the order rotates) and compared within each round:

- ``import``: ``import aiohttp`` (what aiopinecone cannot do without), ``import aiopinecone`` and,
  for context, ``import pinecone`` (the official SDK). The child times its own ``import``
  statement; the parent also times the whole process (start, import, exit). Target: aiopinecone
  within 40 ms of aiohttp (median of per-round differences).
- ``first response``: a new process imports the client, builds it, makes one ``describe`` against
  the emulator (running in another process, started before) and exits; aiopinecone against the
  official SDK doing the same, and against a "floor" (bare aiohttp + orjson doing one GET: what
  any aiohttp-based client pays at least). Times run from the moment the parent starts the
  process to the first answer (both read ``CLOCK_MONOTONIC``), with its parts. Target: no slower
  than the official SDK (median of per-round ratios <= 1).

Every figure is taken twice: wall-clock time, and CPU time (user + system, from
``time.process_time`` in the child and the parent's ``getrusage(RUSAGE_CHILDREN)``). Starting a
process is CPU-bound work, so on a shared machine the CPU time shows the cost itself while the
wall time adds whatever waiting for a core the other work on the machine caused.

``baseline`` (``python -m benchmarks --only cold --cold-baseline DIR``) adds "aiopinecone
(baseline)": the package found in ``DIR`` (for example an export of an older commit), measured in
the same rounds.

Byte code: every package is measured as installed, from its cached byte code. An installer
compiles ``.pyc`` files (pip does), and aiohttp, cattrs and the official SDK come with them; a
source tree run with ``PYTHONDONTWRITEBYTECODE=1`` (set on some machines, this one included)
would compile aiopinecone from source in every child, which measures the compiler. So the
package under test is compiled once (``compileall``, into its ``__pycache__``) before the rounds.
"""

from __future__ import annotations

import asyncio
import compileall
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from ._harness import API_KEY, REPO_ROOT, EmulatorProcess, median, table

DESCRIBED: Final = "cold-start"
IMPORT_TARGET_MS: Final = 40.0
CHILD_TIMEOUT: Final = 120.0
BASELINE: Final = "aiopinecone (baseline)"

IMPORT_CHILD: Final = """
import time
started, started_cpu = time.perf_counter(), time.process_time()
import {module}
imported, imported_cpu = time.perf_counter(), time.process_time()
import json, sys
print(json.dumps({{"import": imported - started, "import_cpu": imported_cpu - started_cpu,
                  "modules": len(sys.modules), "file": {module}.__file__}}))
"""

# The same steps for every client: import, build the client inside the loop, one describe, close.
FIRST_RESPONSE_CHILD: Final = """
import time
started = time.monotonic()
import asyncio
{import_line}
imported = time.monotonic()

async def main():
    pc = {build}
    built = time.monotonic()
    try:
        await pc.assistants.describe(name={name!r})
        answered, answered_cpu = time.monotonic(), time.process_time()
    finally:
        await pc.close()
    return built, answered, answered_cpu

built, answered, answered_cpu = asyncio.run(main())
import json
print(json.dumps({{"started": started, "imported": imported, "built": built,
                  "answered": answered, "answered_cpu": answered_cpu}}))
"""

# The floor: what any aiohttp-based client pays at least (aiohttp + orjson, one GET, no models).
FLOOR_CLIENT: Final = """
import aiohttp, orjson

class Floor:
    def __init__(self, url, key):
        self.url, self.assistants = url, self
        self.headers = {{"Api-Key": key, "X-Pinecone-Api-Version": "2025-10"}}
        self.session = aiohttp.ClientSession()

    async def describe(self, name):
        url = self.url + "/assistant/assistants/" + name
        async with self.session.get(url, headers=self.headers) as response:
            return orjson.loads(await response.read())

    async def close(self):
        await self.session.close()
"""

FIRST_RESPONSE_CLIENTS: Final = {
    "floor": (FLOOR_CLIENT, "Floor({url!r}, {key!r})"),
    "aiopinecone": (
        "import aiopinecone",
        "aiopinecone.AsyncPinecone(api_key={key!r}, host={url!r})",
    ),
    "pinecone": ("import pinecone", "pinecone.AsyncPinecone(api_key={key!r}, host={url!r})"),
}


def official_available() -> bool:
    """Whether the official SDK can be imported in a child process."""
    try:
        import pinecone
    except ImportError:
        return False
    return hasattr(pinecone, "AsyncPinecone")


class Tree:
    """Where a child finds the package under test: ``path`` first on ``sys.path``.

    The child also runs in ``path``: ``python -c`` puts its working directory ahead of
    ``PYTHONPATH``, so running every child in this repository would measure this checkout's
    package whatever ``path`` says.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.env = dict(os.environ)
        rest = self.env.get("PYTHONPATH")
        self.env["PYTHONPATH"] = os.pathsep.join([str(path), *([rest] if rest else [])])

    def compile(self) -> None:
        """Write the byte code of the ``aiopinecone`` package found here, as an install would
        (a no-op for files whose cache is current)."""
        package = self.path / "aiopinecone"
        if package.is_dir() and not compileall.compile_dir(package, quiet=1):
            raise RuntimeError(f"could not compile {package}")


class Child:
    """One finished child process: when it started, its wall and CPU time, its JSON output."""

    def __init__(self, started: float, wall: float, cpu: float, out: dict[str, Any]) -> None:
        self.started, self.wall, self.cpu, self.out = started, wall, cpu, out


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run_child(code: str, tree: Tree) -> Child:
    """Run ``python -c code`` to its end (children still running, like the emulator, are not
    counted by ``RUSAGE_CHILDREN``, so the CPU delta is this child's)."""
    cpu_before = _children_cpu()
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=tree.env,
        cwd=tree.path,
        timeout=CHILD_TIMEOUT,
        check=False,
    )
    wall = time.monotonic() - started
    cpu = _children_cpu() - cpu_before
    if done.returncode != 0:
        raise RuntimeError(f"child failed ({done.returncode}): {done.stderr[-2000:]}")
    return Child(started, wall, cpu, json.loads(done.stdout.strip().splitlines()[-1]))


def _rounds(
    runners: Mapping[str, Callable[[], dict[str, float]]], rounds: int
) -> dict[str, list[dict[str, float]]]:
    """One warm-up run each (page cache), then ``rounds`` rotating rounds."""
    for run in runners.values():
        run()
    names = list(runners)
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    for index in range(rounds):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            samples[name].append(runners[name]())
    return samples


def _ms(value: float) -> float:
    return round(value * 1000.0, 1)


def _summary(samples: Sequence[dict[str, float]], keys: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"rounds": len(samples)}
    for key in keys:
        values = [s[key] for s in samples]
        out[key] = _ms(median(values))
        out[f"{key}_min"] = _ms(min(values))
        out[f"{key}_max"] = _ms(max(values))
        out[f"{key}_all"] = [_ms(v) for v in values]
    return out


def _difference(
    samples: Sequence[dict[str, float]], other: Sequence[dict[str, float]], key: str
) -> float | None:
    """Median over rounds of ``sample - other`` (milliseconds)."""
    values = [a[key] - b[key] for a, b in zip(samples, other, strict=False)]
    return _ms(median(values)) if values else None


def _ratio(
    samples: Sequence[dict[str, float]], other: Sequence[dict[str, float]], key: str
) -> float | None:
    """Median over rounds of ``sample / other``."""
    values = [a[key] / b[key] for a, b in zip(samples, other, strict=False) if b[key] > 0]
    return round(median(values), 2) if values else None


IMPORT_KEYS: Final = ("import", "import_cpu", "process", "process_cpu")


def measure_imports(
    rounds: int, *, official: bool = True, baseline: Path | None = None
) -> dict[str, Any]:
    """Import times in fresh processes; JSON-ready results (milliseconds)."""
    here = Tree(REPO_ROOT)
    trees = {"aiohttp": here, "aiopinecone": here}
    modules = {"aiohttp": "aiohttp", "aiopinecone": "aiopinecone"}
    if baseline is not None:
        trees[BASELINE], modules[BASELINE] = Tree(baseline), "aiopinecone"
    if official:
        trees["pinecone"], modules["pinecone"] = here, "pinecone"
    for tree in trees.values():
        tree.compile()

    def runner(name: str) -> Callable[[], dict[str, float]]:
        code = IMPORT_CHILD.format(module=modules[name])

        def run() -> dict[str, float]:
            child = _run_child(code, trees[name])
            where = trees[name].path
            if modules[name] == "aiopinecone" and not Path(child.out["file"]).is_relative_to(where):
                raise RuntimeError(f"{name}: imported {child.out['file']}, not the one in {where}")
            return {
                "import": child.out["import"],
                "import_cpu": child.out["import_cpu"],
                "process": child.wall,
                "process_cpu": child.cpu,
                "modules": child.out["modules"],
            }

        return run

    samples = _rounds({name: runner(name) for name in trees}, rounds)
    reference = samples["aiohttp"]
    results: dict[str, Any] = {}
    for name, runs in samples.items():
        summary = _summary(runs, IMPORT_KEYS)
        summary["modules"] = int(median([r["modules"] for r in runs]))
        for key in IMPORT_KEYS:
            summary[f"{key}_minus_aiohttp"] = _difference(runs, reference, key)
        results[name] = summary
    return results


def _create_described(emulator: EmulatorProcess) -> None:
    from .client_cost import FloorClient

    async def create() -> None:
        client = FloorClient(emulator.url)
        try:
            await client.create(DESCRIBED)
        finally:
            await client.aclose()

    asyncio.run(create())


FIRST_KEYS: Final = (
    "first_response",
    "interpreter",
    "import",
    "build_client",
    "describe",
    "first_response_cpu",
    "process",
)


def measure_first_response(
    emulator: EmulatorProcess,
    rounds: int,
    *,
    official: bool = True,
    baseline: Path | None = None,
) -> dict[str, Any]:
    """Process start to first answer, in fresh processes; JSON-ready results (milliseconds)."""
    _create_described(emulator)
    clients = {"floor": ("floor", REPO_ROOT), "aiopinecone": ("aiopinecone", REPO_ROOT)}
    if baseline is not None:
        clients[BASELINE] = ("aiopinecone", baseline)
    if official:
        clients["pinecone"] = ("pinecone", REPO_ROOT)

    def runner(kind: str, path: Path) -> Callable[[], dict[str, float]]:
        import_line, build = FIRST_RESPONSE_CLIENTS[kind]
        code = FIRST_RESPONSE_CHILD.format(
            import_line=import_line.format(),
            build=build.format(key=API_KEY, url=emulator.url),
            name=DESCRIBED,
        )
        tree = Tree(path)
        tree.compile()

        def run() -> dict[str, float]:
            child = _run_child(code, tree)
            out = child.out
            return {
                "first_response": out["answered"] - child.started,
                "interpreter": out["started"] - child.started,
                "import": out["imported"] - out["started"],
                "build_client": out["built"] - out["imported"],
                "describe": out["answered"] - out["built"],
                "first_response_cpu": out["answered_cpu"],
                "process": child.wall,
            }

        return run

    samples = _rounds({name: runner(*spec) for name, spec in clients.items()}, rounds)
    results: dict[str, Any] = {}
    for name, runs in samples.items():
        summary = _summary(runs, FIRST_KEYS)
        summary["vs_floor"] = _ratio(runs, samples["floor"], "first_response")
        if "pinecone" in samples:
            summary["vs_official"] = _ratio(runs, samples["pinecone"], "first_response")
            summary["cpu_vs_official"] = _ratio(runs, samples["pinecone"], "first_response_cpu")
        results[name] = summary
    return results


def run_cold_start(
    emulator: EmulatorProcess,
    *,
    import_rounds: int = 9,
    first_rounds: int = 7,
    official: bool = True,
    baseline: Path | None = None,
    log: Callable[[str], object] = print,
) -> dict[str, Any]:
    """Both measurements; JSON-ready results."""
    official = official and official_available()
    log(f"  import: {import_rounds} rounds of fresh processes")
    imports = measure_imports(import_rounds, official=official, baseline=baseline)
    for name, s in imports.items():
        log(
            f"    import {name:24} {s['import']:7.1f} ms, CPU {s['import_cpu']:7.1f} ms: "
            f"{s['import_minus_aiohttp']:+.1f} ms (CPU {s['import_cpu_minus_aiohttp']:+.1f} ms) "
            "vs aiohttp"
        )
    log(f"  first response: {first_rounds} rounds of fresh processes")
    first = measure_first_response(emulator, first_rounds, official=official, baseline=baseline)
    for name, s in first.items():
        log(
            f"    first response {name:24} {s['first_response']:7.1f} ms "
            f"(CPU {s['first_response_cpu']:.1f} ms), x{s['vs_floor']} the floor, "
            f"x{s.get('vs_official')} the official SDK (CPU x{s.get('cpu_vs_official')})"
        )
    return {
        "imports": imports,
        "first_response": first,
        "import_target_ms": IMPORT_TARGET_MS,
        "baseline": str(baseline) if baseline is not None else None,
    }


Verdict = bool | None


def verdicts(results: Mapping[str, Any]) -> dict[str, Verdict]:
    """Each target, judged on wall-clock time and on CPU time (``None``: not measured)."""
    ours = results["imports"].get("aiopinecone", {})
    first = results["first_response"].get("aiopinecone", {})
    target = results.get("import_target_ms", IMPORT_TARGET_MS)

    def within(*keys: str) -> Verdict:
        values = [ours.get(f"{key}_minus_aiohttp") for key in keys]
        return None if None in values else max(v for v in values if v is not None) <= target

    def no_slower(key: str) -> Verdict:
        ratio = first.get(key)
        return None if ratio is None else ratio <= 1.0

    return {
        "import_wall": within("import", "process"),
        "import_cpu": within("import_cpu", "process_cpu"),
        "first_response_wall": no_slower("vs_official"),
        "first_response_cpu": no_slower("cpu_vs_official"),
    }


def _verdict(met: Verdict) -> str:
    return "n/a" if met is None else ("**met**" if met else "**not met**")


def _import_label(name: str) -> str:
    if name == BASELINE:
        return "`import aiopinecone` (baseline)"
    return f"`import {name}`"


def markdown(results: Mapping[str, Any]) -> str:
    """The cold-start section of RESULTS.md."""
    imports = results["imports"]
    first = results["first_response"]
    import_rows = [
        [
            _import_label(name),
            s["rounds"],
            s["import"],
            s["import_minus_aiohttp"],
            s["import_cpu"],
            s["import_cpu_minus_aiohttp"],
            s["process"],
            s["process_minus_aiohttp"],
            s["process_cpu"],
            s["process_cpu_minus_aiohttp"],
            s["modules"],
        ]
        for name, s in imports.items()
    ]
    first_rows = [
        [
            name,
            s["rounds"],
            s["first_response"],
            f"{s['first_response_min']:.0f}-{s['first_response_max']:.0f}",
            s["interpreter"],
            s["import"],
            s["build_client"],
            s["describe"],
            s["first_response_cpu"],
            s["vs_floor"],
            s.get("vs_official"),
            s.get("cpu_vs_official"),
        ]
        for name, s in first.items()
    ]
    met = verdicts(results)
    target = results.get("import_target_ms", IMPORT_TARGET_MS)
    lines = [
        "Fresh processes, one after the other, implementations interleaved round by round; "
        "medians in milliseconds, each beside its median per-round difference to "
        "`import aiohttp` (\u0394). *import*: the child times its `import` statement; *process*: "
        "the parent times the whole process, start to exit. Wall-clock and CPU time (user + "
        "system): on this shared machine the CPU time is the cost itself, the wall time adds "
        "waiting for a core. From `benchmarks/cold_start.py`.",
        "",
        table(
            [
                "import",
                "rounds",
                "import",
                "\u0394",
                "import CPU",
                "\u0394",
                "whole process",
                "\u0394",
                "whole process CPU",
                "\u0394",
                "modules loaded",
            ],
            import_rows,
        ),
        "",
        f"Target (`import aiopinecone` within {target:g} ms of `import aiohttp`, import and "
        f"whole process): wall-clock {_verdict(met['import_wall'])}, CPU "
        f"{_verdict(met['import_cpu'])}.",
        "",
        "First response: a new process imports the client, builds it, makes one `describe` "
        "against the emulator (another process, already running) and exits. Wall-clock times "
        "from the parent starting the process; the parts are interpreter start-up, import, "
        "building the client, the first describe (connection included); *CPU* is the process's "
        "CPU time up to the answer. Ratios are medians of per-round ratios. The floor is bare "
        "aiohttp + orjson making the same GET: no aiohttp-based client can start faster.",
        "",
        table(
            [
                "client",
                "rounds",
                "start to first response",
                "range",
                "interpreter",
                "import",
                "build client",
                "first describe",
                "CPU",
                "vs floor",
                "vs official",
                "CPU vs official",
            ],
            first_rows,
        ),
        "",
        "Target (first response no slower than the official SDK): wall-clock "
        f"{_verdict(met['first_response_wall'])}, CPU {_verdict(met['first_response_cpu'])}.",
    ]
    if results.get("baseline"):
        lines += ["", f"Baseline: the package in `{results['baseline']}`."]
    return "\n".join(lines)
