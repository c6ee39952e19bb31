"""The rate governor's own CPU per request: a permit taken and settled, with no I/O.

``python -m benchmarks.governor_permit`` runs batches of 50 permits (taken with
``Governor.try_acquire``, falling back to ``acquire``; settled as answered) on a class far from
its limit, and the same loop with a trivial admission (a constant permit, a settle that returns),
interleaved; it prints the median nanoseconds per request of each and their difference (what
the governor itself costs). ``--adaptive``: a learning budget (slow start past every plan) instead
of an exact one. The figure is a lower bound of what the client pays: in a real request the
governor's objects are colder in the CPU's caches.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

from aiopinecone._governor import Governor, RateLimits

OP = "describe_assistant"
BATCH = 50


async def _governor_round(gov: Governor, batches: int) -> float:
    start = time.process_time()
    for _ in range(batches):
        permits: list[Any] = []
        for _ in range(BATCH):
            permit = gov.try_acquire(OP)
            permits.append(permit if permit is not None else await gov.acquire(OP))
        for permit in permits:
            gov.settle(permit, 200, None)
    return (time.process_time() - start) / (batches * BATCH)


def _trivial_round(batches: int) -> float:
    def try_acquire(op: str, cost: float = 1.0) -> object:
        return 1

    def settle(permit: object, status: int, retry_after: float | None) -> None:
        return None

    start = time.process_time()
    for _ in range(batches):
        permits = [try_acquire(OP) for _ in range(BATCH)]
        for permit in permits:
            settle(permit, 200, None)
    return (time.process_time() - start) / (batches * BATCH)


async def measure(*, adaptive: bool, rounds: int = 15, batches: int = 200) -> dict[str, float]:
    """Median seconds per request of the governor and of the trivial loop, and their gap."""
    limit = 10_000.0 if adaptive else 1e12
    gov = Governor(RateLimits(limits={"assistants_read": limit}, window=60.0, adaptive=adaptive))
    await _governor_round(gov, 50)  # warm: first use, the lane, a learnt start
    ours, trivial = [], []
    for _ in range(rounds):
        ours.append(await _governor_round(gov, batches))
        trivial.append(_trivial_round(batches))
    await gov.aclose()
    governor, floor = statistics.median(ours), statistics.median(trivial)
    return {"governor": governor, "trivial": floor, "permit": governor - floor}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--adaptive", action="store_true", help="a learning budget")
    args = parser.parse_args()
    got = asyncio.run(measure(adaptive=args.adaptive))
    print(
        f"governor loop {got['governor'] * 1e9:.0f} ns/request, trivial loop "
        f"{got['trivial'] * 1e9:.0f} ns/request: the permit costs {got['permit'] * 1e9:.0f} ns"
    )


if __name__ == "__main__":
    main()
