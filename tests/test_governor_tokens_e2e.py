"""Token budgets end to end: clients against the emulator's input-token limits over real sockets
(chat bursts, streams corrected by ``message_end``, cancellation), and a budget shared through
a real Redis. Counts only, no timings."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from aiopinecone import AsyncPinecone, RateLimits
from aiopinecone._governor import ON_SETTLE, Grant, MemoryStore
from aiopinecone._governor._redis import RedisStore
from aiopinecone._governor._tokens import PRIOR_OVERHEAD, text_tokens
from aiopinecone.emulator import Emulator, Fault
from aiopinecone.models import MessageEndChunk

KEY = "test-key"
WINDOW = 0.5
LIMIT = 600
# 299 characters: 80 tokens as the emulator counts (4/3 per word), 79 by the text rule.
QUESTION = " ".join(["tell"] * 60)


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(api_keys=(KEY,), time_scale=WINDOW / 60, ready_delay=0.0) as emulator:
        emulator.store.create_assistant("helper")
        emulator.limiter.configure(tokens={"chat": LIMIT, "context": LIMIT})
        yield emulator


def told(redis_url: str | None = None) -> RateLimits:
    return RateLimits(
        limits={"chat_tokens": LIMIT, "context_tokens": LIMIT}, window=WINDOW, redis_url=redis_url
    )


def ask(question: str = QUESTION) -> list[dict[str, str]]:
    return [{"role": "user", "content": question}]


def in_flight(pc: AsyncPinecone, cls: str) -> float:
    store = pc.governor.store
    assert isinstance(store, MemoryStore)
    return store.in_flight(cls)


async def test_a_chat_burst_stays_under_a_token_limit_it_is_told(emu: Emulator) -> None:
    async with AsyncPinecone(api_key=KEY, host=emu.url, rate_limits=told()) as pc:
        answers = await asyncio.gather(
            *(pc.assistants.chat(assistant_name="helper", messages=ask()) for _ in range(24))
        )
        counted = sum(a.usage.prompt_tokens for a in answers)
        server = emu.limiter.tokens.snapshot()["chat"]
        assert server["accepted"] == 24
        # The first chat goes alone (its estimate holds the prior overhead); once its answer
        # has corrected the estimate, the others go as the window allows: never over it.
        assert server["rejected"] == 0
        assert server["accepted_tokens"] == counted
        state = pc.governor.snapshot()["chat_tokens"]
        assert state["tokens_counted"] == counted  # the budget logged the answers' counts
        assert state["usage_reports"] == 24
        assert abs(state["overhead"]) < 10  # learnt: this assistant retrieves nothing
        assert state["rate_limited"] == 0
        assert in_flight(pc, "chat_tokens") == 0
        assert pc.governor.snapshot()["chat"]["granted"] == 24


async def test_a_default_client_learns_a_token_limit_it_is_not_told(emu: Emulator) -> None:
    limits = RateLimits.preset("adaptive", window=WINDOW)  # chat tokens start at Starter's 100k
    async with AsyncPinecone(api_key=KEY, host=emu.url, rate_limits=limits) as pc:
        answers = await asyncio.gather(
            *(pc.assistants.chat(assistant_name="helper", messages=ask()) for _ in range(30))
        )
        assert len(answers) == 30
        server = emu.limiter.tokens.snapshot()["chat"]
        state = pc.governor.snapshot()
        assert server["rejected"] > 0  # the first burst found the limit
        assert state["chat_tokens"]["rate_limited"] == server["rejected"]
        assert state["chat_tokens"]["limit"] < 100_000  # learnt from the 429s
        assert state["chat"]["limit"] == float("inf")  # the request class learnt nothing
        assert in_flight(pc, "chat_tokens") == 0


async def test_a_streamed_chat_is_corrected_by_message_end(emu: Emulator) -> None:
    async with AsyncPinecone(api_key=KEY, host=emu.url, rate_limits=told()) as pc:
        stream = await pc.assistants.chat(assistant_name="helper", messages=ask(), stream=True)
        async with stream:
            assert in_flight(pc, "chat_tokens") > 0  # held while the answer streams
            chunks = [chunk async for chunk in stream]
        end = chunks[-1]
        assert isinstance(end, MessageEndChunk)
        assert end.usage is not None
        state = pc.governor.snapshot()["chat_tokens"]
        assert state["tokens_counted"] == end.usage.prompt_tokens
        assert state["usage_reports"] == 1
        assert in_flight(pc, "chat_tokens") == 0
        # A stream closed before its end is charged its estimate, and holds nothing after.
        early = await pc.assistants.chat(assistant_name="helper", messages=ask(), stream=True)
        async with early:
            await early.__anext__()
        state = pc.governor.snapshot()["chat_tokens"]
        assert state["usage_reports"] == 1
        assert state["tokens_estimated"] > end.usage.prompt_tokens
        assert in_flight(pc, "chat_tokens") == 0
        # Streamed chat completions report no usage: their estimate is logged.
        completion = await pc.assistants.chat_completions(
            assistant_name="helper", messages=ask(), stream=True
        )
        assert await completion.collect()
        assert pc.governor.snapshot()["chat_tokens"]["usage_reports"] == 1
        assert in_flight(pc, "chat_tokens") == 0


async def test_context_calls_spend_their_own_token_budget(emu: Emulator) -> None:
    async with AsyncPinecone(api_key=KEY, host=emu.url, rate_limits=told()) as pc:
        results = await asyncio.gather(
            *(pc.assistants.context(assistant_name="helper", query=QUESTION) for _ in range(12))
        )
        counted = sum(r.usage.prompt_tokens for r in results)
        server = emu.limiter.tokens.snapshot()["context"]
        assert server["rejected"] == 0
        assert server["accepted_tokens"] == counted
        state = pc.governor.snapshot()
        assert state["context_tokens"]["tokens_counted"] == counted
        assert "chat_tokens" not in state


async def test_a_cancelled_chat_gives_its_tokens_back(emu: Emulator) -> None:
    limits = RateLimits(limits={"chat_tokens": 100}, window=60.0)  # one chat at a time
    async with AsyncPinecone(api_key=KEY, host=emu.url, rate_limits=limits) as pc:
        emu.faults.script("POST", "/assistant/chat/helper", Fault.delay(30.0))
        sent = asyncio.create_task(pc.assistants.chat(assistant_name="helper", messages=ask()))
        for _ in range(500):  # bounded: until the first chat is on its way
            if pc.governor.snapshot().get("chat", {}).get("granted"):
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        estimate = in_flight(pc, "chat_tokens")
        assert estimate == text_tokens({"messages": ask()}) + PRIOR_OVERHEAD
        queued = asyncio.create_task(pc.assistants.chat(assistant_name="helper", messages=ask()))
        for _ in range(20):
            await asyncio.sleep(0)
        assert not queued.done()  # waits for tokens: the budget holds the first chat's
        queued.cancel()  # cancelled before it was sent: gives everything back
        with pytest.raises(asyncio.CancelledError):
            await queued
        assert in_flight(pc, "chat_tokens") == estimate
        assert pc.governor.snapshot()["chat_tokens"]["tokens_estimated"] == 0
        sent.cancel()  # cancelled once sent: charged its estimate, nothing left held
        with pytest.raises(asyncio.CancelledError):
            await sent
        assert in_flight(pc, "chat_tokens") == 0
        assert pc.governor.snapshot()["chat_tokens"]["tokens_estimated"] == round(estimate)
        assert pc.governor.snapshot()["chat"]["granted"] == 1  # the queued one never went


async def test_a_token_budget_shared_through_redis(emu: Emulator, redis_url: str) -> None:
    limits = told(redis_url=redis_url)
    async with (
        AsyncPinecone(api_key=KEY, host=emu.url, rate_limits=limits) as a,
        AsyncPinecone(api_key=KEY, host=emu.url, rate_limits=limits) as b,
    ):
        assert isinstance(a.governor.store, RedisStore)
        # One chat first, then Redis holds its count (not its estimate).
        first = await a.assistants.chat(assistant_name="helper", messages=ask())
        await a.governor.aclose()  # the settle is on its way to Redis: wait for it
        logged = await a.governor.store.usage("chat_tokens", 60.0)
        assert logged == first.usage.prompt_tokens
        # Two clients, one budget: together they stay under the server's limit.
        answers = await asyncio.gather(
            *(
                pc.assistants.chat(assistant_name="helper", messages=ask())
                for pc in (a, b)
                for _ in range(8)
            )
        )
        assert len(answers) == 16
    server = emu.limiter.tokens.snapshot()["chat"]
    assert server["accepted"] == 17
    assert server["rejected"] == 0  # each alone would have sent a whole window's worth


async def test_a_permit_larger_than_the_limit_waits_for_an_empty_log(redis_url: str) -> None:
    memory = MemoryStore()
    redis = RedisStore(redis_url, namespace="tokens-test")
    try:
        for store in (memory, redis):
            small = await store.take("t", cost=50, limit=100, window=30.0)
            assert isinstance(small, Grant)
            # Open grants: only a settle can make room.
            assert await store.take("t", cost=500, limit=100, window=30.0) == ON_SETTLE
            await store.settle(small, counted=True, cost=40)
            # Nothing open: the large permit goes alone once the 40 left the window.
            wait = await store.take("t", cost=500, limit=100, window=30.0)
            assert isinstance(wait, float)
            assert 29.0 < wait <= 30.0
    finally:
        await redis.aclose()
