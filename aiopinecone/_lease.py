"""A named lease in Redis: at most one holder at a time, kept alive by renewal, expiring on a crash.

Two applies of the same fleet (or the same shard of it) must never run at once: they would race
on the same assistants. The lease is one Redis key, taken with ``SET key value NX PX ttl``; a
renewal task pushes its expiry forward every ``ttl / 3`` seconds while the holder works, and a
holder that crashes (or loses its network) stops renewing, so the key expires ``ttl`` seconds
later and the next apply may take it. Renewal and release are Lua scripts that act only when the
key still holds *this* holder's token: a holder whose lease expired never extends or deletes the
next holder's lease.

The key's value names the holder (host, process id, what it runs), so the second apply can say who
is in the way. It either waits up to ``wait`` seconds for the lease or raises
:class:`LeaseHeldError` at once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import time
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ._redisconn import connect, describe_url
from .exceptions import PineconeError

if TYPE_CHECKING:
    import redis.asyncio as aioredis

__all__ = ["Lease", "LeaseError", "LeaseHeldError"]

logger = logging.getLogger("aiopinecone")

KEY_PREFIX = "aiopinecone:lease:"

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""

_SEP = " | token "


class LeaseError(PineconeError):
    """The lease could not be taken (Redis unreachable or failing)."""


class LeaseHeldError(LeaseError):
    """Another process holds the lease: ``holder`` names it (host, pid, what it runs)."""

    def __init__(self, message: str, *, name: str, holder: str) -> None:
        super().__init__(message)
        self.name = name
        self.holder = holder


def _holder_of(value: Any) -> str:
    text = value.decode(errors="replace") if isinstance(value, bytes) else str(value)
    return text.partition(_SEP)[0] or "an unknown holder"


class Lease:
    """An exclusive, expiring lease named ``name`` in the Redis at ``redis_url``.

    ``async with Lease(url, "fleet:prod/shard 1 of 3", ttl=30, wait=0):`` holds it for the block.
    ``ttl`` (seconds) is how long the lease outlives a holder that stopped renewing (a crash);
    ``wait`` how long to wait for another holder to finish before :class:`LeaseHeldError`;
    ``description`` is added to the holder's name that others see. :attr:`lost` is set when a
    renewal found the lease gone (expired while Redis was unreachable and taken by another).
    """

    def __init__(
        self,
        redis_url: str,
        name: str,
        *,
        ttl: float = 30.0,
        wait: float = 0.0,
        description: str = "",
        poll_interval: float = 0.5,
    ) -> None:
        if not ttl > 0.05:
            raise ValueError(f"ttl must be > 0.05 s, got {ttl!r}")
        if not wait >= 0:
            raise ValueError(f"wait must be >= 0 s, got {wait!r}")
        self.name = name
        self.key = KEY_PREFIX + name
        self.ttl = float(ttl)
        self.wait = float(wait)
        self.poll_interval = poll_interval
        holder = f"{socket.gethostname()} pid {os.getpid()}"
        if description:
            holder += f" ({description})"
        self.holder = holder
        self._value = f"{holder}{_SEP}{secrets.token_hex(8)}"
        self._url = redis_url
        self._redis: aioredis.Redis | None = None
        self._renewer: asyncio.Task[None] | None = None
        self.lost = asyncio.Event()

    @property
    def _ttl_ms(self) -> int:
        return max(1, round(self.ttl * 1000))

    def _client(self) -> aioredis.Redis:
        if self._redis is None:
            self._redis = connect(self._url)
        return self._redis

    async def acquire(self) -> None:
        """Take the lease, waiting up to ``wait`` seconds for the current holder to go."""
        client = self._client()
        deadline = time.monotonic() + self.wait
        while True:
            try:
                taken = await client.set(self.key, self._value, nx=True, px=self._ttl_ms)
                current = None if taken else await client.get(self.key)
                left_ms = None if taken else await client.pttl(self.key)
            except Exception as exc:  # redis-py's errors, OSError, timeouts
                await self._close_client()
                raise LeaseError(
                    f"cannot take the lease {self.name!r}: Redis at {describe_url(self._url)} "
                    f"failed: {type(exc).__name__}: {exc}"
                ) from exc
            if taken:
                self._renewer = asyncio.create_task(self._renew_loop(), name=f"lease {self.name}")
                logger.info("lease %r taken by %s", self.name, self.holder)
                return
            if current is None:
                continue  # expired or released between SET and GET: try again at once
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                await self._close_client()
                holder = _holder_of(current)
                expires = (
                    f"; it expires in {left_ms / 1000:.1f} s unless renewed" if left_ms else ""
                )
                raise LeaseHeldError(
                    f"the lease {self.name!r} is held by {holder}{expires}: another apply of "
                    f"the same fleet or shard is running. Wait for it to finish (or give a "
                    f"longer lease wait); a crashed holder's lease expires after its ttl.",
                    name=self.name,
                    holder=holder,
                )
            await asyncio.sleep(min(remaining, self.poll_interval))

    async def _renew_loop(self) -> None:
        interval = self.ttl / 3
        warned = False
        last_ok = time.monotonic()
        while True:
            await asyncio.sleep(interval)
            try:
                renewed = await self._client().eval(_RENEW, 1, self.key, self._value, self._ttl_ms)
            except Exception as exc:  # keep trying: Redis may come back before the ttl runs out
                if not warned:
                    logger.warning(
                        "lease %r: renewal failed (%s: %s); retrying",
                        self.name,
                        type(exc).__name__,
                        exc,
                    )
                    warned = True
                if time.monotonic() - last_ok > self.ttl and not self.lost.is_set():
                    logger.error(
                        "lease %r: not renewed for its whole ttl: it may be lost", self.name
                    )
                continue
            if not renewed:
                if not self.lost.is_set():
                    logger.error(
                        "lease %r was lost (expired and not ours any more): another apply "
                        "may be running",
                        self.name,
                    )
                    self.lost.set()
                return
            last_ok = time.monotonic()
            if warned:
                logger.warning("lease %r: renewed again", self.name)
                warned = False

    async def release(self) -> None:
        """Stop renewing and give the lease back (only if it is still ours)."""
        renewer, self._renewer = self._renewer, None
        if renewer is not None:
            renewer.cancel()
            try:
                await renewer
            except asyncio.CancelledError:
                # Our own cancel of the renewer; a cancellation of *this* task still propagates
                # (uncancel() only undoes one request).
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise
        try:
            if self._redis is not None and not self.lost.is_set():
                await self._redis.eval(_RELEASE, 1, self.key, self._value)
        except Exception as exc:  # it expires by itself after ttl
            logger.warning(
                "lease %r: release failed (%s); it expires in %.1f s",
                self.name,
                type(exc).__name__,
                self.ttl,
            )
        finally:
            await self._close_client()

    async def _close_client(self) -> None:
        client, self._redis = self._redis, None
        if client is not None:
            await client.aclose()

    async def __aenter__(self) -> Lease:
        await self.acquire()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.shield(self.release())
