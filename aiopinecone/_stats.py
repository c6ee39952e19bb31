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

__all__ = ["RequestStats", "record", "record_rate_wait", "scoped_stats", "track_requests"]

_log: Final = logging.getLogger("aiopinecone")
_DEBUG: Final = logging.DEBUG


@attrs.define
class RequestStats:
    """Counters of the requests made inside :func:`track_requests` (this task and its children).

    ``requests``: attempts sent; ``retries``: attempts that were retries; ``rate_limited``:
    429 rate-limit answers met; ``last_retry_after``: the last ``Retry-After`` seen (seconds);
    ``rate_waits`` / ``rate_wait_seconds``: attempts the rate governor held back, and for how
    long in all (seconds); ``retry_wait_seconds``: time slept before retries.
    """

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    last_retry_after: float | None = None
    rate_waits: int = 0
    rate_wait_seconds: float = 0.0
    retry_wait_seconds: float = 0.0


_stats: ContextVar[RequestStats | None] = ContextVar("aiopinecone_request_stats", default=None)


@contextmanager
def track_requests() -> Iterator[RequestStats]:
    """Count the attempts, retries and 429s of every request made in this context.

    Tasks created inside inherit the same counters (asyncio copies the context).
    """
    stats = RequestStats()
    token = _stats.set(stats)
    try:
        yield stats
    finally:
        _stats.reset(token)


def record_rate_wait(seconds: float) -> None:
    """Count one attempt the rate governor held back for ``seconds``."""
    stats = _stats.get()
    if stats is not None:
        stats.rate_waits += 1
        stats.rate_wait_seconds += seconds


@contextmanager
def scoped_stats() -> Iterator[RequestStats]:
    """Counters of one call (tracing): like :func:`track_requests`, and added to the
    enclosing ``track_requests`` counters, if any, when the call ends."""
    outer = _stats.get()
    stats = RequestStats()
    token = _stats.set(stats)
    try:
        yield stats
    finally:
        _stats.reset(token)
        if outer is not None:
            for field in attrs.fields(RequestStats):
                value = getattr(stats, field.name)
                if field.name == "last_retry_after":
                    if value is not None:
                        outer.last_retry_after = value
                else:
                    setattr(outer, field.name, getattr(outer, field.name) + value)


def record(
    method: str,
    url: str,
    op: str,
    outcome: int | str,
    attempt: int,
    began: float,
    error: PineconeError | None,
) -> None:
    """Count one finished attempt and log it (``METHOD /path -> outcome``, DEBUG only)."""
    stats = _stats.get()
    if stats is not None:
        stats.requests += 1
        if attempt > 1:
            stats.retries += 1
        if isinstance(error, RateLimitError):
            stats.rate_limited += 1
            if error.retry_after is not None:
                stats.last_retry_after = error.retry_after
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


def log_retry(method: str, op: str, delay: float, error: PineconeError) -> None:
    """Count a retry's wait, and its DEBUG line."""
    stats = _stats.get()
    if stats is not None:
        stats.retry_wait_seconds += delay
    if _log.isEnabledFor(_DEBUG):
        _log.debug("%s %s: retrying in %.3f s after %s", method, op, delay, error)


def _path_of(url: str) -> str:
    rest = url.partition("://")[2]
    return "/" + rest.partition("/")[2].partition("?")[0]
