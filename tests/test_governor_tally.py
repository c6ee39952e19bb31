"""A lane's tally and credit (``_governor/_lane.py``): a request's work, done for many at once.

Under a fake clock: what a tally holds and when it is told, that nothing reads the book or the
controller before it is, and that answers told together move the controller as when told one
by one; which permits a lane grants ahead, and that whatever reads the book first takes back
those not used. (That a tally of one answer and the permits granted ahead leave the books
exactly as the general path does is ``test_governor_lane.py``'s differential test.)
"""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import pytest

from aiopinecone._governor import Governor, MemoryStore, RateLimits
from aiopinecone._governor._controller import Controller
from aiopinecone._governor._lane import CREDIT, Lane

READ = "assistants_read"
DESCRIBE = "describe_assistant"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def governor(clock: FakeClock, limits: dict[str, float] | None = None) -> Governor:
    """A governor of a 2 s window (log resolution 2 ms) under ``clock``: adaptive (Starter's
    start guesses), or exact ``limits``."""
    if limits is None:
        return Governor(RateLimits.preset("adaptive", window=2.0), clock=clock)
    return Governor(RateLimits(limits=limits, window=2.0), clock=clock)


def book_of(gov: Governor, cls: str = READ) -> Any:
    assert isinstance(gov.store, MemoryStore)
    return gov.store.book(cls)


def lane_permits(gov: Governor, count: int) -> list[Any]:
    permits = [gov.try_acquire(DESCRIBE) for _ in range(count)]
    assert all(type(p) is tuple for p in permits)  # every one through the lane
    return permits


async def started(gov: Governor) -> None:
    """The class's first request, through the general path (it makes the lane), answered."""
    first = await gov.acquire(DESCRIBE)
    gov.settle(first, 200, None)


async def test_a_tally_is_told_at_the_first_answer_a_resolution_after_it_began() -> None:
    clock = FakeClock()
    gov = governor(clock)
    await started(gov)
    book = book_of(gov)
    c = gov.gate(READ).controller
    logged, log_entries = book.logged, len(book.log)
    permits = lane_permits(gov, 5)
    clock.now += 0.010
    for permit in permits[:4]:
        gov.settle(permit, 200, None)
        clock.now += 0.0005  # four answers within the 2 ms resolution
    # Held in the tally: still counted in flight (no room appears), not yet logged.
    assert (book.logged, len(book.log)) == (logged, log_entries)
    assert book.in_flight == 5.0
    assert c.outstanding == 5
    tally_last = clock.now - 0.0005
    clock.now += 0.005  # past the resolution: the next answer tells the four first
    gov.settle(permits[4], 200, None)
    assert book.logged == logged + 4.0
    assert book.log[-1] == (tally_last, 4.0)  # one entry, stamped at the tally's last answer
    assert book.in_flight == 1.0
    assert c.outstanding == 1
    assert c.srtt > 0.0
    gov.snapshot()  # a report tells what is left
    assert (book.logged, book.in_flight, book.lane_open, c.outstanding) == (logged + 5, 0, 0, 0)
    assert book.log[-1] == (clock.now, 1.0)


async def test_a_task_waiting_in_the_class_has_every_answer_told_at_once() -> None:
    clock = FakeClock()
    gov = governor(clock, {READ: 4})
    await started(gov)
    clock.now += 2.5  # the first request left the window
    book = book_of(gov)
    permits = lane_permits(gov, 4)
    assert gov.try_acquire(DESCRIBE) is None  # the budget is full
    gov.settle(permits[0], 200, None)  # tallied: nobody waits yet
    assert book.logged == 0.0
    waiter = asyncio.ensure_future(gov.acquire(DESCRIBE))
    await asyncio.sleep(0)  # it joins the queue: the general path told the tally first
    assert not waiter.done()
    assert book.logged == 1.0
    clock.now += 0.0001
    gov.settle(permits[1], 200, None)  # within the resolution, but a task waits: told
    assert book.logged == 2.0
    assert gov.gate(READ).controller.outstanding == 2
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    for permit in permits[2:]:
        gov.settle(permit, 200, None)
    gov.snapshot()
    assert book.logged == 4.0
    assert book.in_flight == 0.0


def two_clients(clock: FakeClock, limit: float) -> tuple[MemoryStore, Governor, Governor]:
    """Two governors of exact ``limit`` on one store (as two clients of one project)."""
    store = MemoryStore(clock=clock)
    limits = RateLimits(window=2.0, limits={READ: limit})
    return (
        store,
        Governor(limits, store=store, clock=clock),
        Governor(limits, store=store, clock=clock),
    )


async def test_another_client_of_the_book_tells_a_tally_before_its_general_path() -> None:
    clock = FakeClock()
    store, mine, theirs = two_clients(clock, 3)
    await started(mine)
    clock.now += 2.5
    permits = lane_permits(mine, 3)
    for permit in permits:
        mine.settle(permit, 200, None)  # all three tallied (no answer past the resolution)
    assert store.book(READ).logged == 0.0
    assert store.book(READ).in_flight == 3.0
    # The other client goes the general way (its first request): it tells the tally first and
    # sees three logged requests, which leave the window 2 s after their answers.
    late = asyncio.ensure_future(theirs.acquire(DESCRIBE, deadline=None))
    await asyncio.sleep(0)
    assert store.book(READ).logged == 3.0
    assert store.book(READ).in_flight == 0.0
    assert not late.done()  # the window is full
    late.cancel()
    with pytest.raises(asyncio.CancelledError):
        await late


async def test_a_closed_client_tells_its_tally_and_leaves_the_book() -> None:
    clock = FakeClock()
    gov = governor(clock)
    await started(gov)
    book = book_of(gov)
    permits = lane_permits(gov, 3)
    for permit in permits:
        gov.settle(permit, 200, None)
    assert [type(lane) for lane in book.lanes] == [Lane]
    await gov.aclose()
    assert book.lanes == []
    assert (book.logged, book.in_flight, book.lane_open) == (4.0, 0.0, 0)


def _slow_start(limit: float) -> Controller:
    c = Controller(limit=limit, window=60.0, adaptive=True, levels=(100.0, 1000.0))
    c.outstanding = 40
    c.accepted(0.05, 1.0, False, False, 0.0)  # the burst began
    return c


@pytest.mark.parametrize("saturated", [False, True])
@pytest.mark.parametrize("limit", [30.0, 2000.0])  # below the plans' levels, and past them
def test_answers_told_together_move_the_controller_as_one_by_one(
    limit: float, saturated: bool
) -> None:
    one_by_one, together = _slow_start(limit), _slow_start(limit)
    assert together.may_tally()
    rtt, answers = 0.04, 30
    began = together.step_began
    for _ in range(answers):
        one_by_one.accepted(1.0 + rtt, 1.0, saturated, False, 1.0)
    measured = (1.0 + rtt) - 1.0  # the round trip as the controller computes it
    together.accepted_together(1.0 + rtt, answers, answers, answers, saturated, measured * answers)
    assert together.limit == one_by_one.limit  # one step, or none, either way
    assert together.limit > limit or (not saturated and limit < 1000.0)
    assert together.outstanding == one_by_one.outstanding == 40 - 1 - answers
    assert together.srtt == pytest.approx(one_by_one.srtt, rel=1e-12)
    assert together.rtt_min == one_by_one.rtt_min
    assert together.step_began >= began


def test_no_tally_while_a_429_episode_or_a_pause_is_open() -> None:
    c = _slow_start(30.0)
    assert c.may_tally()
    c.rate_limited(2.0, usage=10.0, retry_after=None, probe=False, taken_at=1.9)
    assert not c.may_tally()  # an episode: each answer tells whether it was noise
    for i in range(3):
        c.accepted(2.1 + i * 0.01, 1.0, False, False, 2.05)
    assert c.may_tally()  # noise, and the accepted answers ended the pause


async def test_a_roomy_budget_grants_permits_ahead_and_takes_back_those_not_used() -> None:
    clock = FakeClock()
    gov = governor(clock, {READ: 300})
    await started(gov)
    book = book_of(gov)
    c = gov.gate(READ).controller
    first = lane_permits(gov, 1)  # far from the limit: CREDIT more granted ahead
    assert book.in_flight == 1 + CREDIT
    assert c.outstanding == book.lane_open == 1 + CREDIT
    ahead = lane_permits(gov, CREDIT)  # from the credit: the book does not move
    assert book.in_flight == 1 + CREDIT
    assert gov.stats[READ].granted == 2 + CREDIT
    again = lane_permits(gov, 3)  # the credit is spent: a take, CREDIT more ahead
    assert book.in_flight == 2 + 2 * CREDIT
    for permit in first + ahead:
        gov.settle(permit, 200, None)
    report = gov.snapshot()[READ]  # a report takes back what was not used
    assert report["granted"] == 1 + 1 + CREDIT + 3
    assert book.in_flight == 3.0  # the three of `again`, in flight
    assert c.outstanding == book.lane_open == 3
    assert book.logged == 2 + CREDIT
    for permit in again:
        gov.settle(permit, 200, None)
    gov.snapshot()
    assert (book.in_flight, book.lane_open, c.outstanding) == (0.0, 0, 0)


async def test_no_permits_ahead_near_the_limit() -> None:
    clock = FakeClock()
    gov = governor(clock, {READ: 3 * CREDIT})
    await started(gov)
    lane_permits(gov, 1)
    assert book_of(gov).in_flight == 1.0  # the room left is below 4 x CREDIT: one by one


async def test_a_429_takes_back_the_permits_granted_ahead_and_blocks_the_class() -> None:
    clock = FakeClock()
    gov = governor(clock, {READ: 300})
    await started(gov)
    book = book_of(gov)
    permit, ahead = lane_permits(gov, 2)
    gov.settle(ahead, 429, 1.0)  # the general path: the credit back, the class blocked
    assert book.in_flight == 1.0
    assert gov.try_acquire(DESCRIBE) is None
    clock.now += 1.0
    assert gov.try_acquire(DESCRIBE) is not None
    gov.settle(permit, 200, None)


async def test_another_client_takes_back_the_permits_granted_ahead() -> None:
    clock = FakeClock()
    store, mine, theirs = two_clients(clock, 300)
    await started(mine)
    lane_permits(mine, 1)
    assert store.book(READ).in_flight == 1 + CREDIT
    permit = await theirs.acquire(DESCRIBE)  # the general path: it sees the real room
    assert store.book(READ).in_flight == 2.0
    theirs.settle(permit, 200, None)


async def test_a_client_dropped_unclosed_gives_back_its_credit_and_leaves_the_book() -> None:
    clock = FakeClock()
    store, mine, theirs = two_clients(clock, 300)
    await started(mine)
    for permit in lane_permits(mine, 3):  # the first take grants CREDIT ahead
        mine.settle(permit, 200, None)  # tallied
    book = store.book(READ)
    assert book.in_flight == 1 + CREDIT  # the three tallied, the rest of the credit unused
    del mine, permit
    gc.collect()  # a client dropped without closing: its governor is gone
    permit = await theirs.acquire(DESCRIBE)
    # The other client's general path told the dropped lane's tally, took back its credit and
    # let the lane go: nothing of it stays counted, and the book no longer visits it.
    assert book.in_flight == 1.0
    assert book.logged == 1.0 + 3.0
    assert [lane.owner() for lane in book.lanes] == [theirs]
    theirs.settle(permit, 200, None)
