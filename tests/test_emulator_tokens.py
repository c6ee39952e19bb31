"""The emulator's input-token limits for chat and context: the window under a fake clock, then
over real sockets (the admin route, the 429, counted as the answers' ``usage`` reports)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from aiopinecone.emulator import Emulator
from aiopinecone.emulator._ratelimit import RateLimiter
from aiopinecone.emulator._tokenlimit import TokenLimits

KEY = "test-key"
HEADERS = {"Api-Key": KEY, "X-Pinecone-Api-Version": "2025-10"}
FAQ = b"Returns\n\nCustomers can return any item within 30 days of delivery for a full refund.\n"


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_window_counts_tokens_and_says_when_they_fit() -> None:
    clock = FakeClock()
    limits = TokenLimits(lambda: 60.0, clock=clock)
    limits.configure({"chat": 100})
    assert limits.take("chat", 60) == 0.0
    clock.now += 10
    assert limits.take("chat", 30) == 0.0
    assert limits.take("chat", 20) == pytest.approx(50.0)  # when the first 60 leave
    assert limits.take("context", 10_000) == 0.0  # no limit for context
    clock.now += 50
    assert limits.take("chat", 20) == 0.0
    assert limits.take("chat", 100) == pytest.approx(60.0)  # needs the whole window empty
    clock.now += 60
    assert limits.take("chat", 100) == 0.0  # fits once the window is empty
    clock.now += 60
    assert limits.take("chat", 500) == 0.0  # larger than the limit: passes alone
    assert limits.take("chat", 1) > 0.0
    snap = limits.snapshot()["chat"]
    assert snap == {
        "limit": 100,
        "used": 500,
        "accepted": 5,
        "accepted_tokens": 710,
        "rejected": 3,
    }
    limits.reset()
    assert limits.snapshot()["chat"]["accepted"] == 0
    assert limits.take("chat", 100) == 0.0


def test_token_limits_are_checked() -> None:
    limits = TokenLimits(lambda: 60.0)
    with pytest.raises(ValueError, match="unknown token kind"):
        limits.configure({"chats": 5})
    with pytest.raises(ValueError, match="int >= 1"):
        limits.configure({"chat": 0})
    with pytest.raises(TypeError):
        limits.configure(5)
    limits.configure({"chat": 5, "context": None})
    assert limits.limits == {"chat": 5, "context": None}


def test_the_window_is_the_limiters_scaled_minute() -> None:
    clock = FakeClock()
    limiter = RateLimiter(time_scale=0.01, clock=clock)
    limiter.configure(tokens={"context": 10})
    assert limiter.tokens.take("context", 10) == 0.0
    assert limiter.tokens.take("context", 1) == pytest.approx(0.6)
    assert limiter.snapshot()["tokens"]["context"]["used"] == 10  # type: ignore[index]
    limiter.reset()
    assert limiter.tokens.take("context", 10) == 0.0


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(api_keys=(KEY,), time_scale=1.0) as emulator:
        emulator.store.create_assistant("helper", instructions="Answer briefly.")
        emulator.store.put_file("helper", name="faq.txt", content=FAQ)
        yield emulator


async def post(http: aiohttp.ClientSession, url: str, payload: Any) -> aiohttp.ClientResponse:
    async with http.post(url, json=payload, headers=HEADERS) as response:
        await response.read()
        return response


async def test_chat_over_its_token_limit_is_refused_with_retry_after(emu: Emulator) -> None:
    async with aiohttp.ClientSession() as http:
        chat = emu.url + "/assistant/chat/helper"
        ask = {"messages": [{"role": "user", "content": "How long can customers return items?"}]}
        async with http.post(chat, json=ask, headers=HEADERS) as r:
            assert r.status == 200
            first = (await r.json())["usage"]["prompt_tokens"]
        async with http.put(
            emu.url + "/__emulator/rate-limits", json={"tokens": {"chat": first + 1}}
        ) as r:
            assert r.status == 200
            assert (await r.json())["tokens"]["chat"]["limit"] == first + 1
        async with http.post(chat, json=ask, headers=HEADERS) as r:
            assert r.status == 200  # counted from now on: the window was empty
        async with http.post(chat + "/chat/completions", json=ask, headers=HEADERS) as r:
            assert r.status == 429  # chat completions spend the same chat budget
            body = await r.json()
            assert body["error"]["code"] == "RESOURCE_EXHAUSTED"
            assert "chat input tokens" in body["error"]["message"]
            assert 1 <= int(r.headers["Retry-After"]) <= 60
            assert 0 < int(r.headers["X-Emulator-Retry-After-Ms"]) <= 60_000
        context = emu.url + "/assistant/chat/helper/context"
        async with http.post(context, json={"query": "returns"}, headers=HEADERS) as r:
            assert r.status == 200  # context has its own budget (unlimited here)
        async with http.get(emu.url + "/__emulator/counters") as r:
            tokens = (await r.json())["tokens"]
        # Counted as the answers reported them (the first one too, before the limit was set).
        assert tokens["chat"]["accepted_tokens"] == 2 * first
        assert tokens["chat"]["used"] == first  # only the second is in the window
        assert tokens["chat"]["rejected"] == 1
        assert tokens["context"]["rejected"] == 0
        assert emu.log.count(status=429, rate_limited=True) == 1
        async with http.put(
            emu.url + "/__emulator/rate-limits", json={"tokens": {"chat": "lots"}}
        ) as r:
            assert r.status == 400


async def test_what_is_counted_is_what_the_usage_reports(emu: Emulator) -> None:
    emu.limiter.configure(tokens={"chat": 1_000_000, "context": 1_000_000})
    conversation = [
        {"role": "user", "content": "Can I return a widget?"},
        {"role": "assistant", "content": "Yes, within 30 days of delivery."},
        {"role": "user", "content": "And for a full refund?"},
    ]
    async with aiohttp.ClientSession() as http:
        base = emu.url + "/assistant/chat/helper"
        reported = 0
        for url, payload in [
            (base, {"messages": conversation}),
            (base + "/chat/completions", {"messages": conversation}),
            (base + "/context", {"messages": conversation}),
            (base + "/context", {"query": "refund"}),
        ]:
            async with http.post(url, json=payload, headers=HEADERS) as r:
                assert r.status == 200
                reported += (await r.json())["usage"]["prompt_tokens"]
        async with http.post(base, json={"messages": conversation[-1:]}, headers=HEADERS) as r:
            shorter = (await r.json())["usage"]["prompt_tokens"]
            reported += shorter
    snap = emu.limiter.tokens.snapshot()
    assert snap["chat"]["accepted_tokens"] + snap["context"]["accepted_tokens"] == reported
    # The whole conversation is input (the history too), not only the last question.
    assert snap["chat"]["accepted"] == 3
    assert shorter < snap["chat"]["accepted_tokens"] / 3
