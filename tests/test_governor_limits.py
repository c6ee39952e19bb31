"""Moved from ``test_provision_ratelimit.py`` when provisioning's own limiter was replaced by
the client's rate governor (issue 11): the same rules, on the governor's parts (fake clocks,
no sleeping; the async ones against the in-memory store)."""

from __future__ import annotations

import asyncio
import math
import sys
from pathlib import Path

import pytest

from aiopinecone import RateLimits
from aiopinecone._governor import PRESETS, Controller, Governor, MemoryStore
from aiopinecone._governor._gate import ACCEPTED, RATE_LIMITED, UNKNOWN, ClassGate, Ticket

sys.path.insert(0, str(Path(__file__).parent))
from governor_sim import Window, simulate

WRITE_LEVELS = (20.0, 50.0, 100.0)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def fixed_gate(limit: float | None, window: float = 60.0) -> tuple[ClassGate, FakeClock]:
    clock = FakeClock()
    controller = Controller(
        limit=math.inf if limit is None else limit, window=window, adaptive=False
    )
    return ClassGate("c", controller, MemoryStore(clock=clock)), clock


def test_presets_follow_the_design_table() -> None:
    assert PRESETS["starter"]["assistants_write"] == 20
    assert PRESETS["standard"]["files_upload"] == 20
    assert PRESETS["enterprise"]["files_read"] == 6000
    limits = RateLimits.preset("adaptive", window=3.0)
    assert limits.adaptive
    assert limits.window == 3.0
    assert limits.limits["assistants_write"] == 20
    assert RateLimits.preset("unlimited").limits == {}
    with pytest.raises(ValueError, match="unknown rate preset"):
        RateLimits.preset("gold")
    with pytest.raises(ValueError, match="unknown operation class"):
        RateLimits(limits={"chats": 3})
    with pytest.raises(ValueError, match="window must be"):
        RateLimits(limits={}, window=0)


def test_a_fresh_window_allows_the_whole_burst_then_waits_for_the_oldest_answer() -> None:
    gate, clock = fixed_gate(3)
    tickets = [gate.try_take(0.0, 1.0, 0.0) for _ in range(3)]
    assert all(isinstance(t, Ticket) for t in tickets)
    assert gate.try_take(0.0, 1.0, 0.0) == math.inf  # only requests in flight: wait for one
    for t, at in zip(tickets, (0.5, 0.7, 0.9), strict=True):
        clock.now = at
        assert isinstance(t, Ticket)
        gate.settle(at, t, ACCEPTED)
    clock.now = 1.0
    assert gate.try_take(1.0, 1.0, 1.0) == pytest.approx(59.5)  # logged at the answer
    clock.now = 60.49
    assert not isinstance(gate.try_take(60.49, 1.0, 1.0), Ticket)
    clock.now = 60.5
    assert isinstance(gate.try_take(60.5, 1.0, 1.0), Ticket)


def test_retry_after_blocks_the_whole_class() -> None:
    gate, clock = fixed_gate(10)
    ticket = gate.try_take(0.0, 1.0, 0.0)
    assert isinstance(ticket, Ticket)
    clock.now = 1.0
    gate.settle(1.0, ticket, RATE_LIMITED, retry_after=5.0)
    clock.now = 2.0
    assert gate.try_take(2.0, 1.0, 2.0) == pytest.approx(4.0)
    clock.now = 6.0
    assert isinstance(gate.try_take(6.0, 1.0, 6.0), Ticket)
    assert gate.controller.limit == 10  # a fixed preset does not change its limit


def test_429_without_retry_after_backs_off_exponentially_per_round_trip() -> None:
    # Changed with the governor: the first 429 without a hint pauses nothing (it may be a
    # stray one; the request's own retry backoff applies), then one slot, doubling, at most
    # one window -- counted per round trip, not per answer of requests already in flight.
    c = Controller(limit=6, window=60.0, adaptive=False)  # one slot per 10 s
    blocks = []
    for i in range(6):
        now = float(i)
        blocks.append(c.rate_limited(now, usage=0.0, retry_after=None, probe=False, taken_at=now))
    assert blocks == [0.0, 10.0, 20.0, 40.0, 60.0, 60.0]
    # Requests sent before the last pause began add nothing.
    assert c.rate_limited(9.0, usage=0.0, retry_after=None, probe=False, taken_at=4.5) == 0.0


def test_unknown_outcomes_are_counted_conservatively() -> None:
    gate, clock = fixed_gate(1, window=10.0)
    ticket = gate.try_take(0.0, 1.0, 0.0)
    assert isinstance(ticket, Ticket)
    clock.now = 1.0
    gate.settle(1.0, ticket, UNKNOWN)
    clock.now = 5.0
    assert gate.try_take(5.0, 1.0, 5.0) == pytest.approx(6.0)  # counted at 1.0


def test_unlimited_class_never_waits() -> None:
    gate, _ = fixed_gate(None)
    assert all(isinstance(gate.try_take(0.0, 1.0, 0.0), Ticket) for _ in range(1000))


@pytest.mark.parametrize("limit", [5, 20, 100])
def test_exact_preset_meets_no_429_and_runs_at_the_limit(limit: int) -> None:
    controller = Controller(limit=limit, window=60.0, adaptive=False)
    result = simulate(Window(limit, 60.0), controller, n=limit * 10, latency=0.05)
    assert (result.accepted, result.refused) == (limit * 10, 0)
    assert result.wall < 9 * 60 + 2  # bursts at 0, 60, ..., 540 (simulated seconds)


def test_adaptive_learns_a_higher_limit_with_few_429s() -> None:
    controller = Controller(limit=20, window=60.0, adaptive=True, levels=WRITE_LEVELS)
    result = simulate(Window(57, 60.0), controller, n=500, latency=0.05)
    assert result.accepted == 500
    assert controller.learnt
    assert controller.limit == 57
    # 57 is none of the plans': slow start's step from Standard's test (52.5) to Enterprise's
    # (105) overshoots it once, by 48 requests; the later windows refuse almost nothing.
    assert result.refused <= 105 - 57 + 5
    assert result.wall <= 500 / 57 * 60 * 1.1


def test_adaptive_learns_a_lower_limit_than_it_started_with() -> None:
    controller = Controller(limit=20, window=60.0, adaptive=True, levels=WRITE_LEVELS)
    result = simulate(
        Window(7, 60.0), controller, n=200, latency=0.05, concurrency=16, horizon=4000.0
    )
    assert result.accepted == 200
    assert controller.limit == 7
    assert result.refused_per_accepted <= 0.1


def test_adaptive_gives_way_when_someone_else_uses_the_quota() -> None:
    # Changed with the governor: one 429 below the limit may be a stray one (10% slower); 429s
    # again on requests sent after it are a neighbour taking the quota: the rate is cut by 30%.
    c = Controller(limit=20, window=60.0, adaptive=True)
    c.slow_start = False
    c.window = 30.0
    c.rate_limited(1.0, usage=3.0, retry_after=None, probe=False, taken_at=0.9)
    assert c.window == pytest.approx(30.0 / 0.9)
    c.rate_limited(2.0, usage=3.0, retry_after=None, probe=False, taken_at=1.9)
    c.rate_limited(3.0, usage=3.0, retry_after=None, probe=False, taken_at=2.9)
    assert c.window == pytest.approx(30.0 / 0.9**3)  # sent after the first: still moderate
    c.rate_limited(4.0, usage=3.0, retry_after=None, probe=False, taken_at=3.9)
    assert c.window == pytest.approx(30.0 / 0.9**3 / 0.7)  # and again: a limit
    assert c.limit == 20  # the burst stays


async def test_async_governor_is_fifo_and_counts() -> None:
    governor = Governor(RateLimits(limits={"files_upload": 2}, window=0.05))
    order: list[int] = []

    async def one(i: int) -> None:
        permit = await governor.acquire("upload_file")
        order.append(i)
        await asyncio.sleep(0)
        governor.settle(permit, status=200, retry_after=None)

    async with asyncio.timeout(10):
        await asyncio.gather(*(one(i) for i in range(7)))
    assert order == list(range(7))
    snap = governor.snapshot()
    assert snap["files_upload"]["granted"] == 7
    assert snap["files_upload"]["limit"] == 2
    assert "assistants_read" not in snap  # classes never used are left out


async def test_async_governor_waiter_wakes_when_an_answer_arrives() -> None:
    governor = Governor(RateLimits(limits={"assistants_write": 1}, window=0.01))
    first = await governor.acquire("create_assistant")
    second = asyncio.ensure_future(governor.acquire("create_assistant"))
    await asyncio.sleep(0)
    assert not second.done()  # one in flight fills the window
    governor.settle(first, status=429, retry_after=0.0)
    async with asyncio.timeout(10):
        permit = await second
    governor.settle(permit, status=200, retry_after=None)
    assert governor.snapshot()["assistants_write"]["rate_limited"] == 1


async def test_cancelled_waiter_takes_no_slot() -> None:
    governor = Governor(RateLimits(limits={"assistants_write": 1}, window=60.0))
    first = await governor.acquire("create_assistant")
    waiter = asyncio.ensure_future(governor.acquire("create_assistant"))
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    gate = governor.gate("assistants_write")
    assert (gate.controller.outstanding, governor.snapshot()["assistants_write"]["granted"]) == (
        1,
        1,
    )
    governor.settle(first, status=None, retry_after=None)
    assert gate.controller.outstanding == 0
