"""The provisioning lease against a real Redis: one holder at a time, renewal, expiry on a crash."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap

import pytest
import redis.asyncio as aioredis
from redis_server import RedisServer

from aiopinecone._lease import KEY_PREFIX, Lease, LeaseError, LeaseHeldError


async def test_second_holder_is_refused_with_the_holders_name(redis_url: str) -> None:
    async with Lease(redis_url, "fleet-a", description="shard 0/2"):
        second = Lease(redis_url, "fleet-a", wait=0)
        with pytest.raises(LeaseHeldError) as info:
            await second.acquire()
        assert "shard 0/2" in info.value.holder
        assert "pid" in str(info.value)
        assert "fleet-a" in str(info.value)
        # Another name is another lease.
        async with Lease(redis_url, "fleet-b"):
            pass
    # Released: the next one gets it at once.
    async with Lease(redis_url, "fleet-a", wait=0):
        pass


async def test_renewal_keeps_the_lease_beyond_its_ttl(redis_url: str) -> None:
    async with Lease(redis_url, "renewed", ttl=0.3) as first:
        await asyncio.sleep(1.0)  # a few ttls: only renewal keeps it
        with pytest.raises(LeaseHeldError):
            await Lease(redis_url, "renewed", wait=0).acquire()
        assert not first.lost.is_set()


async def test_a_waiting_apply_proceeds_when_the_holder_finishes(redis_url: str) -> None:
    order: list[str] = []
    held = asyncio.Event()

    async def holder() -> None:
        async with Lease(redis_url, "queue", ttl=5):
            order.append("first in")
            held.set()
            await asyncio.sleep(0.3)
            order.append("first out")

    task = asyncio.create_task(holder())
    await asyncio.wait_for(held.wait(), timeout=30)
    async with Lease(redis_url, "queue", wait=30, poll_interval=0.05):
        order.append("second in")
    await task
    assert order == ["first in", "first out", "second in"]


async def test_a_crashed_holders_lease_expires(redis_url: str) -> None:
    script = textwrap.dedent(
        f"""
        import asyncio, sys
        from aiopinecone._lease import Lease

        async def main():
            await Lease({redis_url!r}, "crashy", ttl=0.5, description="doomed").acquire()
            print("held", flush=True)
            await asyncio.sleep(60)

        asyncio.run(main())
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)  # noqa: ASYNC220
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"held"
        with pytest.raises(LeaseHeldError) as info:
            await Lease(redis_url, "crashy", wait=0).acquire()
        assert "doomed" in info.value.holder
    finally:
        proc.kill()  # a crash: no release
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
    async with Lease(redis_url, "crashy", wait=30, poll_interval=0.05):
        pass


async def test_an_expired_holder_never_touches_the_next_holders_lease(redis_url: str) -> None:
    client = aioredis.Redis.from_url(redis_url)
    try:
        first = Lease(redis_url, "stolen", ttl=0.3)
        await first.acquire()
        await client.delete(KEY_PREFIX + "stolen")  # as if it had expired during a stall
        second = Lease(redis_url, "stolen", ttl=30)
        await second.acquire()
        await asyncio.wait_for(first.lost.wait(), timeout=30)  # its renewal noticed
        await first.release()  # must not delete the second's lease
        with pytest.raises(LeaseHeldError):
            await Lease(redis_url, "stolen", wait=0).acquire()
        await second.release()
    finally:
        await client.aclose()


async def test_redis_unreachable_is_a_clear_error(redis_server: RedisServer) -> None:
    redis_server.kill()
    with pytest.raises(LeaseError, match=r"Redis at redis://127\.0\.0\.1"):
        await Lease(redis_server.url, "nowhere").acquire()


async def test_redis_dying_while_held_keeps_the_holder_running(redis_server: RedisServer) -> None:
    lease = Lease(redis_server.url, "flaky", ttl=0.3)
    await lease.acquire()
    redis_server.kill()
    await asyncio.sleep(0.5)  # renewals fail: warned, retried, never raised
    redis_server.start()
    await asyncio.sleep(0.3)
    # Not renewed for a whole ttl: the holder cannot know it still holds it, and says so.
    await asyncio.wait_for(lease.lost.wait(), timeout=30)
    await lease.release()  # nothing to release on the empty restarted server; no error
