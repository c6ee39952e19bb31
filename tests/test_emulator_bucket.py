"""The emulator's token-bucket limits (a per-second shape) and the scaled minute's exact wait."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from aiopinecone.emulator import Emulator
from aiopinecone.emulator._bucket import TokenBucket
from aiopinecone.emulator._ratelimit import RateLimiter

KEY = {"Api-Key": "test-key"}


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_bucket_burst_then_rate() -> None:
    bucket = TokenBucket(rate=10.0, burst=3.0)
    assert [bucket.take(0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take(0.0) == pytest.approx(0.1)
    assert bucket.take(0.05) == pytest.approx(0.05)
    assert bucket.take(0.1) == 0.0
    assert bucket.take(10.0) == 0.0  # refilled, never above the burst
    assert bucket.tokens == pytest.approx(2.0)


def test_a_bucket_replaces_the_window_of_its_class() -> None:
    clock = FakeClock()
    limiter = RateLimiter({"assistants_write": 1}, clock=clock)
    limiter.configure(buckets={"assistants_write": {"rate": 2}})  # burst: one second's worth
    assert [limiter.acquire("assistants_write").accepted for _ in range(3)] == [1, 1, 0]
    clock.now += 0.5
    assert limiter.acquire("assistants_write").accepted
    snapshot = limiter.snapshot()
    assert snapshot["buckets"] == {"assistants_write": {"rate": 2.0, "burst": 2.0}}
    limiter.reset()  # full again
    assert limiter.acquire("assistants_write").accepted
    limiter.configure(buckets={})
    assert limiter.snapshot()["buckets"] == {}


@pytest.mark.parametrize(
    "spec",
    [
        {"burst": 2},
        {"rate": 0},
        {"rate": True},
        {"rate": 1, "burst": 0.5},
        {"rate": 1, "x": 2},
        {"rate": 1, "retry_after_ms": "yes"},
        3,
    ],
)
def test_bad_buckets_are_refused(spec: object) -> None:
    with pytest.raises((ValueError, TypeError)):
        RateLimiter().configure(buckets={"assistants_write": spec})


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers=KEY) as s:
        yield s


async def test_bucket_429_over_http(session: aiohttp.ClientSession) -> None:
    async with Emulator() as emu:
        async with session.put(
            emu.url + "/__emulator/rate-limits",
            json={"buckets": {"assistants_read": {"rate": 0.5, "burst": 1}}},
        ) as resp:
            assert resp.status == 200
        url = emu.url + "/assistant/assistants"
        async with session.get(url) as resp:
            assert resp.status == 200
        async with session.get(url) as resp:
            assert resp.status == 429
            assert resp.headers["Retry-After"] == "2"  # whole seconds, rounded up
            assert "Retry-After-Ms" not in resp.headers  # a per-second limit is not scaled
            assert "per second" in (await resp.json())["error"]["message"]


async def test_a_scaled_minute_sends_its_exact_wait(session: aiohttp.ClientSession) -> None:
    async with Emulator(rate_limits={"assistants_read": 1}, time_scale=0.01) as emu:
        url = emu.url + "/assistant/assistants"
        async with session.get(url) as resp:
            assert resp.status == 200
        async with session.get(url) as resp:
            assert resp.status == 429
            assert resp.headers["Retry-After"] == "1"
            assert 0 < int(resp.headers["Retry-After-Ms"]) <= 600
    async with Emulator(rate_limits={"assistants_read": 1}) as emu:
        url = emu.url + "/assistant/assistants"
        async with session.get(url) as resp:
            assert resp.status == 200
        async with session.get(url) as resp:
            assert resp.status == 429
            assert "Retry-After-Ms" not in resp.headers  # as Pinecone: whole seconds only


async def test_a_bucket_can_send_its_exact_wait(session: aiohttp.ClientSession) -> None:
    async with Emulator() as emu:
        spec = {"rate": 4, "burst": 1, "retry_after_ms": True}
        async with session.put(
            emu.url + "/__emulator/rate-limits", json={"buckets": {"assistants_read": spec}}
        ) as resp:
            assert resp.status == 200
            assert (await resp.json())["buckets"]["assistants_read"]["retry_after_ms"] is True
        url = emu.url + "/assistant/assistants"
        async with session.get(url) as resp:
            assert resp.status == 200
        async with session.get(url) as resp:
            assert resp.status == 429
            assert resp.headers["Retry-After"] == "1"
            assert 0 < int(resp.headers["Retry-After-Ms"]) <= 250  # the next token's wait
