"""The client-side limiter: a pure state machine driven by a fake clock (no sleeping)."""

from __future__ import annotations

import asyncio
import heapq
from collections import deque

import pytest

from aiopinecone.provision import PRESETS, RateLimiter, RateLimits
from aiopinecone.provision._ratelimit import ClassLimiter


class SlidingServer:
    """A server-side sliding-window log like the emulator's (and Pinecone's per-minute limits)."""

    def __init__(self, limit: int, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self.accepted: deque[float] = deque()
        self.rejected = 0

    def admit(self, now: float) -> float | None:
        """None when accepted, else the Retry-After in seconds."""
        while self.accepted and self.accepted[0] <= now - self.window:
            self.accepted.popleft()
        if len(self.accepted) < self.limit:
            self.accepted.append(now)
            return None
        self.rejected += 1
        return self.accepted[0] + self.window - now


def simulate(
    limiter: ClassLimiter,
    server: SlidingServer,
    n: int,
    *,
    workers: int = 8,
    latency: float = 0.05,
    max_events: int = 100_000,
) -> tuple[int, int, float]:
    """Run ``n`` successful requests through ``limiter`` against ``server`` in simulated time.

    ``workers`` concurrent clients; each request reaches the server after ``latency / 2`` and
    its answer arrives after ``latency``. Returns (accepted, rate_limited, finish time).
    """
    now = 0.0
    done = 0
    inflight: list[tuple[float, int, bool, float | None]] = []  # (answer time, id, probe, 429)
    seq = 0
    free = workers
    for _ in range(max_events):
        if done >= n:
            return done, limiter.stats.rate_limited, now
        # Start as many requests as the limiter allows now.
        while free and done + len(inflight) < n:
            decision = limiter.decide(now)
            if not decision.go:
                break
            limiter.start(decision)
            retry_after = server.admit(now + latency / 2)
            seq += 1
            heapq.heappush(inflight, (now + latency, seq, decision.probe, retry_after))
            free -= 1
        decision = limiter.decide(now)
        wake = decision.wake_at if not decision.go else None
        next_answer = inflight[0][0] if inflight else None
        candidates = [t for t in (wake, next_answer) if t is not None and t > now]
        assert candidates, "the limiter would wait forever"
        now = min(candidates)
        while inflight and inflight[0][0] <= now:
            _, _, probe, retry_after = heapq.heappop(inflight)
            free += 1
            if retry_after is None:
                limiter.accepted(now, probe=probe)
                done += 1
            else:
                limiter.rate_limited(now, retry_after, probe=probe)
    raise AssertionError("simulation did not finish")


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
        RateLimits(limits={"chat": 3})
    with pytest.raises(ValueError, match="window must be"):
        RateLimits(limits={}, window=0)


def test_a_fresh_window_allows_the_whole_burst_then_waits_for_the_oldest_answer() -> None:
    lim = ClassLimiter(3, window=60.0)
    for _ in range(3):
        d = lim.decide(0.0)
        assert d.go
        lim.start(d)
    d = lim.decide(0.0)
    assert not d.go
    assert d.wake_at is None  # only requests in flight: wait for an answer, not a time
    lim.accepted(0.5)
    lim.accepted(0.7)
    lim.accepted(0.9)
    d = lim.decide(1.0)
    assert (d.go, d.wake_at) == (False, 60.5)  # logged when the answer came, not when sent
    assert not lim.decide(60.49).go
    assert lim.decide(60.5).go  # the server forgets its own (earlier) entry no later than this


def test_retry_after_blocks_the_whole_class() -> None:
    lim = ClassLimiter(10, window=60.0)
    d = lim.decide(0.0)
    lim.start(d)
    lim.rate_limited(1.0, 5.0)
    d = lim.decide(2.0)
    assert (d.go, d.wake_at) == (False, 6.0)
    assert lim.decide(6.0).go
    assert lim.stats.rate_limited == 1
    assert lim.limit == 10  # a fixed preset does not change its limit


def test_429_without_retry_after_backs_off_exponentially() -> None:
    lim = ClassLimiter(6, window=60.0)  # one slot per 10 s
    for expected in (10.0, 20.0, 40.0, 60.0, 60.0):
        d = lim.decide(0.0)
        assert d.go
        lim.start(d)
        lim.rate_limited(0.0, None)
        assert lim.blocked_until == expected
        lim.blocked_until = 0.0


def test_unknown_outcomes_are_counted_conservatively() -> None:
    lim = ClassLimiter(1, window=10.0)
    d = lim.decide(0.0)
    lim.start(d)
    lim.unknown(1.0)
    assert lim.decide(5.0).wake_at == 11.0


def test_unlimited_class_never_waits() -> None:
    lim = ClassLimiter(None)
    for _ in range(1000):
        d = lim.decide(0.0)
        assert d.go
        lim.start(d)
    assert lim.stats.started == 1000


@pytest.mark.parametrize("limit", [5, 20, 100])
def test_exact_preset_meets_no_429_and_runs_at_the_limit(limit: int) -> None:
    server = SlidingServer(limit)
    lim = ClassLimiter(limit, window=60.0)
    n = limit * 10
    accepted, rejected, end = simulate(lim, server, n)
    assert (accepted, rejected) == (n, 0)
    # n requests at `limit` per window: bursts at 0, 60, ..., 540 (plus latency).
    assert end < 9 * 60 + 2  # simulated seconds


def test_adaptive_learns_a_higher_limit_with_few_429s() -> None:
    server = SlidingServer(57)
    lim = ClassLimiter(20, window=60.0, adaptive=True, probe_interval=4.0)
    accepted, rejected, end = simulate(lim, server, 500)
    assert accepted == 500
    assert lim.learnt
    assert lim.limit == 57
    assert rejected / accepted <= 0.05
    ideal = 500 / 57 * 60
    assert end <= ideal * 1.1


def test_adaptive_learns_a_lower_limit_than_it_started_with() -> None:
    server = SlidingServer(7)
    lim = ClassLimiter(20, window=60.0, adaptive=True)
    accepted, rejected, _ = simulate(lim, server, 200, workers=16)
    assert accepted == 200
    assert lim.limit == 7
    assert rejected / accepted <= 0.1


def test_adaptive_gives_way_when_someone_else_uses_the_quota() -> None:
    lim = ClassLimiter(20, window=60.0, adaptive=True)
    lim.probe_at = 1e9  # not probing: a 429 below our limit means the quota is shared
    d = lim.decide(0.0)
    lim.start(d)
    lim.accepted(0.1)
    d = lim.decide(0.2)
    lim.start(d)
    lim.rate_limited(0.3, 1.0)
    assert lim.limit == 1  # min(accepted in window, 70 % of the limit)
    assert lim.learnt


async def test_async_limiter_is_fifo_and_counts() -> None:
    limiter = RateLimiter(RateLimits(limits={"files_upload": 2}, window=0.05))
    order: list[int] = []

    async def one(i: int) -> None:
        permit = await limiter.acquire("files_upload")
        order.append(i)
        await asyncio.sleep(0)
        limiter.accepted(permit)

    async with asyncio.timeout(10):
        await asyncio.gather(*(one(i) for i in range(7)))
    assert order == list(range(7))
    snap = limiter.snapshot()
    assert snap["files_upload"]["accepted"] == 7
    assert snap["files_upload"]["limit"] == 2
    assert "assistants_read" not in snap  # classes never used are left out


async def test_async_limiter_waiter_wakes_when_an_answer_arrives() -> None:
    limiter = RateLimiter(RateLimits(limits={"assistants_write": 1}, window=0.01))
    first = await limiter.acquire("assistants_write")
    second = asyncio.ensure_future(limiter.acquire("assistants_write"))
    await asyncio.sleep(0)
    assert not second.done()  # one in flight fills the window
    limiter.rate_limited(first, 0.0)
    async with asyncio.timeout(10):
        permit = await second
    limiter.accepted(permit)
    assert limiter.state("assistants_write").stats.rate_limited == 1


async def test_cancelled_waiter_takes_no_slot() -> None:
    limiter = RateLimiter(RateLimits(limits={"assistants_write": 1}, window=60.0))
    first = await limiter.acquire("assistants_write")
    waiter = asyncio.ensure_future(limiter.acquire("assistants_write"))
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    state = limiter.state("assistants_write")
    assert (state.inflight, state.stats.started) == (1, 1)
    limiter.unknown(first)
    assert state.inflight == 0
