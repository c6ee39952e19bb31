"""Readiness by polling ``list``: one request answers for every assistant being waited for.

Polls are batched. While creates are still being sent, a poll waits until about
``ready_batch`` assistants are expected to be Ready (each is expected ``estimate`` seconds after
it started waiting); once the creates are done it polls for the first expected one. No
assistant waits more than ``max_ready_lag`` past its expected time, and two polls are at least
``min_poll_gap`` apart. The estimate is learnt: a poll that finds none of the due assistants
Ready means it was too early (x1.5); one that finds all of them, maybe too late (x0.9).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import Final, Protocol

import attrs

from ..exceptions import AssistantFailedError, WaitTimeoutError
from ..models.assistants import Assistant, AssistantStatus

__all__ = ["PollerHost", "ReadinessPoller"]

_MAX_LIST_FAILURES: Final = 5
"""Consecutive failed polls before every waiting assistant fails with the error."""


class PollerHost(Protocol):
    """What the poller needs from the run it serves."""

    clock: Callable[[], float]
    ready_timeout: float
    ready_estimate: float
    ready_batch: int
    max_ready_lag: float
    min_poll_gap: float
    creates_pending: int

    async def list_assistants(self) -> list[Assistant]: ...


@attrs.define
class _Waiter:
    name: str
    registered: float
    deadline: float
    future: asyncio.Future[Assistant]


class ReadinessPoller:
    """One task answering "is it Ready?" for every pending assistant with one ``list`` per poll."""

    def __init__(self, run: PollerHost) -> None:
        self._run = run
        self._clock = run.clock
        self._waiters: dict[str, _Waiter] = {}
        self._changed = asyncio.Event()
        self.estimate = run.ready_estimate
        self.polls = 0
        self._last_poll = -math.inf
        self._failures = 0

    def watch(self, name: str) -> asyncio.Future[Assistant]:
        """A future resolved with the assistant once a poll sees it Ready."""
        now = self._clock()
        waiter = self._waiters.get(name)
        if waiter is None:
            future: asyncio.Future[Assistant] = asyncio.get_running_loop().create_future()
            waiter = _Waiter(name, now, now + self._run.ready_timeout, future)
            self._waiters[name] = waiter
        self._changed.set()
        return waiter.future

    def forget(self, name: str) -> None:
        """Stop waiting for ``name`` (its task ended another way)."""
        waiter = self._waiters.pop(name, None)
        if waiter is not None and not waiter.future.done():
            waiter.future.cancel()

    def fail_all(self, error: BaseException) -> None:
        """End every wait with ``error``."""
        for waiter in self._waiters.values():
            if not waiter.future.done():
                waiter.future.set_exception(error)
        self._waiters.clear()

    def poke(self) -> None:
        """Something that changes the schedule happened (a create ended)."""
        self._changed.set()

    def next_poll_at(self, now: float) -> float | None:
        """When to poll next (``None``: nothing to wait for)."""
        if not self._waiters:
            return None
        run = self._run
        expected = sorted(w.registered + self.estimate for w in self._waiters.values())
        # While creates are still going out, wait for a batch; at the end, poll for the first.
        k = run.ready_batch if run.creates_pending > 0 else 1
        k = max(1, min(k, len(expected)))
        at = min(expected[k - 1], expected[0] + run.max_ready_lag)
        return max(at, expected[0], self._last_poll + run.min_poll_gap)

    async def run(self) -> None:
        while True:
            now = self._clock()
            at = self.next_poll_at(now)
            if at is None or at > now:
                self._changed.clear()
                timeout = None if at is None else at - now
                try:
                    async with asyncio.timeout(timeout):
                        await self._changed.wait()
                except TimeoutError:
                    pass
                continue
            await self._poll()

    async def _poll(self) -> None:
        run = self._run
        began = self._clock()
        self._last_poll = began
        due = {n for n, w in self._waiters.items() if w.registered + self.estimate <= began}
        try:
            assistants = await run.list_assistants()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._failures += 1
            if self._failures >= _MAX_LIST_FAILURES:
                self.fail_all(exc)
                self._failures = 0
            return
        self._failures = 0
        self.polls += 1
        now = self._clock()
        resolved: set[str] = set()
        for assistant in assistants:
            waiter = self._waiters.get(assistant.name)
            if waiter is None:
                continue
            if assistant.status == AssistantStatus.READY:
                if not waiter.future.done():
                    waiter.future.set_result(assistant)
                resolved.add(assistant.name)
            elif assistant.status in AssistantStatus.TERMINAL_FAILURES:
                if not waiter.future.done():
                    waiter.future.set_exception(
                        AssistantFailedError(
                            f"assistant {assistant.name!r} is {assistant.status} and will not "
                            "become Ready",
                            name=assistant.name,
                            status=assistant.status,
                        )
                    )
                resolved.add(assistant.name)
        for name, waiter in list(self._waiters.items()):
            if name not in resolved and now >= waiter.deadline and not waiter.future.done():
                waiter.future.set_exception(
                    WaitTimeoutError(
                        f"assistant {name!r} was not Ready after {run.ready_timeout} s",
                        last_status=None,
                    )
                )
                resolved.add(name)
        for name in resolved:
            self._waiters.pop(name, None)
        # Learn the ready delay: nothing that was due became Ready -> we polled too early.
        if due:
            if not due & resolved:
                self.estimate = min(self.estimate * 1.5, run.max_ready_lag)
            elif due <= resolved:
                self.estimate = max(self.estimate * 0.9, run.min_poll_gap)
