"""Per-attempt bookkeeping: request counters (:func:`track_requests`) and the DEBUG log line."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Final

import attrs

from .exceptions import PineconeError, RateLimitError

__all__ = [
    "RequestStats",
    "record",
    "record_rate_wait",
    "scoped_stats",
    "track_requests",
    "tracking",
    "waiting_for_server",
]

_log: Final = logging.getLogger("aiopinecone")
_DEBUG: Final = logging.DEBUG


@attrs.define
class RequestStats:
    """Counters of the requests made inside :func:`track_requests` (this task and its children).

    ``requests``: attempts sent; ``retries``: attempts that were retries; ``rate_limited``:
    429 rate-limit answers met; ``last_retry_after``: the last ``Retry-After`` seen (seconds);
    ``outage_seconds``: wall-clock seconds during which at least one call waited to connect
    again after the server could not be reached (``RetryPolicy.connect_budget``);
    ``connect_retries``: the retries made after such connect failures.
    ``rate_waits`` / ``rate_wait_seconds``: attempts the rate governor held back, and for how
    long in all (seconds); ``retry_wait_seconds``: time slept before retries.
    """

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    last_retry_after: float | None = None
    outage_seconds: float = 0.0
    connect_retries: int = 0
    _parent: RequestStats | None = attrs.field(default=None, repr=False, eq=False, alias="_parent")
    _waiting: int = attrs.field(default=0, repr=False, eq=False, alias="_waiting")
    _since: float = attrs.field(default=0.0, repr=False, eq=False, alias="_since")
    rate_waits: int = 0
    rate_wait_seconds: float = 0.0
    retry_wait_seconds: float = 0.0


_stats: ContextVar[RequestStats | None] = ContextVar("aiopinecone_request_stats", default=None)


@contextmanager
def track_requests() -> Iterator[RequestStats]:
    """Count the attempts, retries and 429s of every request made in this context.

    Tasks created inside inherit the same counters (asyncio copies the context). Contexts nest:
    what is counted in an inner one is counted in the outer ones too.
    """
    with tracking(RequestStats()) as stats:
        yield stats


@contextmanager
def tracking(stats: RequestStats) -> Iterator[RequestStats]:
    """:func:`track_requests` into an existing ``stats`` (which goes on counting).

    Entering it again inside itself counts nothing twice."""
    outer = _stats.get()
    while outer is not None:
        if outer is stats:
            yield stats
            return
        outer = outer._parent
    stats._parent = _stats.get()
    token = _stats.set(stats)
    try:
        yield stats
    finally:
        _stats.reset(token)


def record_rate_wait(seconds: float) -> None:
    """Count one attempt the rate governor held back for ``seconds``."""
    stats = _stats.get()
    while stats is not None:
        stats.rate_waits += 1
        stats.rate_wait_seconds += seconds
        stats = stats._parent


@contextmanager
def scoped_stats() -> Iterator[RequestStats]:
    """Counters of one call (tracing): like :func:`track_requests` (what it counts is counted
    in the enclosing ``track_requests`` counters too, as it happens)."""
    with tracking(RequestStats()) as stats:
        yield stats


def record(
    method: str,
    url: str,
    op: str,
    outcome: int | str,
    attempt: int,
    began: float,
    error: PineconeError | None,
) -> None:
    """Count one finished attempt and log it (``METHOD /path -> outcome``, DEBUG only).

    An attempt that never got a pooled connection (``PoolTimeoutError``) was not sent: it is
    logged, not counted.
    """
    stats = _stats.get()
    while stats is not None and outcome != "PoolTimeoutError":
        stats.requests += 1
        if attempt > 1:
            stats.retries += 1
        if isinstance(error, RateLimitError):
            stats.rate_limited += 1
            if error.retry_after is not None:
                stats.last_retry_after = error.retry_after
        stats = stats._parent
    if _log.isEnabledFor(_DEBUG):
        _log.debug(
            "%s %s -> %s (op %s, attempt %d, %.1f ms)",
            method,
            _path_of(url),
            outcome,
            op,
            attempt,
            (time.monotonic() - began) * 1000.0,
        )


@contextmanager
def waiting_for_server(charged: float | None = None) -> Iterator[None]:
    """Count the enclosed wait as time spent waiting for an unreachable server.

    Overlapping waits of concurrent calls count once (wall clock). ``charged``: the seconds to
    count instead of the time measured (retry testing mode, where the sleep is skipped).
    """
    chain: list[RequestStats] = []
    stats = _stats.get()
    while stats is not None:
        chain.append(stats)
        stats = stats._parent
    now = time.monotonic()
    for s in chain:
        s.connect_retries += 1
        if s._waiting == 0:
            s._since = now
        s._waiting += 1
    try:
        yield
    finally:
        end = time.monotonic()
        for s in chain:
            s._waiting -= 1
            if charged is not None:
                s.outage_seconds += charged
            elif s._waiting == 0:
                s.outage_seconds += end - s._since


def log_retry(method: str, op: str, delay: float, error: PineconeError) -> None:
    """Count a retry's wait, and its DEBUG line."""
    stats = _stats.get()
    while stats is not None:
        stats.retry_wait_seconds += delay
        stats = stats._parent
    if _log.isEnabledFor(_DEBUG):
        _log.debug("%s %s: retrying in %.3f s after %s", method, op, delay, error)


def _path_of(url: str) -> str:
    rest = url.partition("://")[2]
    return "/" + rest.partition("/")[2].partition("?")[0]
