"""The start guess never fails a call the server has not refused; a learnt limit may.

While the governor only guesses a class's limit (slow start from the Starter numbers, no real
limit met yet), a call about to reach its deadline waiting for the budget goes past it: against
a larger project the guess must not fail calls the server would take. Once the server has said
its limit (a 429 with a real wait), waiting is waiting on the server, and a call with too short
a timeout fails there instead of adding to the 429s. Counts only, no timings.
"""

from __future__ import annotations

import asyncio

from aiopinecone import (
    AsyncPinecone,
    RateLimitError,
    RequestTimeoutError,
    RetryPolicy,
    track_requests,
)
from aiopinecone._governor import Controller
from aiopinecone.emulator import Emulator, Fault

KEY = "test-key"
ONE = "/assistant/assistants/{name}"


def test_only_a_guess_is_overdrawn() -> None:
    c = Controller(limit=40, window=60.0, adaptive=True, levels=(40.0, 100.0, 500.0))
    assert c.may_overdraw()
    c.accepted(0.1, cost=1, saturated=True, probe=False, taken_at=0.0)
    c.rate_limited(0.2, usage=40.0, retry_after=59.8, probe=False, taken_at=0.15)
    assert not c.may_overdraw()  # the server said its limit
    assert not Controller(limit=40, window=60.0, adaptive=False).may_overdraw()


async def test_a_burst_above_the_guess_does_not_time_out_against_a_larger_project() -> None:
    # 120 reads at once, 8 connections, 0.2 s per read: the pool lets the answers of the
    # governor's first steps in only after the others' deadlines (1 s); the server never
    # refuses. Each call must succeed, sent once.
    async with Emulator(api_keys=(KEY,)) as emu:
        emu.store.create_assistant("busy")
        emu.faults.script("GET", ONE, [Fault.delay(0.2)], repeat=True)
        async with AsyncPinecone(api_key=KEY, host=emu.url, max_connections=8, timeout=1) as pc:
            with track_requests() as stats:
                results = await asyncio.gather(
                    *(pc.assistants.describe(name="busy") for _ in range(120)),
                    return_exceptions=True,
                )
        assert [r for r in results if isinstance(r, BaseException)] == []
        assert emu.log.count(method="GET", path="/assistant/assistants/busy") == 120
        assert stats.retries == 0


async def test_a_starter_project_gets_no_burst_of_429s() -> None:
    # Starter's 40 reads per minute, 60 reads at once with a 1 s timeout: the step past the
    # guess is refused with a real wait, so the calls over the limit wait and time out at the
    # governor rather than being sent into 429s (no retries: a 429 here would wait a minute).
    async with Emulator(api_keys=(KEY,), rate_limits={"assistants_read": 40}) as emu:
        emu.store.create_assistant("a")
        async with AsyncPinecone(
            api_key=KEY, host=emu.url, timeout=1, retry=RetryPolicy.none()
        ) as pc:
            results = await asyncio.gather(
                *(pc.assistants.describe(name="a") for _ in range(60)), return_exceptions=True
            )
            state = pc.governor.snapshot()["assistants_read"]
        assert sum(1 for r in results if not isinstance(r, BaseException)) == 40
        errors = [r for r in results if isinstance(r, BaseException)]
        refused = [e for e in errors if isinstance(e, RateLimitError)]
        assert len(refused) <= 2  # the step past the guess; the others waited
        assert all(isinstance(e, RequestTimeoutError) for e in errors if e not in refused)
        assert not state["learning"]
        assert emu.limiter.counters["assistants_read"].rejected == len(refused)
