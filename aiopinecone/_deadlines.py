"""The total timeout of a client's buffered requests, kept with one loop timer per client.

aiohttp's own total timeout (``ClientTimeout.total``) costs a loop timer per request: a
``TimerHandle`` pushed on the loop's heap (Python-level comparisons), a timer context entered
and left, the handle cancelled at the end and swept from the heap later. Measured under
valgrind that is about 25k of the ~360k instructions a request costs (7%; see "Issue 11" in
``benchmarks/RESULTS.md``). Here a request's deadline is an entry in a dict instead, and one
timer per client fires at the earliest deadline:

- calls with the same timeout end their deadlines in the order they began, so each distinct
  timeout value keeps its calls in an insertion-ordered dict (a *lane*): the first entry of a
  lane is its earliest deadline, adding and removing an entry are O(1);
- the timer is set for the earliest first entry; when it fires it expires every entry past its
  deadline (the task is cancelled, as aiohttp and ``asyncio.timeout`` do) and sets itself for
  the next first entry. Calls that end in time only remove their entry, so the timer fires about
  once per timeout span, not once per request.

:meth:`Deadlines.timed_out` tells the cancelled task whether the cancellation is the timeout's
(then it raises a timeout error and ``uncancel``\\ s) or came from elsewhere (it propagates), with
the same rule as ``asyncio.timeout``.

A deadline is a tuple (one allocation, no Python frame: this runs for every request) and a lane
maps each task to its deadline's time, so **a task has one deadline at a time**: the client's
buffered calls end one attempt's deadline before the next begins, and a task makes one call at a
time.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from typing import Any, Final, TypeAlias

__all__ = ["SECONDS", "Deadline", "Deadlines"]

_ASYNCIO_TIME: Final = asyncio.BaseEventLoop.time
_current_task: Final = asyncio.current_task

_EARLY: Final = 1e-3
"""A deadline this close when the timer fires expires then (the loop may fire a timer up to its
clock resolution early; re-arming for a microsecond would spin)."""


Deadline: TypeAlias = "tuple[dict[asyncio.Task[Any], float], asyncio.Task[Any], int, float]"
"""One call's deadline, as :meth:`Deadlines.start` returns it: ``(lane, task, cancelling,
seconds)``: its lane, the task it stops, the task's cancel requests when it began, its timeout."""

_LANE: Final = 0
_TASK: Final = 1
_CANCELLING: Final = 2
SECONDS: Final = 3


class Deadlines:
    """The deadlines of one client's requests (see the module docstring)."""

    __slots__ = ("_armed_at", "_expired", "_lanes", "_loop", "_now", "_timer")

    def __init__(self) -> None:
        self._lanes: dict[float, dict[asyncio.Task[Any], float]] = {}
        self._expired: set[asyncio.Task[Any]] = set()
        """Tasks whose deadline passed, until :meth:`timed_out` (or :meth:`stop`) is told."""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._now: Callable[[], float] = time.monotonic
        """The loop's clock (``loop.time``)."""
        self._timer: asyncio.TimerHandle | None = None
        self._armed_at = math.inf

    def start(self, seconds: float) -> Deadline:
        """The current task's deadline ``seconds`` from now (end it with :meth:`stop`)."""
        # The task is looked up in the loop of the last deadline: asyncio.get_running_loop()
        # is a system call on Python 3.11 (it compares the process id, for fork safety) and
        # costs more than the rest of this method. A task of that loop running now means that
        # loop runs now (aiohttp, like asyncio, does not share one session between threads).
        loop = self._loop
        if loop is None or (task := _current_task(loop)) is None:
            loop, task = self._enter()
        at = self._now() + seconds
        lane = self._lanes.get(seconds)
        if lane is None:
            lane = self._lanes[seconds] = {}
        lane[task] = at
        if at < self._armed_at:
            self._arm(loop, at)
        return (lane, task, task.cancelling(), seconds)

    def stop(self, deadline: Deadline) -> None:
        """The call ended (in time or not): its deadline no longer counts. Idempotent. (The
        transport does the first step inline for a call that ended in time.)"""
        task = deadline[_TASK]
        deadline[_LANE].pop(task, None)
        if self._expired:
            self._expired.discard(task)

    def timed_out(self, deadline: Deadline) -> bool:
        """Called by the task on ``CancelledError``: true when the cancellation is this
        deadline's own (the task's cancel request is then withdrawn: raise a timeout error);
        false when someone else cancelled the task too (let the cancellation propagate)."""
        task = deadline[_TASK]
        if task not in self._expired:
            return False
        self._expired.discard(task)
        return task.uncancel() <= deadline[_CANCELLING]

    def close(self) -> None:
        """Stop the timer (the client closes; calls still running keep their own fate)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._armed_at = math.inf

    def pending(self) -> int:
        """How many deadlines are running (for tests and reports)."""
        return sum(len(lane) for lane in self._lanes.values())

    def _enter(self) -> tuple[asyncio.AbstractEventLoop, asyncio.Task[Any]]:
        """The running loop and task (first use, or a client driven from another loop)."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._reset(loop)
        task = _current_task(loop)
        if task is None:
            raise RuntimeError("a request must run inside an asyncio task")
        return loop, task

    def _reset(self, loop: asyncio.AbstractEventLoop) -> None:
        self.close()
        self._lanes.clear()
        self._expired.clear()
        self._loop = loop
        # asyncio's own loops read time.monotonic() in a Python method: call it directly.
        self._now = time.monotonic if type(loop).time is _ASYNCIO_TIME else loop.time

    def _arm(self, loop: asyncio.AbstractEventLoop, at: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._armed_at = at
        self._timer = loop.call_at(at, self._fire)

    def _fire(self) -> None:
        self._timer = None
        self._armed_at = math.inf
        loop = self._loop
        assert loop is not None
        due = loop.time() + _EARLY
        earliest = math.inf
        if self._expired:  # (a task that ended some other way is not told; let it go)
            self._expired = {task for task in self._expired if not task.done()}
        for seconds, lane in list(self._lanes.items()):
            while lane:
                task = next(iter(lane))
                at = lane[task]
                if at > due:
                    earliest = min(earliest, at)
                    break
                del lane[task]
                self._expire(task)
            if not lane:  # calls computing their own timeouts must not leave a lane each
                del self._lanes[seconds]
        if earliest < math.inf:
            self._arm(loop, earliest)

    def _expire(self, task: asyncio.Task[Any]) -> None:
        """``task``'s deadline passed: cancel it, as ``asyncio.timeout`` does."""
        self._expired.add(task)
        task.cancel()
