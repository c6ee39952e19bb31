"""Provision a fleet of assistants from Python: load, plan, apply, re-run (a no-op), report.

Runs against a local emulator by default, so it needs no account::

    python examples/provision_fleet.py                 # the example fleet, emulated
    PINECONE_API_KEY=... python examples/provision_fleet.py --real examples/fleet/fleet.yaml

The same can be done without a fleet file: build ``AssistantSpec`` objects in code.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from aiopinecone import AsyncPinecone, RateLimits, load_fleet
from aiopinecone.emulator import Emulator
from aiopinecone.provision import ProgressDisplay

FLEET = Path(__file__).resolve().parent / "fleet" / "fleet.yaml"


async def provision(pc: AsyncPinecone, fleet_path: Path, limits: RateLimits) -> int:
    fleet = load_fleet(fleet_path, api_version=pc.api_version)  # validated before any request

    plan = await pc.assistants.plan(fleet, rate_preset=limits)
    print(plan.render())

    run = pc.assistants.provisioner(fleet, rate_preset=limits, progress=ProgressDisplay(sys.stderr))
    try:
        report = await run.apply(plan)
    except asyncio.CancelledError:
        print(run.report.summary_table())  # what was and was not done before the cancellation
        raise
    print(report.summary_table())

    # Running the same fleet again changes nothing: every file is matched by name and hash.
    again = await pc.assistants.provision(fleet, rate_preset=limits)
    reads = sum(int(c["started"]) for c in again.requests.values())
    nothing_done = again.ok and not any(a.actions for a in again.assistants)
    print(f"second run: {reads} read requests, nothing changed: {nothing_done}")
    return 0 if report.ok else 1


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("fleet", nargs="?", type=Path, default=FLEET)
    parser.add_argument("--real", action="store_true", help="use PINECONE_API_KEY and Pinecone")
    args = parser.parse_args()
    if args.real:
        async with AsyncPinecone() as pc:
            return await provision(pc, args.fleet, RateLimits.preset("adaptive"))
    # A "minute" of 2 s with the Standard plan's per-minute limits: realistic, but quick.
    async with (
        Emulator(
            api_keys=("demo",), ready_delay=0.5, rate_limits="standard", time_scale=2 / 60
        ) as emu,
        AsyncPinecone(api_key="demo", host=emu.url) as pc,
    ):
        return await provision(pc, args.fleet, RateLimits.preset("adaptive", window=2.0))


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
