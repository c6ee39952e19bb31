"""The fleet lease's parts against a real Redis: which applies of one fleet may run together.

Shards of one count with different indexes own disjoint assistants: they run together. Anything
else that touches the same fleet (the whole fleet and a shard, one shard twice, shards of two
different counts) excludes each other, whatever order they come in; a crashed holder's part
expires; a waiting apply goes on when the conflicting holders are gone.
"""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys
import textwrap

import pytest
import redis.asyncio as aioredis

from aiopinecone.provision import Lease, LeaseHeldError, Shard

FLEET = "support"


def lease(redis_url: str, shard: str | None = None, **options: float | str) -> Lease:
    return Lease(redis_url, FLEET, shard=shard, **options)  # type: ignore[arg-type]


async def refused(redis_url: str, shard: str | None) -> LeaseHeldError:
    with pytest.raises(LeaseHeldError) as info:
        await lease(redis_url, shard).acquire()
    return info.value


@pytest.mark.parametrize(("first", "second"), [(None, "2/4"), ("2/4", None)])
async def test_the_whole_fleet_and_a_shard_exclude_each_other(
    redis_url: str, first: str | None, second: str | None
) -> None:
    async with lease(redis_url, first, description="the first apply") as held:
        error = await refused(redis_url, second)
        assert error.held == held.name
        assert "the first apply" in error.holder
        assert "whole-fleet apply and a shard apply" in str(error)
    async with lease(redis_url, second):  # released: it goes now
        pass


async def test_one_shard_twice_is_refused_naming_the_holder_and_since_when(
    redis_url: str,
) -> None:
    async with lease(redis_url, "1/4", description="pod 1"):
        error = await refused(redis_url, "1/4")
        assert error.name == error.held == f"{FLEET}/shard 1 of 4"
        assert "pod 1" in error.holder
        assert "pid" in error.holder
        assert error.since is not None
        assert error.expires_in is not None
        assert error.expires_in > 0
        assert f"since {error.since:%Y-%m-%d %H:%M:%S} UTC" in str(error)
        assert "same fleet or shard" in str(error)


async def test_shards_of_one_count_run_together_and_keep_the_fleet_from_others(
    redis_url: str,
) -> None:
    holds = [lease(redis_url, f"{i}/4") for i in range(4)]
    await asyncio.gather(*(h.acquire() for h in holds))  # all four at once
    try:
        for other in (None, "0/2", "3/4", "1/5"):
            await refused(redis_url, other)
        for h in holds[:3]:
            await h.release()
        error = await refused(redis_url, None)  # the last shard still holds the fleet
        assert error.held == f"{FLEET}/shard 3 of 4"
    finally:
        await holds[3].release()
    async with lease(redis_url, None):
        pass


async def test_shards_of_different_counts_exclude_each_other(redis_url: str) -> None:
    async with lease(redis_url, "1/2"):
        error = await refused(redis_url, "1/3")
        assert "shards of 3 and of 2" in str(error)
        await refused(redis_url, "0/3")  # another index of another count overlaps too
        async with lease(redis_url, "0/2"):  # the same count does not
            pass
    async with lease(redis_url, "1/3"):
        await refused(redis_url, "1/2")


async def test_another_fleet_is_another_lease(redis_url: str) -> None:
    async with lease(redis_url, None), Lease(redis_url, "billing", shard=Shard(0, 2)):
        pass


async def test_concurrent_takers_never_hold_conflicting_parts(redis_url: str) -> None:
    """Many processes' worth of takers racing: the winners are always compatible (one atomic
    check-and-take), and someone always wins."""
    parts: list[str | None] = [None, "0/2", "1/2", "0/3", "1/3", "2/3", "0/4", "1/4", "2/4"]
    rng = random.Random(11)
    for _ in range(15):
        chosen = [rng.choice(parts) for _ in range(12)]
        takers = [lease(redis_url, part) for part in chosen]
        results = await asyncio.gather(*(t.acquire() for t in takers), return_exceptions=True)
        won = [t for t, r in zip(takers, results, strict=True) if r is None]
        assert all(isinstance(r, LeaseHeldError) for r in results if r is not None), results
        assert won
        fields = [t.shard for t in won]
        if any(f is None for f in fields):
            assert len(won) == 1
        else:
            assert len({f.count for f in fields if f is not None}) == 1
            assert len({f.index for f in fields if f is not None}) == len(won)
        await asyncio.gather(*(t.release() for t in won))


async def test_renewal_keeps_a_shard_beyond_its_ttl(redis_url: str) -> None:
    async with lease(redis_url, "0/3", ttl=0.3) as first:
        await asyncio.sleep(1.0)  # a few ttls: only renewal keeps it
        await refused(redis_url, "0/3")
        await refused(redis_url, None)
        async with lease(redis_url, "1/3"):
            pass
        assert not first.lost.is_set()


async def test_a_crashed_shard_holders_part_expires(redis_url: str) -> None:
    script = textwrap.dedent(
        f"""
        import asyncio
        from aiopinecone.provision import Lease

        async def main():
            await Lease({redis_url!r}, {FLEET!r}, shard="2/4", ttl=0.5).acquire()
            print("held", flush=True)
            await asyncio.sleep(60)

        asyncio.run(main())
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)  # noqa: ASYNC220
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"held"
        await refused(redis_url, None)
        await refused(redis_url, "2/3")
    finally:
        proc.kill()  # a crash: no release
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
    async with lease(redis_url, None, wait=30, poll_interval=0.05):
        pass
    client = aioredis.Redis.from_url(redis_url)
    try:
        assert await client.exists("aiopinecone:lease:" + FLEET) == 0  # nothing left behind
    finally:
        await client.aclose()


async def test_a_waiting_whole_fleet_apply_goes_when_every_shard_is_done(redis_url: str) -> None:
    order: list[str] = []
    started = asyncio.Event()
    holds = [lease(redis_url, f"{i}/2", ttl=5) for i in range(2)]

    async def shard(index: int, work: float) -> None:
        async with holds[index]:
            order.append(f"shard {index} in")
            if len(order) == 2:
                started.set()
            await asyncio.sleep(work)
            order.append(f"shard {index} out")

    tasks = [asyncio.create_task(shard(0, 0.2)), asyncio.create_task(shard(1, 0.4))]
    await asyncio.wait_for(started.wait(), timeout=30)
    async with lease(redis_url, None, wait=30, poll_interval=0.05):
        order.append("fleet in")
    await asyncio.gather(*tasks)
    assert order[-1] == "fleet in"
    assert order.index("shard 1 out") < order.index("fleet in")


async def test_a_waiting_apply_that_runs_out_of_wait_is_refused(redis_url: str) -> None:
    async with lease(redis_url, "0/2"):
        with pytest.raises(LeaseHeldError):
            await lease(redis_url, "0/3", wait=0.3, poll_interval=0.05).acquire()


def test_the_lease_names_what_it_holds() -> None:
    url = "redis://127.0.0.1:1/0"  # never contacted
    assert Lease(url, "f").name == "f/all"
    assert Lease(url, "f", shard="1/3").name == "f/shard 1 of 3"
    assert Lease(url, "f", shard=Shard(0, 2)).name == "f/shard 0 of 2"
