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

:meth:`Deadline.timed_out` tells the cancelled task whether the cancellation is the timeout's
(then it raises a timeout error and ``uncancel``\\ s) or came from elsewhere (it propagates), with
the same rule as ``asyncio.timeout``.
"""

from __future__ import annotations

import asyncio
import math
from typing import Final

__all__ = ["Deadline", "Deadlines"]

_EARLY: Final = 1e-3
"""A deadline this close when the timer fires expires then (the loop may fire a timer up to its
clock resolution early; re-arming for a microsecond would spin)."""


class Deadline:
    """One call's deadline: the task it stops, and whether it did."""

    __slots__ = ("at", "cancelling", "expired", "lane", "seconds", "task")

    def __init__(
        self, task: asyncio.Task[object], seconds: float, at: float, lane: dict[Deadline, None]
    ) -> None:
        self.task = task
        self.seconds = seconds
        self.at = at
        self.lane = lane
        self.cancelling = task.cancelling()
        self.expired = False

    def timed_out(self) -> bool:
        """Called by the task on ``CancelledError``: true when the cancellation is this
        deadline's own (the task's cancel request is then withdrawn: raise a timeout error);
        false when someone else cancelled the task too (let the cancellation propagate)."""
        return self.expired and self.task.uncancel() <= self.cancelling


class Deadlines:
    """The deadlines of one client's requests (see the module docstring)."""

    __slots__ = ("_armed_at", "_lanes", "_loop", "_timer")

    def __init__(self) -> None:
        self._lanes: dict[float, dict[Deadline, None]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._armed_at = math.inf

    def start(self, seconds: float) -> Deadline:
        """The current task's deadline ``seconds`` from now (end it with :meth:`stop`)."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # first use, or a client driven from another loop
            self._reset(loop)
        task = asyncio.current_task(loop)
        if task is None:
            raise RuntimeError("a request must run inside an asyncio task")
        at = loop.time() + seconds
        lane = self._lanes.get(seconds)
        if lane is None:
            lane = self._lanes[seconds] = {}
        deadline = Deadline(task, seconds, at, lane)
        lane[deadline] = None
        if at < self._armed_at:
            self._arm(loop, at)
        return deadline

    @staticmethod
    def stop(deadline: Deadline) -> None:
        """The call ended (in time or not): its deadline no longer counts. Idempotent."""
        deadline.lane.pop(deadline, None)

    def close(self) -> None:
        """Stop the timer (the client closes; calls still running keep their own fate)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._armed_at = math.inf

    def pending(self) -> int:
        """How many deadlines are running (for tests and reports)."""
        return sum(len(lane) for lane in self._lanes.values())

    def _reset(self, loop: asyncio.AbstractEventLoop) -> None:
        self.close()
        self._lanes.clear()
        self._loop = loop

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
        for seconds, lane in list(self._lanes.items()):
            while lane:
                deadline = next(iter(lane))
                if deadline.at > due:
                    earliest = min(earliest, deadline.at)
                    break
                del lane[deadline]
                deadline.expired = True
                deadline.task.cancel()
            if not lane:  # calls computing their own timeouts must not leave a lane each
                del self._lanes[seconds]
        if earliest < math.inf:
            self._arm(loop, earliest)
