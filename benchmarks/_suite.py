"""``python -m benchmarks``: every benchmark in one run, one report (``RESULTS.md`` + JSON).

1. client cost per request (:mod:`benchmarks.client_cost`);
2. fleet provisioning (:mod:`benchmarks.provision_fleet`);
3. memory: streamed upload (:mod:`benchmarks.upload_memory`) and streamed chat answer
   (:mod:`benchmarks.stream_memory`);
4. scale with concurrency (:mod:`benchmarks.scale`);
5. cold start: import time and time to a first response (:mod:`benchmarks.cold_start`).

Every part talks to an emulator in another process over loopback; parts that measure memory run
in freshly spawned interpreters. ``--quick`` runs everything at tiny sizes (a smoke test: the
numbers mean nothing).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

from . import client_cost, cold_start, governor, instructions, scale, stream_memory
from ._harness import EmulatorProcess, in_child, load_average, machine_info, table, write_json

HERE: Final = Path(__file__).resolve().parent
PARTS: Final = ("cost", "cold", "fleet", "governor", "upload", "stream", "scale")
OPT_IN: Final = ("instructions",)
"""Parts run only when asked for with ``--only`` (slow, or needing extra tools)."""
ALL_PARTS: Final = (
    "cost",
    "instructions",
    "cold",
    "fleet",
    "governor",
    "upload",
    "stream",
    "scale",
)
MIB: Final = 1024 * 1024
KEPT_MARKER: Final = (
    "<!-- Hand-recorded results below this line are kept when python -m benchmarks rewrites "
    "this file. -->"
)


@dataclass
class Options:
    """Sizes of one run (the defaults are the full suite)."""

    parts: tuple[str, ...] = PARTS
    rounds: int = 160
    official_rounds: int = 3
    concurrency: int = 50
    describe_requests: int = 500
    create_requests: int = 125
    official: bool = True
    scale_levels: tuple[int, ...] = scale.DEFAULT_LEVELS
    scale_min_requests: int = 4000
    scale_pool: int = 100
    scale_delay: float = 0.05
    stream_mib: float = 10.0
    upload_mib: int = 200
    fleet_size: int = 500
    fleet_rate: int = 100
    fleet_time_scale: float = 0.1
    fleet_ready_delay: float = 1.0
    cold_rounds: int = 9
    cold_first_rounds: int = 7
    cold_baseline: str | None = None
    quick: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


QUICK: Final = {
    "rounds": 2,
    "official_rounds": 1,
    "concurrency": 10,
    "describe_requests": 100,
    "create_requests": 30,
    "scale_levels": (10, 50),
    "scale_min_requests": 100,
    "scale_pool": 10,
    "scale_delay": 0.005,
    "stream_mib": 0.25,
    "upload_mib": 4,
    "fleet_size": 12,
    "fleet_rate": 120,
    "fleet_time_scale": 0.02,
    "fleet_ready_delay": 0.1,
    "cold_rounds": 1,
    "cold_first_rounds": 1,
}


# -- the parts ----------------------------------------------------------------------------------


def _cost(options: Options, log: Callable[[str], object]) -> dict[str, Any]:
    with EmulatorProcess() as emulator:
        return asyncio.run(
            client_cost.run_client_cost(
                emulator,
                describe_requests=options.describe_requests,
                create_requests=options.create_requests,
                concurrency=options.concurrency,
                rounds=options.rounds,
                official_rounds=options.official_rounds,
                official=options.official,
                log=log,
            )
        )


def _instructions(options: Options, log: Callable[[str], object]) -> dict[str, Any]:
    with EmulatorProcess() as emulator:
        return instructions.run_instructions(
            emulator,
            requests=100 if options.quick else 1000,
            concurrency=options.concurrency,
            log=log,
        )


def _cold(options: Options, log: Callable[[str], object]) -> dict[str, Any]:
    with EmulatorProcess() as emulator:
        return cold_start.run_cold_start(
            emulator,
            import_rounds=options.cold_rounds,
            first_rounds=options.cold_first_rounds,
            official=options.official,
            baseline=Path(options.cold_baseline).resolve() if options.cold_baseline else None,
            log=log,
        )


def _scale(options: Options, log: Callable[[str], object]) -> dict[str, Any]:
    with EmulatorProcess() as emulator:
        return scale.run_scale(
            emulator,
            levels=options.scale_levels,
            min_requests=options.scale_min_requests,
            pool=options.scale_pool,
            delay=options.scale_delay,
            log=log,
        )


def _stream(options: Options, log: Callable[[str], object]) -> dict[str, Any]:
    with EmulatorProcess() as emulator:
        return stream_memory.run_stream_memory(
            emulator, answer_mib=options.stream_mib, official=options.official, log=log
        )


def upload_child(size: int) -> dict[str, Any]:
    """``benchmarks.upload_memory.run`` in this (fresh) process."""
    from . import upload_memory

    result: dict[str, Any] = asyncio.run(upload_memory.run(size))
    return result


def _upload(options: Options, log: Callable[[str], object]) -> dict[str, Any]:
    size = options.upload_mib * MIB
    results = in_child(upload_child, size)
    for version, runs in results.items():
        for label, numbers in runs.items():
            log(f"    {version} {label:20} peak RSS +{numbers['growth_mib']:.1f} MiB")
    return {"size_mib": options.upload_mib, "target_mib": 30, "results": results}


def fleet_child(options: Mapping[str, Any]) -> dict[str, Any]:
    """``benchmarks.provision_fleet.run`` in this (fresh) process."""
    from . import provision_fleet

    result: dict[str, Any] = provision_fleet.run(**options)
    return result


def _fleet(options: Options, log: Callable[[str], object]) -> dict[str, Any]:
    results = in_child(
        fleet_child,
        {
            "n": options.fleet_size,
            "rate": options.fleet_rate,
            "time_scale": options.fleet_time_scale,
            "ready_delay": options.fleet_ready_delay,
            "naive": options.official and client_cost.official_available(),
        },
        timeout=1800.0,
    )
    results.pop("machine", None)  # the suite records the machine once
    for row in results["results"]:
        log(
            f"    {row['approach']:45} ratio {row['ratio']}, 429/create "
            f"{row['429_per_accepted_create']}, polls/assistant {row['polling_per_assistant']}"
        )
    return results


def _governor(options: Options, log: Callable[[str], object]) -> dict[str, Any]:
    results = governor.run(quick=options.quick, log=log)
    results.pop("machine", None)  # the suite records the machine once
    return results


RUNNERS: Final[Mapping[str, Callable[[Options, Callable[[str], object]], dict[str, Any]]]] = {
    "cost": _cost,
    "instructions": _instructions,
    "cold": _cold,
    "fleet": _fleet,
    "governor": _governor,
    "upload": _upload,
    "stream": _stream,
    "scale": _scale,
}


def title(part: str, results: Mapping[str, Any]) -> str:
    """A section's heading, with the sizes of this run."""
    data = results.get(part, {})
    if part == "cost":
        return "1. Client cost per request"
    if part == "instructions":
        return "1b. Client cost per request in instructions (valgrind)"
    if part == "cold":
        return "1c. Cold start: import time and time to a first response"
    if part == "fleet":
        size = data.get("parameters", {}).get("assistants", "N")
        return f"2. Fleet provisioning ({size} assistants)"
    if part == "governor":
        return "2b. Rate governor: limits it is not told"
    if part == "upload":
        return f"3a. Memory: {data.get('size_mib', '?')} MiB streamed upload"
    if part == "stream":
        return f"3b. Memory: {data.get('answer_mib_requested', '?'):g} MiB streamed chat answer"
    levels = data.get("levels") or [0]
    return f"4. Scale: {min(levels):,} to {max(levels):,} concurrent requests"


def run_suite(options: Options, log: Callable[[str], object] = print) -> dict[str, Any]:
    """Run the selected parts; JSON-ready results with the machine and the options."""
    started = time.perf_counter()
    results: dict[str, Any] = {"machine": machine_info(), "options": asdict(options)}
    for part in ALL_PARTS:
        if part not in options.parts:
            continue
        log(f"{part} ...")
        part_started = time.perf_counter()
        results[part] = RUNNERS[part](options, log)
        results[part]["seconds"] = round(time.perf_counter() - part_started, 1)
    results["machine"]["load_average_at_end"] = load_average()
    results["seconds"] = round(time.perf_counter() - started, 1)
    return results


# -- the report ---------------------------------------------------------------------------------


def _verdict(met: bool | None) -> str:
    return "n/a" if met is None else ("**met**" if met else "**not met**")


def _cost_section(results: Mapping[str, Any]) -> list[str]:
    lines = [client_cost.markdown(results), ""]
    ratios = [
        results[w]["implementations"]["aiopinecone"]["ratio_to_floor"]
        for w in ("describe", "create_delete")
        if w in results
    ]
    target = results.get("target_ratio", client_cost.TARGET_RATIO)
    met = all(r is not None and r <= target for r in ratios) if ratios else None
    lines.append(f"Target (aiopinecone <= {target}x the floor on both workloads): {_verdict(met)}.")
    governed = [
        results[w]["implementations"][name]["ratio_to_floor"]
        for w in ("describe", "create_delete")
        if w in results
        for name in ("aiopinecone", "aiopinecone learnt")
        if name in results[w]["implementations"]
    ]
    if governed:
        within = all(r is not None and r <= client_cost.GOVERNOR_TARGET for r in governed)
        lines.append(
            f"Issue 11 (the governor on, `aiopinecone` and `aiopinecone learnt`, <= "
            f"{client_cost.GOVERNOR_TARGET}x the floor on both workloads): {_verdict(within)}."
        )
    for workload in ("describe", "create_delete"):
        share = results.get(workload, {}).get("governor_share")
        if share and share["ratio"] is not None:
            interval = share["ratio_95ci"]
            span = f" ({interval[0]:.3f}-{interval[1]:.3f})" if interval else ""
            lines.append(
                f"{workload}: the governor's own share, `aiopinecone learnt` / `aiopinecone off` "
                f"per round: {share['ratio']:.3f}x{span}."
            )
    for workload in ("describe", "create_delete"):
        impls = results.get(workload, {}).get("implementations", {})
        if "pinecone" in impls and impls["aiopinecone"]["cpu_us_per_request"]:
            factor = (
                impls["pinecone"]["cpu_us_per_request"] / impls["aiopinecone"]["cpu_us_per_request"]
            )
            lines.append(
                f"{workload}: the official SDK spends {factor:.1f}x the client CPU of aiopinecone."
            )
    return lines


def _fleet_section(results: Mapping[str, Any]) -> list[str]:
    p = results["parameters"]
    rows = [
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
    ours = [r for r in results["results"] if r["approach"].startswith("aiopinecone")]
    met = (
        all(
            r["ratio"] <= 1.1
            and (r["429_per_accepted_create"] or 0) <= 0.05
            and r["polling_per_assistant"] <= 0.1
            and r["ready"] == r["assistants"]
            for r in ours
        )
        if ours
        else None
    )
    return [
        f"{p['assistants']} assistants; the emulator accepts {p['create_rate_per_minute']} creates "
        f"and {p['read_rate_per_minute']} list/describe requests per minute, a minute lasting "
        f"{p['minute_seconds']:g} s; assistants are Ready {p['ready_delay_s']:g} s after their "
        "create. Ideal = assistants / rate. Counts are the emulator's "
        "(from `benchmarks/provision_fleet.py`).",
        "",
        table(
            [
                "approach",
                "ready",
                "wall s",
                "ideal s",
                "wall / ideal",
                "429 per accepted create",
                "polls per assistant",
            ],
            rows,
        ),
        "",
        "Targets (wall / ideal <= 1.1, 429s per accepted create <= 0.05, readiness polls per "
        f"assistant <= 0.1, every assistant Ready): {_verdict(met)}. A ratio under 1 is possible: "
        "a sliding-window limit lets a fresh minute's whole budget through at once.",
    ]


def _upload_section(results: Mapping[str, Any]) -> list[str]:
    size = results["size_mib"]
    rows = []
    for version, runs in results["results"].items():
        for label, numbers in runs.items():
            seconds = numbers["seconds"]
            rows.append(
                [
                    version,
                    label,
                    round(numbers["growth_mib"], 1),
                    round(seconds, 2),
                    round(size / seconds) if seconds else None,
                ]
            )
    worst = max(r["streamed"]["growth_mib"] for r in results["results"].values())
    met = worst < results["target_mib"]
    return [
        f"A {size} MiB file uploaded from disk with `upload_file(file_path=...)`; peak RSS growth "
        "of the client process (from `benchmarks/upload_memory.py`, run in a fresh process). The "
        "buffered control reads the file into memory first, to show that the meter sees "
        "buffering.",
        "",
        table(["API version", "upload", "peak RSS growth (MiB)", "seconds", "MiB/s"], rows),
        "",
        f"Target (streamed growth under {results['target_mib']} MiB): {_verdict(met)} "
        f"(worst {worst:.1f} MiB).",
    ]


def _scale_section(results: Mapping[str, Any]) -> list[str]:
    lines = [scale.markdown(results), ""]
    ours = [r for r in results["rows"] if r["implementation"] == "aiopinecone"]
    floor = [r for r in results["rows"] if r["implementation"] == "floor"]
    no_gc = [r for r in results["rows"] if r["implementation"].endswith("(gc off)")]
    if len(ours) >= 2:
        low, high = ours[0], ours[-1]
        growth = high["cpu_us_per_request"] / low["cpu_us_per_request"]
        text = (
            f"aiopinecone's CPU per request at {high['concurrency']:,} concurrent requests is "
            f"{growth:.2f}x its value at {low['concurrency']:,}"
        )
        if len(floor) >= 2:
            floor_growth = floor[-1]["cpu_us_per_request"] / floor[0]["cpu_us_per_request"]
            text += f" (bare aiohttp: {floor_growth:.2f}x)"
        if no_gc:
            off = no_gc[-1]["cpu_us_per_request"]
            text += f"; with the garbage collector off it is {off / low['cpu_us_per_request']:.2f}x"
            if off <= 1.15 * low["cpu_us_per_request"] and growth > 1.15:
                text += (
                    ", so the growth is the cyclic GC walking the objects of every pending request"
                )
        lines.append(
            text + f". Memory grows by about {high['rss_growth_kib_per_concurrent_request']} KiB "
            "per pending request (its task, coroutines and aiohttp request object)."
        )
    return lines


SECTIONS: Final[Mapping[str, Callable[[Mapping[str, Any]], list[str]]]] = {
    "cost": _cost_section,
    "instructions": lambda r: [instructions.markdown(r)],
    "cold": lambda r: [cold_start.markdown(r)],
    "fleet": _fleet_section,
    "governor": lambda r: governor.section(r),
    "upload": _upload_section,
    "stream": lambda r: [stream_memory.markdown(r)],
    "scale": _scale_section,
}


def _duration(seconds: float) -> str:
    return f"about {seconds / 60:.0f} minutes" if seconds >= 120 else f"{seconds:.0f} seconds"


def render(results: Mapping[str, Any], command: str) -> str:
    """RESULTS.md."""
    m = results["machine"]
    versions = ", ".join(f"{k} {v}" for k, v in m["versions"].items() if v)
    lines = [
        "# aiopinecone benchmarks",
        "",
        f"Measured {m['date']} on {m['cpu']} ({m['usable_cpus']} usable CPUs, "
        f"{m['memory_mib']:,.0f} MiB), Python {m['python']}, {m['platform']}; commit "
        f"{m['git_commit']}. {versions}.",
        "",
        f"Reproduce: `{command}` ({_duration(results['seconds'])}; `--quick` for a smoke run, "
        "`--help` for sizes).",
        "",
        "**Noise.** The machine is shared (load average "
        f"{m['load_average_at_start']} at the start, {m.get('load_average_at_end')} at the end, "
        "on 2 CPUs): absolute numbers move by tens of percent from run to run. Implementations "
        "are therefore interleaved round by round and compared within each round; ratios are more "
        "stable than absolute values, but a few percent either way is within the noise.",
    ]
    if results["options"].get("quick"):
        lines += [
            "",
            "**Quick run**: sizes far too small for any number or verdict below to mean anything.",
        ]
    for part in ALL_PARTS:
        if part in results:
            lines += ["", f"## {title(part, results)}", "", *SECTIONS[part](results[part])]
    lines.append("")
    return "\n".join(lines)


# -- the command --------------------------------------------------------------------------------


def _levels(text: str) -> tuple[int, ...]:
    try:
        levels = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected numbers like 100,1000,10000: {text!r}"
        ) from None
    if not levels or min(levels) < 1:
        raise argparse.ArgumentTypeError("levels must be >= 1")
    return levels


def build_parser() -> argparse.ArgumentParser:
    """The command-line options."""
    defaults = Options()
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Run the aiopinecone benchmark suite against a local emulator process.",
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    parser.add_argument(
        "--only",
        action="append",
        choices=ALL_PARTS,
        help="run only this part (repeatable; default: all but the opt-in 'instructions')",
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count instructions per request under valgrind (a few minutes)",
    )
    parser.add_argument("--rounds", type=int, help=f"interleaved rounds ({defaults.rounds})")
    parser.add_argument(
        "--official-rounds",
        type=int,
        help=f"rounds the slow official SDK takes part in ({defaults.official_rounds})",
    )
    parser.add_argument("--concurrency", type=int, help=f"({defaults.concurrency})")
    parser.add_argument("--describe-requests", type=int, help=f"({defaults.describe_requests})")
    parser.add_argument("--create-requests", type=int, help=f"({defaults.create_requests})")
    parser.add_argument("--no-official", action="store_true", help="skip the pinecone SDK runs")
    parser.add_argument("--scale-levels", type=_levels, help="concurrency levels (100,1000,10000)")
    parser.add_argument("--stream-mib", type=float, help=f"({defaults.stream_mib:g})")
    parser.add_argument("--upload-mib", type=int, help=f"({defaults.upload_mib})")
    parser.add_argument("--fleet-size", type=int, help=f"({defaults.fleet_size})")
    parser.add_argument("--fleet-rate", type=int, help=f"creates/minute ({defaults.fleet_rate})")
    parser.add_argument(
        "--cold-rounds", type=int, help=f"cold start: import rounds ({defaults.cold_rounds})"
    )
    parser.add_argument(
        "--cold-first-rounds",
        type=int,
        help=f"cold start: first-response rounds ({defaults.cold_first_rounds})",
    )
    parser.add_argument(
        "--cold-baseline",
        metavar="DIR",
        help="cold start: also measure the aiopinecone package found in DIR (e.g. an older "
        "commit's `git archive`), in the same rounds",
    )
    parser.add_argument(
        "--output",
        type=Path,
        help="directory for RESULTS.md and results.json (default: benchmarks/; "
        "--quick writes nothing unless given)",
    )
    return parser


def options_from_args(args: argparse.Namespace) -> Options:
    """The run's options: the defaults, then ``--quick``, then explicit values."""
    values: dict[str, Any] = dict(QUICK) if args.quick else {}
    for name in (
        "rounds",
        "official_rounds",
        "concurrency",
        "describe_requests",
        "create_requests",
        "scale_levels",
        "stream_mib",
        "upload_mib",
        "fleet_size",
        "fleet_rate",
        "cold_rounds",
        "cold_first_rounds",
        "cold_baseline",
    ):
        value = getattr(args, name)
        if value is not None:
            values[name] = value
    if args.only:
        values["parts"] = tuple(dict.fromkeys(args.only))
    if args.instructions:
        values["parts"] = (*values.get("parts", PARTS), *OPT_IN)
    values["official"] = not args.no_official
    values["quick"] = args.quick
    return Options(**values)


def kept_part(path: Path) -> str:
    """The hand-recorded part of an existing report (from :data:`KEPT_MARKER` on), else ``""``."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return ""
    index = text.find(KEPT_MARKER)
    return "" if index < 0 else text[index:]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the suite, print the report and write it unless it was a quick run."""
    args = build_parser().parse_args(argv)
    options = options_from_args(args)
    shown = " ".join(["python -m benchmarks", *(argv if argv is not None else sys.argv[1:])])
    results = run_suite(options)
    text = render(results, shown)
    print()
    print(text)
    output: Path | None = args.output if args.output is not None else (None if args.quick else HERE)
    if output is not None:
        output.mkdir(parents=True, exist_ok=True)
        kept = kept_part(output / "RESULTS.md")
        (output / "RESULTS.md").write_text(text + ("\n" + kept if kept else ""), encoding="utf-8")
        write_json(output / "results.json", results)
        print(f"wrote {output / 'RESULTS.md'} and {output / 'results.json'}")
    return 0
