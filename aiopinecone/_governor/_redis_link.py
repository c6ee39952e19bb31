"""The link from one process to the shared Redis, and the local fallback while it is down.

:class:`RedisLink` is the base of :class:`~aiopinecone._governor._redis.RedisStore`: the
connection, the key names, and what happens when Redis is unreachable or fails (at start or
mid-run). The store then falls back to a local :class:`~aiopinecone._governor.MemoryStore` with
one warning on the ``aiopinecone`` logger per outage; no call fails or waits for Redis. A
background probe (every ``reconnect_interval``) notices when Redis is back; from then on the
processes share again (settles that could not reach Redis are replayed). Each process then limits
alone, at the full budget: the controller's 429 handling absorbs the overlap until Redis returns.
"""

from __future__ import annotations

import asyncio
import logging
import math
from typing import TYPE_CHECKING, Any, Final

from .._redisconn import connect, describe_url
from ._redis_lua import SETTLE
from ._store import GRANT_TTL, Grant, MemoryStore

if TYPE_CHECKING:
    import redis.asyncio as aioredis

__all__ = ["RedisLink"]

logger = logging.getLogger("aiopinecone")

_MAX_PENDING: Final = 10_000


class RedisLink:
    """The Redis at ``url`` for the budgets of ``namespace``, with the local store that stands
    in while Redis is down (see the module docstring for the parameters' meaning)."""

    def __init__(
        self,
        url: str,
        *,
        namespace: str = "default",
        timeout: float = 2.0,
        reconnect_interval: float = 1.0,
        grant_ttl: float = GRANT_TTL,
    ) -> None:
        self.url = url
        self.namespace = namespace
        self.reconnect_interval = reconnect_interval
        self.grant_ttl = grant_ttl
        self.local = MemoryStore()
        self._redis: aioredis.Redis = connect(url, timeout=timeout)
        self._settle = self._redis.register_script(SETTLE)
        self._down = False
        self._probe: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[Any]] = set()
        self._pending: list[tuple[Grant, bool, float | None]] = []
        self.outages = 0

    @property
    def shared(self) -> bool:
        """False while Redis is unreachable and this process limits alone."""
        return not self._down

    def _keys(self, key: str) -> list[str]:
        tag = f"aiopinecone:rate:{{{self.namespace}:{key}}}"
        return [f"{tag}:log", f"{tag}:open", f"{tag}:meta"]

    def _keep_ms(self, window: float = 0.0) -> int:
        return math.ceil((2 * max(window, 60.0) + self.grant_ttl) * 1000)

    # -- failure handling -------------------------------------------------------------------

    def _failed(self, exc: BaseException, doing: str) -> None:
        if not self._down:
            self._down = True
            self.outages += 1
            logger.warning(
                "rate budget: Redis at %s failed while %s (%s: %s); limiting in this process "
                "alone until it answers again",
                describe_url(self.url),
                doing,
                type(exc).__name__,
                exc,
            )
        if self._probe is None or self._probe.done():
            self._probe = asyncio.get_running_loop().create_task(
                self._probe_loop(), name="aiopinecone redis probe"
            )

    async def _probe_loop(self) -> None:
        while True:
            await asyncio.sleep(self.reconnect_interval)
            try:
                await self._redis.ping()
            except Exception as exc:  # still down: look again later
                logger.debug("rate budget: Redis still unreachable: %s", type(exc).__name__)
                continue
            # Settles that could not reach Redis (after a restart they find nothing: no-ops).
            # Scripts are gone after a restart too; redis-py reloads them on NOSCRIPT.
            pending, self._pending = self._pending, []
            try:
                while pending:
                    grant, counted, cost = pending[0]
                    await self._settle_shared(grant, counted, cost)
                    pending.pop(0)
            except Exception:
                self._pending[:0] = pending
                continue
            self._down = False
            logger.warning(
                "rate budget: Redis at %s answers again; sharing the budget again",
                describe_url(self.url),
            )
            return

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _queue(self, grant: Grant, counted: bool, cost: float | None) -> None:
        if len(self._pending) < _MAX_PENDING:
            self._pending.append((grant, counted, cost))

    async def _settle_shared(self, grant: Grant, counted: bool, cost: float | None) -> None:
        await self._settle(
            keys=self._keys(grant.key),
            args=[
                str(grant.id),
                "1" if counted else "0",
                "" if cost is None else repr(float(cost)),
                self._keep_ms(),
            ],
        )

    async def aclose(self) -> None:
        """Stop the reconnect probe, finish pending settles, close the connections."""
        probe, self._probe = self._probe, None
        if probe is not None:
            probe.cancel()
        tasks = [t for t in (probe, *self._background) if t is not None]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        await self._redis.aclose()
