"""The governor end to end: a default client against the emulator's limits and faults.

Default options throughout (adaptive, never told the limit): what a user gets. Counts only,
no timings (those are in ``benchmarks/RESULTS-governor.md``).
"""

from __future__ import annotations

import asyncio

import pytest

from aiopinecone import (
    AsyncPinecone,
    RateLimitError,
    RequestTimeoutError,
    RetryPolicy,
    track_requests,
)
from aiopinecone._governor import Governor, MemoryStore, RateLimits
from aiopinecone.emulator import Emulator, Fault

KEY = "test-key"


async def test_a_default_client_learns_a_per_minute_limit_it_is_not_told() -> None:
    # 8 creates per 0.3 s "minute"; the client starts from Starter's 20 per 60 s.
    async with (
        Emulator(api_keys=(KEY,), rate_limits={"assistants_write": 8}, time_scale=0.005) as emu,
        AsyncPinecone(api_key=KEY, host=emu.url) as pc,
    ):
        with track_requests() as stats:
            created = await asyncio.gather(
                *(pc.assistants.create(name=f"a{i:02d}") for i in range(24))
            )
        assert len({a.name for a in created}) == 24
        state = pc.governor.snapshot()["assistants_write"]
        assert state["limit"] == 8.0  # what the server accepted in its window
        assert not state["learning"]
        assert state["window_s"] < 60.0  # the server's 0.3 s window, from its Retry-After
        # Every 429 the server sent was seen by the governor (and counted in the stats).
        assert emu.limiter.counters["assistants_write"].rejected == state["rate_limited"]
        assert stats.rate_limited == state["rate_limited"]
        assert stats.rate_waits == state["waited"] > 0
        assert stats.rate_wait_seconds > 0


async def test_a_default_client_finds_a_per_second_bucket() -> None:
    async with (
        Emulator(api_keys=(KEY,)) as emu,
        AsyncPinecone(api_key=KEY, host=emu.url) as pc,
    ):
        emu.limiter.configure(buckets={"assistants_read": {"rate": 40, "burst": 10}})
        results = await asyncio.gather(
            *(pc.assistants.list_page() for _ in range(60)), return_exceptions=True
        )
        assert not [r for r in results if isinstance(r, BaseException)]
        state = pc.governor.snapshot()["assistants_read"]
        assert state["window_s"] < 60.0  # no longer the per-minute guess


async def test_retry_after_pauses_the_class_for_every_task() -> None:
    async with (
        Emulator(api_keys=(KEY,)) as emu,
        AsyncPinecone(api_key=KEY, host=emu.url) as pc,
    ):
        emu.faults.script("POST", "/assistant/assistants", Fault.status(429, retry_after=1))
        first = asyncio.create_task(pc.assistants.create(name="p0"))
        for _ in range(200):  # bounded: until the 429 is answered
            if emu.log.count(status=429):
                break
            await asyncio.sleep(0.01)
        # Another task, another operation of the same class, after the 429: it waits too.
        others = [asyncio.create_task(pc.assistants.create(name=f"p{i}")) for i in (1, 2)]
        reads = await pc.assistants.list_page()  # another class does not wait
        await asyncio.gather(first, *others)
        refused = emu.log.filter(status=429)[0]
        sent_after = emu.log.filter(method="POST", since=refused.seq)
        assert len(sent_after) == 3
        assert all(e.start >= refused.end + 1.0 - 0.05 for e in sent_after)
        assert reads is not None
        assert pc.governor.snapshot()["assistants_write"]["waited"] >= 2


async def test_waiting_for_a_permit_counts_against_the_call_timeout() -> None:
    async with (
        Emulator(api_keys=(KEY,)) as emu,
        AsyncPinecone(api_key=KEY, host=emu.url) as pc,
    ):
        emu.faults.script("POST", "/assistant/assistants", Fault.status(429, retry_after=30))
        with pytest.raises(RateLimitError):
            await pc.assistants.create(name="first", retry=RetryPolicy.none())
        # The class is paused for 30 s; a call with a 0.5 s timeout does not wait that long.
        with pytest.raises(RequestTimeoutError, match="rate budget of assistants_write"):
            await pc.assistants.create(name="slow", timeout=0.5)
        assert emu.log.count(method="POST") == 1
        # Other classes are not paused.
        await pc.assistants.list_page()


async def test_cancelling_a_waiting_call_leaves_the_queue_clean() -> None:
    limits = RateLimits(limits={"assistants_write": 1}, window=60.0)
    async with (
        Emulator(api_keys=(KEY,)) as emu,
        AsyncPinecone(api_key=KEY, host=emu.url, rate_limits=limits) as pc,
    ):
        await pc.assistants.create(name="first")
        waiting = asyncio.create_task(pc.assistants.create(name="second"))
        await asyncio.sleep(0.05)
        assert not waiting.done()
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert emu.log.count(method="POST") == 1  # the cancelled call never went out
        await pc.assistants.list_page()  # the read class is free


async def test_one_governor_shared_by_two_clients() -> None:
    governor = Governor(RateLimits(limits={"assistants_write": 3}, window=60.0))
    async with (
        Emulator(api_keys=(KEY,)) as emu,
        AsyncPinecone(api_key=KEY, host=emu.url, rate_limits=governor) as a,
        AsyncPinecone(api_key=KEY, host=emu.url, rate_limits=governor) as b,
    ):
        await asyncio.gather(a.assistants.create(name="x1"), b.assistants.create(name="x2"))
        await a.assistants.create(name="x3")
        with pytest.raises(RequestTimeoutError):
            await b.assistants.create(name="x4", timeout=0.2)
        assert governor.snapshot()["assistants_write"]["granted"] == 3


async def test_off_means_no_governor() -> None:
    async with (
        Emulator(api_keys=(KEY,), rate_limits={"assistants_write": 1}) as emu,
        AsyncPinecone(api_key=KEY, host=emu.url, rate_limits="off") as pc,
    ):
        assert not pc.governor.enabled
        await pc.assistants.create(name="o1")
        assert pc.governor.snapshot() == {}


async def test_provisioning_uses_the_clients_governor() -> None:
    from aiopinecone.provision import AssistantSpec

    specs = [AssistantSpec(name=f"f{i}", instructions="x") for i in range(6)]
    async with (
        Emulator(api_keys=(KEY,), ready_delay=0.0) as emu,
        AsyncPinecone(api_key=KEY, host=emu.url) as pc,
    ):
        report = await pc.assistants.provision(specs)  # default options: the client's own
        assert report.ok
        assert pc.governor.limits == RateLimits.default()
        write = report.requests["assistants_write"]
        assert write["granted"] == 6 == pc.governor.snapshot()["assistants_write"]["granted"]
        # A run given its own limits configures the client's governor (one limiter).
        more = [AssistantSpec(name=f"g{i}", instructions="x") for i in range(2)]
        report = await pc.assistants.provision([*specs, *more], rate_preset="standard")
        assert report.ok
        assert pc.governor.limits == RateLimits.preset("standard")
        assert report.requests["assistants_write"]["granted"] == 2  # this run's share
        assert report.requests["assistants_write"]["limit"] == 50.0


@pytest.mark.parametrize("limit", [300, 120])
async def test_permits_granted_ahead_never_pass_a_told_limit(limit: int) -> None:
    # Told the exact limit, far above the concurrency (300: permits are granted 16 at a time
    # until the end) or below the demand (120 of 200: the credit stops 64 short of the limit
    # and the rest wait for the window): the server refuses nothing, and every count adds up.
    async with (
        Emulator(api_keys=(KEY,), rate_limits={"assistants_read": limit}, time_scale=1 / 60) as emu,
        AsyncPinecone(
            api_key=KEY,
            host=emu.url,
            rate_limits=RateLimits(limits={"assistants_read": limit}, window=1.0),
        ) as pc,
    ):
        await pc.assistants.create(name="described")
        with track_requests() as stats:
            await asyncio.gather(*(pc.assistants.describe(name="described") for _ in range(200)))
        assert emu.limiter.counters["assistants_read"].rejected == 0
        state = pc.governor.snapshot()["assistants_read"]
        assert state["granted"] == stats.requests == 200  # the unused credit given back
        assert state["rate_limited"] == 0
        assert (state["waited"] > 0) == (limit < 200)
        store = pc.governor.store
        assert isinstance(store, MemoryStore)
        book = store.book("assistants_read")
        assert (book.in_flight, book.lane_open) == (0.0, 0)  # nothing left in flight


async def test_permits_granted_ahead_are_all_accounted_for_under_chaos() -> None:
    # A roomy told limit (permits granted 16 at a time, answers tallied) and 20% faults on
    # every describe (429s with and without Retry-After, 5xx, lost answers, dropped
    # connections, delays), a fifth of the calls cancelled mid-flight: once everything has
    # ended, nothing of the budget is left in flight and every permit was settled.
    async with (
        Emulator(api_keys=(KEY,)) as emu,
        AsyncPinecone(
            api_key=KEY,
            host=emu.url,
            rate_limits=RateLimits(limits={"assistants_read": 5000}, window=2.0),
            retry=RetryPolicy(max_attempts=8),
        ) as pc,
    ):
        await pc.assistants.create(name="described")
        emu.faults.chaos(7, paths=["/assistant/assistants/*"], methods=["GET"], delay=(0.005, 0.03))
        calls = [
            asyncio.ensure_future(pc.assistants.describe(name="described")) for _ in range(250)
        ]
        await asyncio.sleep(0.01)
        for call in calls[::5]:
            call.cancel()
        results = await asyncio.gather(*calls, return_exceptions=True)
        emu.faults.stop_chaos()
        answered = [r for r in results if not isinstance(r, BaseException)]
        cancelled = [r for r in results if isinstance(r, asyncio.CancelledError)]
        assert len(answered) + len(cancelled) == len(calls)  # no call failed: retried through
        assert len(cancelled) <= 50
        state = pc.governor.snapshot()["assistants_read"]
        assert state["rate_limited"] > 0  # the chaos's 429s went the general way
        store = pc.governor.store
        assert isinstance(store, MemoryStore)
        book = store.book("assistants_read")
        assert (book.in_flight, book.lane_open, book.open) == (0.0, 0, {})
        assert pc.governor.controllers()["assistants_read"].outstanding == 0
