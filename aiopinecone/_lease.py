"""The fleet lease in Redis: applies of one fleet that would touch the same assistants never
run at once; a crashed holder's hold expires.

A whole-fleet apply holds the fleet exclusively. Shard applies of the same shard count share it,
each holding its own shard exclusively: shards ``1/4`` and ``2/4`` run together (they own
disjoint assistants), while ``1/4`` and ``1/4``, ``1/2`` and ``1/3`` (different counts split the
assistants differently, so they overlap), or any shard and the whole fleet, exclude each other.

All holds of a fleet live in one Redis hash, taken, renewed and given back by one Lua script each
(``_lease_lua.py``), so checking for a conflict and taking the hold is one atomic step, and every
expiry is stamped by Redis ``TIME``: machines whose clocks disagree still agree on it. A holder
renews every ``ttl / 3`` seconds; one that crashes (or loses Redis) stops renewing, and its hold
lapses ``ttl`` seconds after the last renewal. Renewal and release act only on a hold that still
carries *this* holder's secret token: a holder whose hold lapsed never extends or deletes the
next holder's. A holder that could not renew for a whole ``ttl`` (so may have lost its hold)
sets :attr:`Lease.lost`: the command line then stops its apply.

A hold names its holder (host, process id, what it runs) and when it began, so the second apply
can say who is in the way and since when. It either waits up to ``wait`` seconds or raises
:class:`LeaseHeldError` at once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import time
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

from ._lease_lua import RELEASE, RENEW, TAKE
from ._redisconn import connect, describe_url
from .exceptions import PineconeError

if TYPE_CHECKING:
    import redis.asyncio as aioredis

__all__ = ["KEY_PREFIX", "Lease", "LeaseError", "LeaseHeldError", "LeaseLostError"]

logger = logging.getLogger("aiopinecone")

KEY_PREFIX = "aiopinecone:lease:"
"""The fleet's hash is ``KEY_PREFIX + fleet``."""


class _ShardLike(Protocol):
    @property
    def index(self) -> int: ...
    @property
    def count(self) -> int: ...


class LeaseError(PineconeError):
    """The lease could not be taken (Redis unreachable or failing)."""


class LeaseHeldError(LeaseError):
    """Another apply holds a conflicting part of the fleet.

    ``holder`` names it (host, pid, what it runs), ``held`` what it holds (``fleet/all`` or
    ``fleet/shard I of N``), ``since`` when it took it (UTC) and ``expires_in`` the seconds its
    hold has left unless renewed.
    """

    def __init__(
        self,
        message: str,
        *,
        name: str,
        holder: str,
        held: str = "",
        since: datetime | None = None,
        expires_in: float | None = None,
    ) -> None:
        super().__init__(message)
        self.name = name
        self.holder = holder
        self.held = held or name
        self.since = since
        self.expires_in = expires_in


class LeaseLostError(LeaseError):
    """The hold lapsed while its holder worked (Redis unreachable, or the process stalled, for
    longer than the ttl): another apply may have taken it, so this one stopped."""


def _part_name(fleet: str, field: str) -> str:
    if field == "all":
        return f"{fleet}/all"
    index, _, count = field.partition("/")
    return f"{fleet}/shard {index} of {count}"


def _text(value: Any) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _ago(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s ago"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.1f} h ago"


class Lease:
    """The lease on fleet ``fleet`` (whole, or ``shard``) in the Redis at ``redis_url``.

    ``async with Lease(url, "support", shard=Shard(1, 3), ttl=30, wait=0):`` holds shard 1 of 3 of
    the fleet "support" for the block; without ``shard``, the whole fleet. ``shard`` is a
    :class:`~aiopinecone.provision.Shard` or ``"I/N"``. ``ttl`` (seconds) is how long a hold
    outlives a holder that stopped renewing (a crash); ``wait`` how long to wait for a conflicting
    holder to finish before :class:`LeaseHeldError`; ``description`` is added to the holder's name
    that others see. :attr:`lost` is set when the hold lapsed while held (see the module).
    """

    def __init__(
        self,
        redis_url: str,
        fleet: str,
        *,
        shard: _ShardLike | str | None = None,
        ttl: float = 30.0,
        wait: float = 0.0,
        description: str = "",
        poll_interval: float = 0.5,
    ) -> None:
        if not ttl > 0.05:
            raise ValueError(f"ttl must be > 0.05 s, got {ttl!r}")
        if not wait >= 0:
            raise ValueError(f"wait must be >= 0 s, got {wait!r}")
        if isinstance(shard, str):
            from .provision._shard import Shard

            shard = Shard.parse(shard)
        self.fleet = fleet
        self.shard = shard
        self._field = "all" if shard is None else f"{shard.index}/{shard.count}"
        self._count = 0 if shard is None else shard.count
        self.name = _part_name(fleet, self._field)
        """``<fleet>/all`` or ``<fleet>/shard I of N``: what this lease holds."""
        self.key = KEY_PREFIX + fleet
        self.ttl = float(ttl)
        self.wait = float(wait)
        self.poll_interval = poll_interval
        holder = f"{socket.gethostname()} pid {os.getpid()}"
        if description:
            holder += f" ({description})"
        self.holder = holder
        self._token = secrets.token_hex(16)
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
        """Take the lease, waiting up to ``wait`` seconds for conflicting holders to go."""
        client = self._client()
        deadline = time.monotonic() + self.wait
        while True:
            started = time.monotonic()
            try:
                reply = await client.eval(
                    TAKE, 1, self.key, self._field, self._count, self._token, self._ttl_ms,
                    self.holder,
                )  # fmt: skip
            except Exception as exc:  # redis-py's errors, OSError, timeouts
                await self._close_client()
                raise LeaseError(
                    f"cannot take the lease {self.name!r}: Redis at {describe_url(self._url)} "
                    f"failed: {type(exc).__name__}: {exc}"
                ) from exc
            if int(reply[0]) == 1:
                self.lost.clear()
                self._renewer = asyncio.create_task(
                    self._renew_loop(started), name=f"lease {self.name}"
                )
                logger.info("lease %r taken by %s", self.name, self.holder)
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                await self._close_client()
                raise self._held_error(reply)
            await asyncio.sleep(min(remaining, self.poll_interval))

    def _held_error(self, reply: list[Any]) -> LeaseHeldError:
        now_ms, field, value, left_ms = int(reply[1]), _text(reply[2]), _text(reply[3]), reply[4]
        parts = value.split("|", 4)
        holder = parts[4] if len(parts) == 5 and parts[4] else "an unknown holder"
        since_ms = int(parts[2]) if len(parts) == 5 and parts[2].isdigit() else None
        held = _part_name(self.fleet, field)
        expires_in = int(left_ms) / 1000
        since = None
        when = ""
        if since_ms is not None:
            since = datetime.fromtimestamp(since_ms / 1000, tz=UTC)
            when = f" since {since:%Y-%m-%d %H:%M:%S} UTC ({_ago((now_ms - since_ms) / 1000)})"
        if field == self._field:
            why = "another apply of the same fleet or shard is running"
        elif "all" in (field, self._field):
            why = "a whole-fleet apply and a shard apply of one fleet touch the same assistants"
        else:
            why = (
                f"shards of {self._count} and of {field.partition('/')[2]} split the fleet "
                f"differently, so their assistants overlap (shard applies of one fleet run "
                f"together only with the same shard count)"
            )
        return LeaseHeldError(
            f"the lease {self.name!r} conflicts with {held!r}, held by {holder}{when}; it "
            f"expires in {expires_in:.1f} s unless renewed: {why}. Wait for it to finish (or "
            f"give a longer lease wait); a crashed holder's lease expires after its ttl.",
            name=self.name,
            holder=holder,
            held=held,
            since=since,
            expires_in=expires_in,
        )

    async def _renew_loop(self, taken_at: float) -> None:
        interval = self.ttl / 3
        warned = False
        last_ok = taken_at  # when the last successful take/renew was *sent*: its expiry is later
        while True:
            await asyncio.sleep(interval)
            sent = time.monotonic()
            try:
                renewed = await self._client().eval(
                    RENEW, 1, self.key, self._field, self._token, self._ttl_ms
                )
            except Exception as exc:  # keep trying: Redis may come back before the ttl runs out
                if not warned:
                    logger.warning(
                        "lease %r: renewal failed (%s: %s); retrying",
                        self.name,
                        type(exc).__name__,
                        exc,
                    )
                    warned = True
                if time.monotonic() - last_ok >= self.ttl:
                    self._lose("not renewed for its whole ttl: it may have lapsed")
                    return
                continue
            if not renewed:
                self._lose("it lapsed and is not ours any more")
                return
            last_ok = sent
            if warned:
                logger.warning("lease %r: renewed again", self.name)
                warned = False

    def _lose(self, why: str) -> None:
        logger.error("lease %r was lost (%s): another apply may be running", self.name, why)
        self.lost.set()

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
                await self._redis.eval(RELEASE, 1, self.key, self._field, self._token)
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
