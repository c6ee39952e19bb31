"""The pool's connections as slots, so that the wait for one is apart from the request timeout.

A request takes a slot before it goes to aiohttp (see ``_transport.py``) and gives it back with
its connection; when every slot is taken it waits, FIFO, at most the client's ``pool_timeout``.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Final

__all__ = ["PoolSlots"]


class PoolSlots:
    """The pool's connections as slots: a request holds one from before it is sent until its
    connection is given back. FIFO; a free slot is taken without awaiting."""

    __slots__ = ("free", "size", "waiters")

    def __init__(self, size: int) -> None:
        self.size: Final = size
        self.free = size
        self.waiters: deque[asyncio.Future[None]] = deque()

    async def wait(self, timeout: float | None) -> bool:
        """Wait for a slot (when none is free); ``False`` after ``timeout`` seconds."""
        future = asyncio.get_running_loop().create_future()
        self.waiters.append(future)
        try:
            async with asyncio.timeout(timeout):
                await future
        except BaseException as exc:
            if future.done() and not future.cancelled() and future.exception() is None:
                self.release()  # handed to us as we gave up: hand it on
            else:
                future.cancel()
            if isinstance(exc, TimeoutError):
                return False
            raise
        return True

    def fail_waiters(self, error: BaseException) -> None:
        """Wake every waiter with ``error`` (the client was closed)."""
        waiters, self.waiters = self.waiters, deque()
        for future in waiters:
            if not future.done():
                future.set_exception(error)

    def release(self) -> None:
        """Give a slot back: to the longest waiter, else to the free count."""
        waiters = self.waiters
        while waiters:
            future = waiters.popleft()
            if not future.done():
                future.set_result(None)
                return
        self.free += 1
