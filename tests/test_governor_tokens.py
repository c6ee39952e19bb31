"""Token budgets for chat and context, the pure parts: the estimate, the overhead it learns, the
charge a call carries, and the governor's two permits under a fake clock (no network)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from aiopinecone import RateLimits
from aiopinecone._admission import TokenCharge
from aiopinecone._governor import PRESETS, Governor, MemoryStore, class_of
from aiopinecone._governor._tokens import PRIOR_OVERHEAD, SMOOTHING, Overhead, text_tokens


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def user(content: str) -> dict[str, str]:
    return {"role": "user", "content": content}


@pytest.mark.parametrize(
    ("body", "tokens"),
    [
        ({"messages": [user("hi")]}, 4 + 1),  # ceil(2 / 4) + 4 per message
        ({"messages": [user("a" * 400)]}, 4 + 100),
        ({"messages": [user("a" * 401)]}, 4 + 101),  # rounded up
        ({"messages": [user("abcd" * 10), {"role": "assistant", "content": "x" * 9}]}, 14 + 7),
        ({"messages": [user("é" * 8)]}, 4 + 2),  # characters, not bytes
        ({"query": "a" * 8}, 2),  # context by query: no message overhead
        ({"query": "q" * 4, "messages": [user("m" * 4)]}, 1 + 5),
        ({"messages": []}, 0),
        ({}, 0),
        ({"messages": "not a list"}, 0),
        ({"messages": [user("x" * 40)], "model": "gpt-4o", "temperature": 0.5}, 14),
    ],
)
def test_the_text_estimate(body: dict[str, Any], tokens: int) -> None:
    assert text_tokens(body) == tokens


def test_the_overhead_starts_at_the_prior_and_learns_from_the_answers() -> None:
    overhead = Overhead()
    assert overhead.estimate(10) == 10 + PRIOR_OVERHEAD
    overhead.observe(10, 40)  # the first answer replaces the prior
    assert overhead.value == 30
    assert overhead.estimate(10) == 40
    overhead.observe(10, 60)  # later ones move it by SMOOTHING
    assert overhead.value == pytest.approx(30 + SMOOTHING * (50 - 30))
    assert overhead.samples == 2
    small = Overhead()
    small.observe(100, 1)  # the service counts less than the text rule says
    assert small.estimate(10) == 1.0  # never below one token


def test_a_charge_is_settled_once_with_the_answers_count() -> None:
    finished: list[float | None] = []
    charge = TokenCharge(12)
    charge.settle(50)  # nothing held yet: only remembered
    assert charge.counted == 50
    assert finished == []
    charge = TokenCharge(12)
    charge.hold(finished.append)
    charge.settle(40)
    charge.settle(None)  # the caller's `finally`: nothing more
    assert finished == [40.0]
    assert charge.counted == 40


def test_a_charge_without_a_count_keeps_the_estimate() -> None:
    finished: list[float | None] = []
    charge = TokenCharge(12)
    charge.hold(finished.append)
    charge.settle(0)  # an answer without usage parses as zeros: not a count
    assert finished == [None]
    assert charge.counted is None


def test_a_charge_held_again_ends_the_earlier_attempt_at_its_estimate() -> None:
    first: list[float | None] = []
    second: list[float | None] = []
    charge = TokenCharge(12)
    charge.hold(first.append)  # an answer whose body then failed to arrive
    charge.hold(second.append)  # the retry's answer
    charge.settle(30)
    assert first == [None]
    assert second == [30.0]


def test_token_classes_are_operation_classes_with_plan_numbers() -> None:
    assert class_of("chat_tokens") == "chat_tokens"
    assert class_of("context_tokens") == "context_tokens"
    assert class_of("chat") == class_of("chat_completions") == "chat"
    assert [PRESETS[p]["chat_tokens"] for p in ("starter", "standard", "enterprise")] == [
        100_000,
        300_000,
        1_000_000,
    ]
    assert "context_tokens" not in PRESETS["starter"]
    assert RateLimits.preset("adaptive").limits["chat_tokens"] == 100_000
    assert RateLimits(limits={"context_tokens": 5000}).limits["context_tokens"] == 5000.0
    with pytest.raises(ValueError, match="unknown operation class"):
        RateLimits(limits={"chat_token": 5})


def governor(limits: dict[str, float], *, adaptive: bool = False) -> tuple[Governor, FakeClock]:
    clock = FakeClock()
    return Governor(RateLimits(limits=limits, window=60.0, adaptive=adaptive), clock=clock), clock


def store_of(gov: Governor) -> MemoryStore:
    assert isinstance(gov.store, MemoryStore)
    return gov.store


async def test_a_chat_holds_its_tokens_until_the_answers_usage_corrects_them() -> None:
    gov, clock = governor({"chat_tokens": 10_000})
    store = store_of(gov)
    charge = TokenCharge(10)
    permit = await gov.acquire("chat", tokens=charge)
    assert charge.estimate == 10 + PRIOR_OVERHEAD
    assert store.in_flight("chat") == 1
    assert store.in_flight("chat_tokens") == charge.estimate
    clock.now = 1.0
    gov.settle(permit, status=200, retry_after=None)  # the head: the request is done
    assert store.in_flight("chat") == 0
    assert store.in_flight("chat_tokens") == charge.estimate  # still held: no count yet
    clock.now = 2.0
    charge.settle(40)  # the answer's usage.prompt_tokens
    assert store.in_flight("chat_tokens") == 0
    assert store.usage_now("chat_tokens", 60.0) == 40  # the count, not the estimate
    state = gov.snapshot()["chat_tokens"]
    assert state["tokens_counted"] == 40
    assert state["tokens_estimated"] == round(10 + PRIOR_OVERHEAD)
    assert state["usage_reports"] == 1
    assert state["overhead"] == 30.0
    assert state["window_used"] == 40
    assert gov.snapshot()["chat"]["granted"] == 1
    # The next call's estimate has learnt what the service adds.
    nxt = TokenCharge(10)
    gov.settle(await gov.acquire("chat_completions", tokens=nxt), status=200, retry_after=None)
    assert nxt.estimate == 40
    nxt.settle(None)  # a stream without usage: the estimate is logged
    assert store.usage_now("chat_tokens", 60.0) == 80


async def test_a_429_teaches_the_token_class_and_gives_both_permits_back() -> None:
    gov, _ = governor({"chat_tokens": 100_000}, adaptive=True)
    store = store_of(gov)
    charge = TokenCharge(10)
    permit = await gov.acquire("chat", tokens=charge)
    gov.settle(permit, status=429, retry_after=5.0)
    assert store.in_flight("chat") == store.in_flight("chat_tokens") == 0
    assert store.usage_now("chat", 60.0) == store.usage_now("chat_tokens", 60.0) == 0
    assert store.blocked_for("chat_tokens") == 5.0  # every chat waits out the Retry-After
    assert store.blocked_for("chat") == 0.0
    snap = gov.snapshot()
    assert snap["chat_tokens"]["rate_limited"] == snap["chat"]["rate_limited"] == 1
    assert snap["chat"]["limit"] == float("inf")  # the request class learnt nothing
    charge.settle(None)  # nothing held: nothing happens
    assert store.usage_now("chat_tokens", 60.0) == 0


@pytest.mark.parametrize("status", [None, 500, 400])
async def test_an_attempt_without_an_answer_is_charged_its_estimate(status: int | None) -> None:
    gov, _ = governor({"context_tokens": 100_000})
    store = store_of(gov)
    charge = TokenCharge(10)
    gov.settle(await gov.acquire("context", tokens=charge), status=status, retry_after=None)
    assert store.in_flight("context_tokens") == 0
    assert store.usage_now("context_tokens", 60.0) == charge.estimate
    assert gov.snapshot()["context_tokens"]["tokens_estimated"] == round(charge.estimate)


async def test_a_chat_cancelled_while_waiting_gives_its_tokens_back() -> None:
    gov, _ = governor({"chat_tokens": 100, "chat": 1})
    store = store_of(gov)
    first = await gov.acquire("chat", tokens=TokenCharge(10))  # alone, though over the limit
    held = store.in_flight("chat_tokens")
    # Waits for tokens (the budget is full).
    waiting = asyncio.ensure_future(gov.acquire("chat", tokens=TokenCharge(10)))
    await asyncio.sleep(0)
    assert not waiting.done()
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert store.in_flight("chat_tokens") == held
    gov.settle(first, status=200, retry_after=None)
    assert first.tokens is None
    assert store.in_flight("chat_tokens") == held  # the first still holds until its count
    # Waits for the request permit, holding its tokens meanwhile: cancelled, it gives them back.
    roomy, _ = governor({"chat_tokens": 1_000_000, "chat": 1})
    roomy_store = store_of(roomy)
    holder = await roomy.acquire("chat", tokens=TokenCharge(10))
    second = asyncio.ensure_future(roomy.acquire("chat", tokens=TokenCharge(10)))
    for _ in range(10):
        await asyncio.sleep(0)
    assert not second.done()
    assert roomy_store.in_flight("chat_tokens") == 2 * (10 + PRIOR_OVERHEAD)
    second.cancel()
    with pytest.raises(asyncio.CancelledError):
        await second
    assert roomy_store.in_flight("chat_tokens") == 10 + PRIOR_OVERHEAD
    assert roomy.snapshot()["chat_tokens"]["tokens_estimated"] == 0  # nothing was charged
    roomy.settle(holder, status=200, retry_after=None)


async def test_no_token_permit_without_a_token_budget() -> None:
    gov, _ = governor({"chat": 5})  # exact limits, none for chat tokens
    permit = await gov.acquire("chat", tokens=TokenCharge(10))
    assert permit.tokens is None
    gov.settle(permit, status=200, retry_after=None)
    assert "chat_tokens" not in gov.snapshot()
    # A call of a class without a token budget ignores its charge.
    adaptive, _ = governor({}, adaptive=True)
    plain = await adaptive.acquire("describe_assistant", tokens=TokenCharge(10))
    assert plain.tokens is None


async def test_slow_start_steps_on_counted_tokens_not_on_estimates() -> None:
    # Adaptive from the plan's 100k: a step needs the *counted* tokens to fill the budget. The
    # estimates in flight (the prior) say it is full, but the answers count far less.
    gov, clock = governor({"chat_tokens": 100_000}, adaptive=True)
    # 21 x 5000 estimated: the budget is full (the plan's 100k and its test, 105k, at once).
    charges = [TokenCharge(2500) for _ in range(21)]
    permits = [await gov.acquire("chat", tokens=charge) for charge in charges]
    waiting = asyncio.ensure_future(gov.acquire("chat", tokens=TokenCharge(2500)))
    await asyncio.sleep(0)
    assert not waiting.done()
    clock.now = 0.1
    gov.settle(permits[0], status=200, retry_after=None)
    charges[0].settle(100)  # tasks wait, but the server counted 100 tokens of 100k
    assert gov.snapshot()["chat_tokens"]["limit"] == 105_000  # no step on estimates
    assert gov.snapshot()["chat_tokens"]["learning"]
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    for permit, charge in zip(permits[1:], charges[1:], strict=True):
        gov.settle(permit, status=200, retry_after=None)
        charge.settle(None)


async def test_waiting_calls_are_resized_once_the_first_answer_is_in() -> None:
    gov, clock = governor({"chat_tokens": 3000})
    first = TokenCharge(10)
    permit = await gov.acquire("chat", tokens=first)  # 2510 of 3000
    second = TokenCharge(10)
    waiting = asyncio.ensure_future(gov.acquire("chat", tokens=second))
    await asyncio.sleep(0)
    assert not waiting.done()  # 2510 more does not fit
    clock.now = 0.5
    gov.settle(permit, status=200, retry_after=None)
    first.settle(40)  # the service adds 30 tokens, not 2500
    for _ in range(5):
        await asyncio.sleep(0)
    assert waiting.done()  # resized to 40: it fits at once
    assert second.estimate == 40
    gov.settle(waiting.result(), status=200, retry_after=None)
    second.settle(40)
    assert store_of(gov).usage_now("chat_tokens", 60.0) == 80
