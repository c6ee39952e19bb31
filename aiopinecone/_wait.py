"""The one wait-until helper: poll a status until done, with growing delays and a time budget.

Every wait of the client (an assistant Ready or gone, a file processed or gone, an operation
finished) is :func:`wait_until` with a ``poll`` that makes one request and says what it saw::

    async def poll() -> Polled:
        found = await describe()
        if found.failed:
            raise SomethingFailedError(...)        # a failure ends the wait at once
        return Polled(done=found.ready, status=found.status, percent=found.percent)

    await wait_until(poll, timeout=300.0, what=f"assistant {name!r} was not Ready")

Between polls it sleeps ``_retry.poll_delays(first_delay, max_delay)`` (1 s, 2 s, 4 s... capped
at 10 s, jittered; 20 ms in retry testing mode). After ``timeout`` seconds (``None``: no limit)
it raises :class:`~aiopinecone.WaitTimeoutError` ``"{what} after {timeout} s (last status: ...)"``
carrying the last status seen. ``progress`` (optional) is called with each percentage seen and
100 when done; it may be a coroutine function.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Final, NamedTuple, TypeAlias

from ._retry import poll_delays
from ._validation import check_seconds
from .exceptions import ValidationError, WaitTimeoutError

__all__ = ["FIRST_POLL", "MAX_POLL", "Polled", "ProgressCallback", "report", "wait_until"]

FIRST_POLL: Final = 1.0
MAX_POLL: Final = 10.0

ProgressCallback: TypeAlias = Callable[[float], Awaitable[object] | object]
"""A progress callback: called with the percentage done (0-100); may be a coroutine function."""


class Polled(NamedTuple):
    """What one poll saw: whether the wait is over, the status, the percentage done if known.

    A named tuple, not an attrs class: it is internal, and an attrs class costs about ten times
    as much to create at import ("Import weight" in docs/architecture.md).
    """

    done: bool
    status: str | None = None
    percent: float | None = None


def check_wait_timeout(timeout: object, field: str = "wait_timeout") -> float | None:
    """``None`` (no limit) or a number of seconds > 0."""
    return check_seconds(timeout, field, allow_none=True)


def check_progress(progress: object) -> None:
    """``None`` or a callable."""
    if progress is not None and not callable(progress):
        raise ValidationError(f"progress must be a callable or None, got {progress!r}")


async def report(progress: ProgressCallback | None, percent: float | None) -> None:
    """Call ``progress(percent)`` (awaiting it when it returns an awaitable)."""
    if progress is None or percent is None:
        return
    result = progress(percent)
    if inspect.isawaitable(result):
        await result


async def wait_until(
    poll: Callable[[], Awaitable[Polled]],
    *,
    timeout: float | None,
    what: str,
    progress: ProgressCallback | None = None,
    first_delay: float = FIRST_POLL,
    max_delay: float = MAX_POLL,
) -> Polled:
    """Call ``poll()`` until it returns ``Polled(done=True)``; return that last ``Polled``.

    ``poll`` raises to end the wait with a failure. See the module docstring for the delays,
    the timeout and progress.
    """
    last: str | None = None
    delays = poll_delays(first_delay, max_delay)
    budget = asyncio.timeout(timeout)
    try:
        async with budget:
            while True:
                seen = await poll()
                last = seen.status
                if seen.done:
                    await report(progress, 100.0)
                    return seen
                await report(progress, seen.percent)
                await asyncio.sleep(next(delays))
    except TimeoutError:
        if budget.expired():
            raise WaitTimeoutError(
                f"{what} after {timeout} s (last status: {last})", last_status=last
            ) from None
        raise
