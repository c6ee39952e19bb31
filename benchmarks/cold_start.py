"""Cold start: what a new process pays before its first answer (issue #10, item 7).

Two measurements, each in fresh interpreters started one after the other, implementations
interleaved round by round (the order rotates) and compared within each round:

- ``import``: ``import aiohttp`` (what aiopinecone cannot do without), ``import aiopinecone`` and,
  for context, ``import pinecone`` (the official SDK). The child times its own ``import``
  statement (``time.perf_counter`` around it); the parent also times the whole process (start,
  import, exit). Target: aiopinecone within 40 ms of aiohttp (median of per-round differences).
- ``first response``: a new process imports the client, builds it, makes one ``describe`` against
  the emulator (running in another process, started before) and exits; aiopinecone against the
  official SDK doing the same, and against a "floor" (bare aiohttp + orjson doing one GET: what
  any aiohttp-based client pays at least). Reported from the moment the parent starts the
  process to the first answer (both read ``CLOCK_MONOTONIC``), with its parts. Target: no slower
  than the official SDK (median of per-round ratios <= 1).

``baseline`` (``python -m benchmarks --only cold --cold-baseline DIR``) adds "aiopinecone
(baseline)": the package found in ``DIR`` (for example an export of an older commit), measured in
the same rounds.
"""

from __future__ import annotations

import asyncio
import json
import os
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
started = time.perf_counter()
import {module}
imported = time.perf_counter()
import json, sys
print(json.dumps({{"import_s": imported - started, "modules": len(sys.modules),
                  "file": {module}.__file__}}))
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
        answered = time.monotonic()
    finally:
        await pc.close()
    return built, answered

built, answered = asyncio.run(main())
import json
print(json.dumps({{"started": started, "imported": imported, "built": built,
                  "answered": answered}}))
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


def _run_child(code: str, tree: Tree) -> tuple[float, float, dict[str, Any]]:
    """Run ``python -c code``: (monotonic start, whole-process seconds, its JSON output)."""
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
    elapsed = time.monotonic() - started
    if done.returncode != 0:
        raise RuntimeError(f"child failed ({done.returncode}): {done.stderr[-2000:]}")
    return started, elapsed, json.loads(done.stdout.strip().splitlines()[-1])


def _rounds(
    runners: Mapping[str, Callable[[], dict[str, float]]], rounds: int
) -> dict[str, list[dict[str, float]]]:
    """One warm-up run each (byte-code caches, page cache), then ``rounds`` rotating rounds."""
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


def _paired(
    samples: Sequence[dict[str, float]],
    other: Sequence[dict[str, float]],
    key: str,
    how: Callable[[float, float], float],
) -> float | None:
    values = [how(a[key], b[key]) for a, b in zip(samples, other, strict=False) if b[key] > 0]
    return median(values) if values else None


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

    def runner(name: str) -> Callable[[], dict[str, float]]:
        code = IMPORT_CHILD.format(module=modules[name])

        def run() -> dict[str, float]:
            _, whole, out = _run_child(code, trees[name])
            where = trees[name].path
            if modules[name] == "aiopinecone" and not Path(out["file"]).is_relative_to(where):
                raise RuntimeError(f"{name}: imported {out['file']}, not the package in {where}")
            return {"import": out["import_s"], "process": whole, "modules": out["modules"]}

        return run

    samples = _rounds({name: runner(name) for name in trees}, rounds)
    reference = samples["aiohttp"]
    results: dict[str, Any] = {}
    for name, runs in samples.items():
        summary = _summary(runs, ("import", "process"))
        summary["modules"] = int(median([r["modules"] for r in runs]))
        for key in ("import", "process"):
            delta = _paired(runs, reference, key, lambda a, b: a - b)
            ratio = _paired(runs, reference, key, lambda a, b: a / b)
            summary[f"{key}_minus_aiohttp"] = None if delta is None else _ms(delta)
            summary[f"{key}_vs_aiohttp"] = None if ratio is None else round(ratio, 2)
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

        def run() -> dict[str, float]:
            spawned, whole, out = _run_child(code, tree)
            return {
                "first_response": out["answered"] - spawned,
                "interpreter": out["started"] - spawned,
                "import": out["imported"] - out["started"],
                "build_client": out["built"] - out["imported"],
                "describe": out["answered"] - out["built"],
                "process": whole,
            }

        return run

    samples = _rounds({name: runner(*spec) for name, spec in clients.items()}, rounds)
    keys = ("first_response", "interpreter", "import", "build_client", "describe", "process")
    results: dict[str, Any] = {}
    for name, runs in samples.items():
        summary = _summary(runs, keys)
        ratio = _paired(runs, samples["floor"], "first_response", lambda a, b: a / b)
        summary["vs_floor"] = None if ratio is None else round(ratio, 2)
        if "pinecone" in samples:
            ratio = _paired(runs, samples["pinecone"], "first_response", lambda a, b: a / b)
            summary["vs_official"] = None if ratio is None else round(ratio, 2)
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
            f"    import {name:24} {s['import']:7.1f} ms (process {s['process']:7.1f} ms), "
            f"{s['import_minus_aiohttp']:+.1f} ms vs aiohttp"
        )
    log(f"  first response: {first_rounds} rounds of fresh processes")
    first = measure_first_response(emulator, first_rounds, official=official, baseline=baseline)
    for name, s in first.items():
        log(
            f"    first response {name:24} {s['first_response']:7.1f} ms, "
            f"x{s['vs_floor']} the floor, x{s.get('vs_official')} the official SDK"
        )
    return {
        "imports": imports,
        "first_response": first,
        "import_target_ms": IMPORT_TARGET_MS,
        "baseline": str(baseline) if baseline is not None else None,
    }


def verdicts(results: Mapping[str, Any]) -> tuple[bool | None, bool | None]:
    """(import within the target of aiohttp, first response no slower than the official SDK)."""
    ours = results["imports"].get("aiopinecone")
    target = results.get("import_target_ms", IMPORT_TARGET_MS)
    imports = None
    if ours is not None and ours["import_minus_aiohttp"] is not None:
        imports = max(ours["import_minus_aiohttp"], ours["process_minus_aiohttp"]) <= target
    ratio = results["first_response"].get("aiopinecone", {}).get("vs_official")
    return imports, (None if ratio is None else ratio <= 1.0)


def _verdict(met: bool | None) -> str:
    return "n/a" if met is None else ("**met**" if met else "**not met**")


def markdown(results: Mapping[str, Any]) -> str:
    """The cold-start section of RESULTS.md."""
    imports = results["imports"]
    first = results["first_response"]
    import_rows = [
        [
            f"`import {'aiopinecone' if name == BASELINE else name}`"
            + (" (baseline)" if name == BASELINE else ""),
            s["rounds"],
            s["import"],
            f"{s['import_min']:.0f}-{s['import_max']:.0f}",
            s["import_minus_aiohttp"],
            s["process"],
            s["process_minus_aiohttp"],
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
            s["process"],
            s["vs_floor"],
            s.get("vs_official"),
        ]
        for name, s in first.items()
    ]
    met_import, met_first = verdicts(results)
    target = results.get("import_target_ms", IMPORT_TARGET_MS)
    lines = [
        "Fresh processes, one after the other, implementations interleaved round by round; "
        "medians in milliseconds. *import* is timed by the child around its `import` statement, "
        "*process* by the parent (start to exit); differences to aiohttp are medians of "
        "per-round differences (from `benchmarks/cold_start.py`).",
        "",
        table(
            [
                "import",
                "rounds",
                "import ms",
                "range",
                "vs aiohttp ms",
                "whole process ms",
                "vs aiohttp ms",
                "modules loaded",
            ],
            import_rows,
        ),
        "",
        f"Target (`import aiopinecone` within {target:g} ms of `import aiohttp`, timed both "
        f"ways): {_verdict(met_import)}.",
        "",
        "First response: a new process imports the client, builds it, makes one `describe` "
        "against the emulator (another process, already running) and exits. Times from the "
        "parent starting the process; the parts are interpreter start-up, import, building the "
        "client, the first describe (connection included); ratios are medians of per-round "
        "ratios. The floor is bare aiohttp + orjson making the same GET: no aiohttp-based client "
        "can start faster.",
        "",
        table(
            [
                "client",
                "rounds",
                "start to first response ms",
                "range",
                "interpreter",
                "import",
                "build client",
                "first describe",
                "whole process",
                "vs floor",
                "vs official",
            ],
            first_rows,
        ),
        "",
        f"Target (first response no slower than the official SDK): {_verdict(met_first)}.",
    ]
    if results.get("baseline"):
        lines += ["", f"Baseline: the package in `{results['baseline']}`."]
    return "\n".join(lines)
