"""The Redis budget store: one project's rate budget shared by every process that uses it.

:class:`RedisStore` implements :class:`~aiopinecone._governor.BudgetStore` with one Lua script
per step (``_redis_lua.py``), so each take, settle and block is atomic across processes, and every
stamp is Redis ``TIME``: processes on machines whose clocks disagree still share one window.
``Retry-After`` blocks (``block``) and the controller's learnt numbers (``load_state`` /
``save_state``) live in Redis too, so one process's 429 pauses the class everywhere and a new
process starts from what the others learnt.

Why our own scripts and not the ``limits`` library's async Redis moving window (checked against
limits 5.8, ``aio/storage/redis`` and ``resources/redis/lua_scripts/acquire_moving_window.lua``):

- its key embeds the limit (``key_for`` appends ``amount/multiples/granularity``): the adaptive
  controller changes the limit as it learns, and every change would start an empty window,
  forgetting the requests the server still counts (a burst of 429s after each step);
- it logs an entry when a request *starts* (``acquire_entry`` pushes the stamp), and has no
  notion of a request in flight: the server counts a request when it receives it, so an entry
  stamped at the start leaves the client's window before it leaves the server's (429s at every
  window edge under latency); we log at the *answer* and count open grants meanwhile;
- a 429 must give its slot back (the server did not count it), and a token budget corrects its
  cost from the answer's ``usage``: neither is possible once an entry is pushed;
- stamps are the caller's ``time.time()`` and windows whole seconds: machines with skewed clocks
  disagree about the window, and a time-scaled "minute" below a second cannot be expressed.

When Redis is unreachable or fails, the store falls back to a local
:class:`~aiopinecone._governor.MemoryStore` until Redis answers again: that machinery (the
connection, the outage warning, the reconnect probe, the replay of settles) is
:class:`~aiopinecone._governor._redis_link.RedisLink`. The sharing of learnt numbers is
:class:`~aiopinecone._governor._redis_state.RedisLearntState`. Both are this store's bases.
"""

from __future__ import annotations

import asyncio
import math
import os
from collections.abc import Awaitable, Mapping
from typing import TYPE_CHECKING, Any, Final

from .._redisconn import REDIS_URL_ENV, describe_url
from ._projects import project_namespace
from ._redis_lua import (
    BLOCK,
    GROW,
    HOLD_PROBES,
    OLDEST,
    TAKE,
    USAGE,
)
from ._redis_state import RedisLearntState
from ._store import GRANT_TTL, ON_SETTLE, Grant

if TYPE_CHECKING:
    from ._config import RateLimits

__all__ = [
    "REDIS_URL_ENV",
    "RedisStore",
    "project_namespace",
    "redis_store_from_env",
    "shared_store",
]

PROBE_GAP: Final = 0.25
"""After a refused probe, no process probes the class again for this share of the window (one
process alone spaces its refused probes up to a quarter window the same way)."""


class RedisStore(RedisLearntState):
    """A :class:`BudgetStore` in the Redis at ``url``, shared by every process using the same
    ``namespace`` (one namespace per Pinecone project).

    ``timeout`` bounds every Redis command (seconds); ``reconnect_interval`` is how often to look
    for Redis again after it failed; ``grant_ttl`` is the :data:`GRANT_TTL` of grants left open
    by a crashed process. Call :meth:`aclose` when done (the client does).
    """

    def __init__(
        self,
        url: str,
        *,
        namespace: str = "default",
        timeout: float = 2.0,
        reconnect_interval: float = 1.0,
        grant_ttl: float = GRANT_TTL,
    ) -> None:
        super().__init__(
            url,
            namespace=namespace,
            timeout=timeout,
            reconnect_interval=reconnect_interval,
            grant_ttl=grant_ttl,
        )
        self._take = self._redis.register_script(TAKE)
        self._block = self._redis.register_script(BLOCK)
        self._usage = self._redis.register_script(USAGE)
        self._oldest = self._redis.register_script(OLDEST)
        self._grow = self._redis.register_script(GROW)
        self._hold_probes = self._redis.register_script(HOLD_PROBES)

    def __repr__(self) -> str:
        state = "local fallback" if self._down else "shared"
        return f"RedisStore({describe_url(self.url)!r}, namespace={self.namespace!r}, {state})"

    # -- BudgetStore ------------------------------------------------------------------------

    async def take(self, key: str, *, cost: float, limit: float, window: float) -> Grant | float:
        """See :meth:`BudgetStore.take`; the local store's answer while Redis is down."""
        return (await self.take_learning(key, cost=cost, limit=limit, window=window))[0]

    async def take_learning(
        self, key: str, *, cost: float, limit: float, window: float, learning: bool = False
    ) -> tuple[Grant | float, float | None]:
        """:meth:`take`; ``learning`` (the caller is in slow start): against the project's
        shared slow-start limit instead of ``limit`` (``limit`` sets it if none is set yet),
        or, with ``limit=inf``, slow start's probe (only while no grant of anyone is open).
        Also returns that shared limit (None: not learning, or Redis not reached)."""
        if self._down:
            return self.local.take_now(key, cost, limit, window), None
        call = asyncio.ensure_future(
            self._take(
                keys=self._keys(key),
                args=[
                    repr(float(cost)),
                    repr(float(limit)),
                    repr(float(window)),
                    repr(float(self.grant_ttl)),
                    self._keep_ms(window),
                    repr(window * PROBE_GAP),
                    "1" if learning else "0",
                ],
            )
        )
        try:
            reply = await asyncio.shield(call)
        except asyncio.CancelledError:
            # The script may still take a grant for nobody: give it back when it arrives.
            call.add_done_callback(lambda done: self._orphan(key, cost, done))
            raise
        except Exception as exc:
            self._failed(exc, "taking a permit")
            return self.local.take_now(key, cost, limit, window), None
        ok, value = int(reply[0]), reply[1]
        text = value.decode() if isinstance(value, bytes) else str(value)
        self._note_version(key, reply[3])
        raw = reply[4] if len(reply) > 4 else b""
        shared_text = raw.decode() if isinstance(raw, bytes) else str(raw)
        shared = float(shared_text) if shared_text else None
        if ok:
            used = reply[2]
            grant = Grant(
                key, text, float(cost), float(used.decode() if isinstance(used, bytes) else used)
            )
            return grant, shared
        wait = float(text)
        return (ON_SETTLE if math.isinf(wait) else wait), shared

    async def grow(self, key: str, old: float, new: float) -> float | None:
        """Slow start's step for the whole project: the shared limit becomes ``new`` if it is
        still ``old`` (compare-and-set). Returns the shared limit now (None: Redis not
        reached; the caller keeps its own)."""
        if self._down:
            return None
        try:
            reply = await self._grow(
                keys=self._keys(key), args=[repr(float(old)), repr(float(new)), self._keep_ms()]
            )
        except Exception as exc:
            self._failed(exc, "sharing a slow-start step")
            return None
        return float(reply.decode() if isinstance(reply, bytes) else reply)

    async def settle_step(
        self, grant: Grant, old: float, new: float, *, saturated: bool = True
    ) -> tuple[float | None, bool]:
        """``settle(grant, counted=True)`` of an acceptance in the project's slow start at
        limit ``old``: it counts towards the step (every process's acceptances of grants taken
        since the step began); once they are all in, a ``saturated`` one grows the shared
        limit to ``new``. Returns the shared limit now (None: none shared, or Redis not reached) and
        whether the step is over at that limit (``old`` was stale: the caller grows it)."""
        if not isinstance(grant.id, str) or self._down:
            await self.settle(grant, counted=True)
            return None, False
        args: list[str | int] = [str(grant.id), "1", "", self._keep_ms(), "", "0"]
        args += [repr(float(old)), repr(float(new)), "1" if saturated else "0"]
        call = asyncio.ensure_future(self._settle(keys=self._keys(grant.key), args=args))
        try:
            reply = await asyncio.shield(call)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._failed(exc, "settling a permit")
            self._queue(grant, True, None)
            return None, False
        text = reply.decode() if isinstance(reply, bytes) else str(reply)
        due = text.endswith("!")
        try:
            return (float(text.rstrip("!")) if text.rstrip("!") else None), due
        except ValueError:
            return None, False

    async def refused(self, grant: Grant, block: float | None, *, real: bool = False) -> None:
        """``settle(grant, counted=False)`` and ``block(grant.key, block)`` in one step (a 429
        with a ``Retry-After``): no request of any process takes the freed slot first.
        ``real``: the wait shows a real limit; the project's slow start grows no more."""
        if block is None or not (math.isfinite(block) and block >= 0):
            await self.settle(grant, counted=False)
            return
        self.local.block_now(grant.key, block)
        if not isinstance(grant.id, str):
            self.local.settle_now(grant, False)
            return
        if self._down:
            self._queue(grant, False, None)
            return
        args: list[str | int] = [
            str(grant.id),
            "0",
            "",
            self._keep_ms(),
            repr(float(block)),
            "1" if real else "0",
        ]
        await self._settle_shielded(
            self._settle(keys=self._keys(grant.key), args=args), grant, False, None
        )

    async def hold_probes(self, key: str, seconds: float) -> None:
        """No process probes ``key`` past its budget for ``seconds`` (a refused probe confirmed
        the window: the one process that sent it would wait that long before the next)."""
        if self._down or not seconds > 0:
            return
        try:
            await self._hold_probes(
                keys=self._keys(key), args=[repr(float(seconds)), self._keep_ms()]
            )
        except Exception as exc:
            self._failed(exc, "sharing a probe hold")

    def _orphan(self, key: str, cost: float, done: asyncio.Future[Any]) -> None:
        if done.cancelled() or done.exception() is not None:
            return
        reply = done.result()
        if int(reply[0]):
            value = reply[1]
            grant_id = value.decode() if isinstance(value, bytes) else str(value)
            self._spawn(self.settle(Grant(key, grant_id, float(cost)), counted=False))

    async def settle(self, grant: Grant, *, counted: bool, cost: float | None = None) -> None:
        """See :meth:`BudgetStore.settle` (a grant taken locally is settled locally)."""
        if not isinstance(grant.id, str):
            self.local.settle_now(grant, counted, cost)
            return
        if self._down:
            self._queue(grant, counted, cost)
            return
        await self._settle_shielded(self._settle_shared(grant, counted, cost), grant, counted, cost)

    async def _settle_shielded(
        self, step: Awaitable[Any], grant: Grant, counted: bool, cost: float | None
    ) -> None:
        """Run a settle ``step`` in Redis, shielded (a cancelled caller must still give its slot
        back); when Redis fails, queue the settle for when it is back."""
        call = asyncio.ensure_future(step)
        try:
            await asyncio.shield(call)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._failed(exc, "settling a permit")
            self._queue(grant, counted, cost)

    async def block(self, key: str, seconds: float) -> None:
        """See :meth:`BudgetStore.block`; always blocks this process too."""
        self.local.block_now(key, seconds)
        if self._down:
            return
        try:
            await self._block(keys=self._keys(key), args=[repr(float(seconds)), self._keep_ms()])
        except Exception as exc:
            self._failed(exc, "sharing a Retry-After")

    async def usage(self, key: str, window: float) -> float:
        """See :meth:`BudgetStore.usage`: what every process had accepted in the window."""
        if not self._down:
            try:
                reply = await self._usage(keys=self._keys(key), args=[repr(float(window))])
            except Exception as exc:
                self._failed(exc, "reading the window")
            else:
                return float(reply.decode() if isinstance(reply, bytes) else reply)
        return self.local.usage_now(key, window)

    async def window_age(self, key: str, window: float) -> float | None:
        """Seconds since the oldest entry of any process still in the window (None: none, or
        Redis not reached): where a burst of several processes began."""
        if self._down:
            return None
        try:
            reply = await self._oldest(keys=self._keys(key), args=[repr(float(window))])
        except Exception as exc:
            self._failed(exc, "reading the window")
            return None
        text = reply.decode() if isinstance(reply, bytes) else str(reply)
        return float(text) if text else None


def redis_store_from_env(
    url: str | None = None, *, namespace: str = "default", environ: Mapping[str, str] | None = None
) -> RedisStore | None:
    """A :class:`RedisStore` for ``url``, else for ``$AIOPINECONE_RATE_REDIS_URL``, else None
    (``url=""``: None whatever the environment says)."""
    env = os.environ if environ is None else environ
    chosen = env.get(REDIS_URL_ENV) if url is None else url
    return RedisStore(chosen, namespace=namespace) if chosen else None


def shared_store(
    limits: RateLimits,
    *,
    api_key: str,
    host: str,
    environ: Mapping[str, str] | None = None,
) -> RedisStore | None:
    """The store a client's governor shares through Redis, or None (this process alone).

    The Redis URL is ``limits.redis_url``, else ``$AIOPINECONE_RATE_REDIS_URL``; the namespace
    ``limits.namespace``, else :func:`project_namespace`. The client closes it (``aclose``).
    """
    if not limits.enabled:
        return None
    namespace = limits.namespace or project_namespace(api_key, host)
    return redis_store_from_env(limits.redis_url, namespace=namespace, environ=environ)
