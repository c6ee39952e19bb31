"""The governor's asyncio side: free path, FIFO waiting, Retry-After for the whole class,
deadlines and cancellation (an in-memory store; no server needed for these rules)."""

from __future__ import annotations

import asyncio

import pytest

from aiopinecone import RequestTimeoutError
from aiopinecone._governor import Governor, RateLimits


def exact(limit: float, window: float = 60.0) -> Governor:
    return Governor(RateLimits(limits={"assistants_write": limit}, window=window))


async def test_a_free_slot_is_granted_without_waiting() -> None:
    gov = exact(2)
    permit = await gov.acquire("create_assistant")
    assert permit.waited == 0.0
    gov.settle(permit, status=201, retry_after=None)
    assert gov.snapshot()["assistants_write"]["granted"] == 1


async def test_a_full_class_waits_and_the_deadline_bounds_the_wait() -> None:
    gov = exact(1)
    first = await gov.acquire("create_assistant")
    loop = asyncio.get_running_loop()
    with pytest.raises(RequestTimeoutError, match="rate budget of assistants_write"):
        await gov.acquire("create_assistant", deadline=loop.time() + 0.05)
    # A 429 gives the slot back: the next caller gets it.
    gov.settle(first, status=429, retry_after=0.0)
    second = await gov.acquire("create_assistant", deadline=loop.time() + 5)
    gov.settle(second, status=200, retry_after=None)


async def test_waiters_are_served_in_order_and_cancellation_leaves_the_queue() -> None:
    gov = exact(1)
    holder = await gov.acquire("create_assistant")
    order: list[int] = []

    async def one(i: int) -> None:
        permit = await gov.acquire("create_assistant")
        order.append(i)
        gov.settle(permit, status=429, retry_after=0.0)  # give the slot straight back

    tasks = [asyncio.create_task(one(i)) for i in range(4)]
    await asyncio.sleep(0.01)
    tasks[1].cancel()
    gov.settle(holder, status=429, retry_after=0.0)
    await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 5)
    assert order == [0, 2, 3]


async def test_retry_after_pauses_the_whole_class() -> None:
    gov = exact(100)
    permit = await gov.acquire("create_assistant")
    gov.settle(permit, status=429, retry_after=0.2)
    waiter = asyncio.create_task(gov.acquire("update_assistant"))
    await asyncio.sleep(0.05)
    assert not waiter.done()  # another op of the same class waits too
    other = await gov.acquire("describe_assistant")  # another class does not
    gov.settle(other, status=200, retry_after=None)
    got = await asyncio.wait_for(waiter, 5)
    assert got.waited > 0
    gov.settle(got, status=200, retry_after=None)


async def test_off_and_presets() -> None:
    assert not Governor(RateLimits.coerce("off")).enabled
    assert Governor(RateLimits.coerce(None)).limits.adaptive
    assert RateLimits.coerce("standard").limits["assistants_write"] == 50
    with pytest.raises(ValueError, match="unknown rate preset"):
        RateLimits.coerce("gold")


async def test_each_waiter_behind_the_head_times_out_at_its_own_deadline() -> None:
    # One timer serves the queue: a later waiter with an earlier deadline must still time out,
    # and the waiters around it keep their places.
    gov = exact(1)
    holder = await gov.acquire("create_assistant")
    loop = asyncio.get_running_loop()
    order: list[str] = []

    async def one(name: str, deadline: float | None) -> None:
        permit = await gov.acquire("create_assistant", deadline=deadline)
        order.append(name)
        gov.settle(permit, status=429, retry_after=0.0)  # give the slot straight back

    head = asyncio.create_task(one("head", loop.time() + 30))
    await asyncio.sleep(0)
    late_one = asyncio.create_task(one("late", loop.time() + 30))
    await asyncio.sleep(0)
    soon = asyncio.create_task(one("soon", loop.time() + 0.05))
    await asyncio.sleep(0)
    patient = asyncio.create_task(one("patient", None))
    with pytest.raises(RequestTimeoutError, match="rate budget of assistants_write"):
        await asyncio.wait_for(soon, 5)
    assert not any(t.done() for t in (head, late_one, patient))
    gov.settle(holder, status=429, retry_after=0.0)
    await asyncio.wait_for(asyncio.gather(head, late_one, patient), 5)
    assert order == ["head", "late", "patient"]
