"""Waiting for a permit: one class's FIFO queue of waiting tasks, and how they are woken.

The :class:`~aiopinecone._governor.Governor` keeps one :class:`ClassQueue` per operation class.
Only its head asks the store; when the head gets a permit it hands permits on to the waiters
behind it while the budget has room (:func:`hand_on`), in order and in the same step. A waiter
behind the head awaits a bare future; one timer per queue (:func:`expire_by`), not one per
waiter, wakes those whose call's deadline passed (:class:`~aiopinecone.RequestTimeoutError`).
The head sleeps with a timer (:func:`sleep`), bounded by its deadline; an answer that changes
the budget wakes the queue (:func:`wake_queue`).
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..exceptions import RequestTimeoutError
from ._gate import Ticket

if TYPE_CHECKING:
    from ._classstats import ClassStats
    from ._gate import ClassGate

__all__ = [
    "ClassQueue",
    "Waiter",
    "expire_by",
    "hand_on",
    "late",
    "sleep",
    "stop_expiry",
    "wake",
    "wake_queue",
]


def wake(future: asyncio.Future[Any]) -> None:
    """Resolve ``future`` (with None) unless it already is."""
    if not future.done():
        future.set_result(None)


class Waiter:
    """A task waiting for a permit: its future (a :class:`Ticket` when a predecessor granted it
    one, ``None`` when it is the head and must look itself, or its deadline passed), its cost
    and its call's deadline (``clock`` time)."""

    __slots__ = ("cost", "deadline", "future")

    def __init__(
        self, future: asyncio.Future[Ticket | None], cost: float, deadline: float | None
    ) -> None:
        self.future = future
        self.cost = cost
        self.deadline = deadline


class ClassQueue:
    """One class's FIFO of waiting tasks, with its gate and counters (one lookup per request)."""

    __slots__ = ("changed", "gate", "stats", "timer", "timer_at", "timer_loop", "waiters")

    def __init__(self, gate: ClassGate, stats: ClassStats) -> None:
        self.gate = gate
        self.stats = stats
        self.waiters: deque[Waiter] = deque()
        self.changed: asyncio.Future[None] | None = None
        self.timer: asyncio.TimerHandle | None = None
        """Wakes the waiters whose deadline passed (:func:`expire_by`), at ``timer_at``."""
        self.timer_at = math.inf
        self.timer_loop: asyncio.AbstractEventLoop | None = None


def expire_by(
    queue: ClassQueue,
    deadline: float,
    clock: Callable[[], float],
    loop: asyncio.AbstractEventLoop,
) -> None:
    """Make sure the queue's timer fires by ``deadline`` (``clock`` time). One timer serves
    every waiter (deadlines mostly grow along the FIFO, so it is rarely moved); a waiter
    granted in time costs no timer of its own."""
    if queue.timer is not None and queue.timer_loop is loop and queue.timer_at <= deadline:
        return
    if queue.timer is not None:
        queue.timer.cancel()
    queue.timer_at = deadline
    queue.timer_loop = loop
    queue.timer = loop.call_later(deadline - clock(), _expire, queue, clock, loop)


def _expire(queue: ClassQueue, clock: Callable[[], float], loop: asyncio.AbstractEventLoop) -> None:
    """The queue's timer: wake the waiters whose deadline passed (they raise :func:`late`);
    set the timer again for the soonest deadline still ahead."""
    queue.timer = None
    queue.timer_at = math.inf
    now = clock()
    soonest = math.inf
    for waiter in queue.waiters:
        deadline = waiter.deadline
        if deadline is None:
            continue
        if deadline <= now:
            wake(waiter.future)
        elif deadline < soonest:
            soonest = deadline
    if soonest < math.inf:
        expire_by(queue, soonest, clock, loop)


def stop_expiry(queue: ClassQueue) -> None:
    """The queue is empty: its timer has nobody to wake."""
    if queue.timer is not None:
        queue.timer.cancel()
        queue.timer = None
        queue.timer_at = math.inf


def wake_queue(queue: ClassQueue, _task: object = None) -> None:
    """The budget changed: the queue's head looks again (also a task's done callback)."""
    changed = queue.changed
    if changed is not None and not changed.done():
        changed.set_result(None)


def hand_on(gate: ClassGate, queue: ClassQueue, me: Waiter, now: float) -> None:
    """The head got its permit: grant the waiters behind it while the budget has room, in
    order, in this same step (no event-loop round per waiter)."""
    waiters = queue.waiters
    if waiters and waiters[0] is me:
        waiters.popleft()
    while waiters:
        nxt = waiters[0]
        if nxt.future.done():
            break
        got = gate.try_take(now, nxt.cost, now)
        if type(got) is not Ticket:
            break
        waiters.popleft()
        nxt.future.set_result(got)


async def sleep(
    future: asyncio.Future[Any],
    seconds: float | None,
    deadline: float | None,
    clock: Callable[[], float],
    cls: str,
    began: float,
) -> None:
    """Wait until ``future`` is resolved or ``seconds`` have passed (None: no limit); past
    ``deadline`` (``clock`` time) raise :func:`late` instead."""
    timeout = seconds
    if deadline is not None:
        left = deadline - clock()
        if seconds is None or left < seconds:
            if left <= 0:
                raise late(clock, cls, began)
            timeout = left
    if timeout is not None and math.isinf(timeout):
        timeout = None
    # A bare future and a timer (no wait_for/shield: no extra task per wait).
    timer = None
    if timeout is not None:
        timer = asyncio.get_running_loop().call_later(timeout, wake, future)
    try:
        await future
    finally:
        if timer is not None:
            timer.cancel()
    if deadline is not None and clock() >= deadline:
        raise late(clock, cls, began)


def late(clock: Callable[[], float], cls: str, began: float) -> RequestTimeoutError:
    """The error of a call whose deadline passed while it waited for the budget of ``cls``."""
    waited = clock() - began
    return RequestTimeoutError(
        f"timed out after waiting {waited:.3f} s for the rate budget of {cls} "
        "(the call's timeout ran out before the rate limit allowed the request)",
        ambiguous=False,
    )
