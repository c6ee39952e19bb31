"""The emulator's per-operation-class rate limiter: classes, the sliding window, 429 answers."""

from __future__ import annotations

import asyncio
import itertools
import math
from collections.abc import AsyncIterator

import aiohttp
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aiopinecone.emulator import Emulator
from aiopinecone.emulator._opclasses import OPERATION_CLASSES, PRESETS, operation_class
from aiopinecone.emulator._ratelimit import RETRY_AFTER_MS_HEADER, RateLimiter

KEY = {"Api-Key": "test-key"}


class FakeClock:
    """A clock the test moves by hand (the limiter takes any monotonic clock)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# -- operation classes --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/assistant/assistants", "assistants_read"),
        ("GET", "/assistant/assistants/", "assistants_read"),
        ("GET", "/assistant/assistants/support", "assistants_read"),
        ("POST", "/assistant/assistants", "assistants_write"),
        ("PATCH", "/assistant/assistants/support", "assistants_write"),
        ("DELETE", "/assistant/assistants/support", "assistants_delete"),
        ("DELETE", "/assistant/assistants", "other"),
        ("GET", "/assistant/files/support", "files_read"),
        ("GET", "/assistant/files/support/f-1", "files_read"),
        ("POST", "/assistant/files/support", "files_upload"),
        ("PUT", "/assistant/files/support/f-1", "files_upload"),
        ("DELETE", "/assistant/files/support/f-1", "files_delete"),
        ("GET", "/assistant/operations/support", "files_read"),
        ("GET", "/assistant/operations/support/op-1", "files_read"),
        ("POST", "/assistant/chat/support", "other"),
        ("POST", "/assistant/chat/support/chat/completions", "other"),
        ("POST", "/assistant/chat/support/context", "other"),
        ("POST", "/assistant/evaluation/metrics/alignment", "other"),
        ("GET", "/__emulator/log", "other"),
        ("GET", "/", "other"),
        ("GET", "/assistant/files", "other"),
        ("GET", "/assistant/assistants/a/b", "other"),
    ],
)
def test_operation_class(method: str, path: str, expected: str) -> None:
    assert operation_class(method, path) == expected


def test_presets_match_design_numbers() -> None:
    # DESIGN.md §3: list+get 40/100/500, create+update 20/50/100, delete 20/50/100,
    # file list+get 100/300/6000, file upload 5/20/300, file delete 5/20/300.
    table = {
        "assistants_read": (40, 100, 500),
        "assistants_write": (20, 50, 100),
        "assistants_delete": (20, 50, 100),
        "files_read": (100, 300, 6000),
        "files_upload": (5, 20, 300),
        "files_delete": (5, 20, 300),
    }
    for op, numbers in table.items():
        assert tuple(PRESETS[p][op] for p in ("starter", "standard", "enterprise")) == numbers
    for preset in ("starter", "standard", "enterprise", "unlimited"):
        assert RateLimiter(preset).limits["other"] is None
    assert all(v is None for v in RateLimiter("unlimited").limits.values())


# -- the window, with a clock moved by hand ---------------------------------------------------


def test_burst_then_reject_with_exact_wait() -> None:
    clock = FakeClock()
    limiter = RateLimiter("starter", clock=clock)
    for _ in range(40):
        assert limiter.acquire("assistants_read").accepted
        clock.now += 0.5
    decision = limiter.acquire("assistants_read")
    assert not decision.accepted
    assert decision.limit == 40
    # The first request was accepted at 1000.0; now is 1020.0: the slot frees at 1060.0.
    assert decision.retry_after == pytest.approx(40.0)
    clock.now += 39.9
    assert not limiter.acquire("assistants_read").accepted
    clock.now += 0.1
    assert limiter.acquire("assistants_read").accepted
    assert limiter.counters["assistants_read"].accepted == 41
    assert limiter.counters["assistants_read"].rejected == 2
    # Other classes have their own budget.
    assert limiter.acquire("assistants_write").accepted
    assert limiter.counters["assistants_write"].accepted == 1


def test_time_scale_shortens_the_minute() -> None:
    clock = FakeClock()
    limiter = RateLimiter({"files_upload": 2}, time_scale=0.01, clock=clock)
    assert limiter.window == pytest.approx(0.6)
    assert limiter.acquire("files_upload").accepted
    assert limiter.acquire("files_upload").accepted
    rejected = limiter.acquire("files_upload")
    assert not rejected.accepted
    assert rejected.retry_after == pytest.approx(0.6)
    clock.now += 0.6
    assert limiter.acquire("files_upload").accepted
    # Classes left out of a mapping are unlimited.
    for _ in range(1000):
        assert limiter.acquire("assistants_read").accepted


def test_configure_at_runtime_and_reset() -> None:
    clock = FakeClock()
    limiter = RateLimiter("enterprise", clock=clock)
    for _ in range(10):
        assert limiter.acquire("files_delete").accepted
        clock.now += 1.0
    limiter.configure({"files_delete": 4})
    assert limiter.preset is None
    decision = limiter.acquire("files_delete")
    assert not decision.accepted
    # Ten in the window (t=1000..1009), limit 4: a slot opens when the 7th (t=1006) leaves.
    assert decision.retry_after == pytest.approx(1006.0 + 60.0 - clock.now)
    limiter.configure(time_scale=0.5)
    assert limiter.window == 30.0
    clock.now += 21.0  # t=1031: everything but t=1001..1009 has left the 30 s window
    assert not limiter.acquire("files_delete").accepted
    clock.now += 9.0  # t=1040: all ten have left
    assert limiter.acquire("files_delete").accepted
    limiter.configure("unlimited")
    assert limiter.acquire("files_delete").accepted
    limiter.reset()
    assert all(c.accepted == c.rejected == 0 for c in limiter.counters.values())


def test_zero_limit_rejects_everything() -> None:
    limiter = RateLimiter({"assistants_delete": 0}, clock=FakeClock())
    decision = limiter.acquire("assistants_delete")
    assert not decision.accepted
    assert decision.retry_after == 60.0


@pytest.mark.parametrize(
    ("limits", "time_scale"),
    [
        ("platinum", 1.0),
        ({"chat": 5}, 1.0),
        ({"files_read": -1}, 1.0),
        ({"files_read": 1.5}, 1.0),
        ({"files_read": True}, 1.0),
        ("starter", 0.0),
        ("starter", -1.0),
        ("starter", math.inf),
    ],
)
def test_bad_configuration_is_refused(limits: object, time_scale: float) -> None:
    with pytest.raises(ValueError, match=r"."):
        RateLimiter(limits, time_scale)  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(
    limit=st.integers(min_value=1, max_value=8),
    gaps=st.lists(st.floats(min_value=0.0, max_value=30.0), min_size=1, max_size=60),
)
def test_window_never_holds_more_than_the_limit(limit: int, gaps: list[float]) -> None:
    clock = FakeClock()
    limiter = RateLimiter({"assistants_read": limit}, clock=clock)
    accepted: list[float] = []
    for gap in gaps:
        clock.now += gap
        decision = limiter.acquire("assistants_read")
        if decision.accepted:
            accepted.append(clock.now)
        else:
            assert decision.retry_after > 0
            # Waiting exactly as told is enough (nobody else competes here).
            clock.now += decision.retry_after
            assert limiter.acquire("assistants_read").accepted
            accepted.append(clock.now)
    for i, t in enumerate(accepted):
        in_window = [u for u in accepted[: i + 1] if u > t - 60.0 + 1e-9]  # float rounding
        assert len(in_window) <= limit


# -- over HTTP, through the emulator ------------------------------------------------------------


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers=KEY) as s:
        yield s


async def test_429_envelope_and_headers(session: aiohttp.ClientSession) -> None:
    async with Emulator(rate_limits="starter") as emu:
        url = emu.url + "/assistant/assistants"
        for _ in range(40):
            async with session.get(url) as resp:
                assert resp.status == 200
        async with session.get(url) as resp:
            assert resp.status == 429
            body = orjson.loads(await resp.read())
            retry_after = resp.headers["Retry-After"]
            retry_ms = int(resp.headers[RETRY_AFTER_MS_HEADER])
        assert body["status"] == 429
        assert body["error"]["code"] == "RESOURCE_EXHAUSTED"
        assert "assistants_read" in body["error"]["message"]
        assert retry_after.isdigit()  # RFC 9110 delay-seconds
        assert 1 <= int(retry_after) <= 60
        assert int(retry_after) == math.ceil(retry_ms / 1000)
        # Writes have their own budget.
        async with session.post(url, json={"name": "a1"}) as resp:
            assert resp.status in (200, 201)
        counters = emu.limiter.counters
        assert counters["assistants_read"].accepted == 40
        assert counters["assistants_read"].rejected == 1
        assert counters["assistants_write"].accepted == 1
        assert emu.log.count(status=429, rate_limited=True) == 1
        # The admin routes are never limited nor counted.
        for _ in range(5):
            async with session.get(emu.url + "/__emulator/counters") as resp:
                assert resp.status == 200
        assert counters["other"].accepted == 0


async def test_unauthenticated_requests_are_not_counted(session: aiohttp.ClientSession) -> None:
    async with Emulator(rate_limits={"assistants_read": 1}) as emu:
        async with aiohttp.ClientSession() as anonymous:
            for _ in range(3):
                async with anonymous.get(emu.url + "/assistant/assistants") as resp:
                    assert resp.status == 401
        async with session.get(emu.url + "/assistant/assistants") as resp:
            assert resp.status == 200
        assert emu.limiter.counters["assistants_read"].accepted == 1


async def test_client_honouring_retry_after_gets_through(session: aiohttp.ClientSession) -> None:
    # A "minute" of 0.3 s: the client waits the advertised milliseconds and is accepted.
    async with Emulator(rate_limits={"assistants_read": 3}, time_scale=0.005) as emu:
        url = emu.url + "/assistant/assistants"
        statuses: list[int] = []
        waits = 0
        for _ in range(40):  # bounded: 9 successes need at most a few waits
            async with session.get(url) as resp:
                statuses.append(resp.status)
                if resp.status == 429:
                    waits += 1
                    await asyncio.sleep(int(resp.headers[RETRY_AFTER_MS_HEADER]) / 1000)
            if statuses.count(200) == 9:
                break
        assert statuses.count(200) == 9
        assert waits >= 2  # 9 requests at 3 per window need at least two waits
        # Every rejection was followed by an acceptance: waiting as told is always enough.
        for before, after in itertools.pairwise(statuses):
            if before == 429:
                assert after == 200
        counters = emu.limiter.counters["assistants_read"]
        assert (counters.accepted, counters.rejected) == (9, waits)


async def test_limits_change_at_runtime(session: aiohttp.ClientSession) -> None:
    async with Emulator() as emu:
        url = emu.url + "/assistant/assistants"
        async with session.get(url) as resp:
            assert resp.status == 200
        # Requests made while a class was unlimited are not remembered by its window.
        emu.limiter.configure({"assistants_read": 3})
        for _ in range(3):
            async with session.get(url) as resp:
                assert resp.status == 200
        async with session.get(url) as resp:
            assert resp.status == 429
        emu.limiter.configure("unlimited")
        async with session.get(url) as resp:
            assert resp.status == 200
        assert set(emu.limiter.counters) == set(OPERATION_CLASSES)
