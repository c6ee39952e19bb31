"""The retry policy: which failures are retried, how long to wait, and the one ``import backoff``.

Decisions are pure (``RetryPolicy.should_retry``, ``RetryState.next_delay``); the request loop in
``_core.py`` asks them after each failed attempt. The per-call :class:`RetryState` is created only
when an attempt fails, so a call that succeeds first time pays nothing for retries; ``backoff``
itself is imported when the first delay is computed, not with the package.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterator
from typing import Final

import attrs

from ._stats import waiting_for_server
from .exceptions import (
    PineconeError,
    PoolTimeoutError,
    RateLimitError,
    ServerError,
    TransportError,
    ValidationError,
)

__all__ = [
    "IDEMPOTENT_METHODS",
    "RetryPolicy",
    "RetryState",
    "is_testing",
    "poll_delays",
    "set_testing",
    "was_ambiguous",
]

IDEMPOTENT_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"})
"""Methods whose attempts may be re-sent after an ambiguous failure (unless told otherwise)."""

_NEVER_RETRIED_5XX: Final = frozenset({501, 505})
_CONNECT_MAX_DELAY: Final = 5.0
"""Longest wait between two connection attempts while the server is unreachable: a refused
connection costs the server nothing, and a server that is back should be noticed soon."""
_TESTING_POLL: Final = 0.02
_testing = False


def was_ambiguous(error: PineconeError) -> bool:
    """Whether a failed attempt may nevertheless have been applied by the server."""
    if isinstance(error, TransportError):
        return error.ambiguous
    return isinstance(error, ServerError)


def set_testing(enabled: bool) -> None:
    """Make every retry and poll wait instant (for test suites; like ``stamina.set_testing``).

    Retry decisions are unchanged: attempts are counted and time budgets are charged with the
    delay that *would* have been slept, so a test sees exactly what production would do.
    """
    global _testing
    _testing = enabled


def is_testing() -> bool:
    """Whether :func:`set_testing` made waits instant (the rate governor's Retry-After pauses
    follow it too)."""
    return _testing


def _check_attempts(_inst: object, _attr: object, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValidationError(f"max_attempts must be an integer >= 1, got {value!r}")


def _check_seconds(_inst: object, attr: attrs.Attribute[float], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise ValidationError(f"{attr.name} must be a number of seconds >= 0, got {value!r}")


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """How a call is retried.

    - ``max_attempts``: attempts in total, the first included (1 = never retry).
    - ``initial_delay``, ``max_delay``: exponential backoff (x2 per retry) with full jitter,
      capped at ``max_delay`` seconds.
    - ``max_elapsed``: total time budget of a call in seconds; no retry starts beyond it.
    - ``max_retry_after``: a ``Retry-After`` longer than this (or longer than what is left of
      ``max_elapsed``) is not waited for: the call fails at once with ``RateLimitError``.
    - ``jitter``: randomize backoff delays. A server-given ``Retry-After`` is never shortened by
      jitter; it may only be lengthened a little so that many clients do not return at once.
    - ``connect_budget``: seconds (default 30) during which failures to *connect* (refused or
      reset while connecting, DNS, TLS handshake, connect timeout: the request was never sent)
      are retried, with backoff from ``initial_delay`` up to at most 5 s between attempts,
      whatever ``max_attempts`` says; counted from the call's first connect failure, and never
      beyond ``max_elapsed``. A server that is back within the budget loses nothing. ``0``
      counts connect failures as ordinary attempts (``max_attempts``).

    What is retried: 429 rate limits (never quota errors, never other 4xx); 5xx and transport
    errors only for idempotent requests (GET, PATCH, DELETE, and calls the client makes safe by
    reconciliation); connection failures that certainly did not reach the server, always. A
    :class:`~aiopinecone.PoolTimeoutError` (no pooled connection free in time) is never retried:
    the pool is busy, and another attempt would only add to its queue.
    """

    max_attempts: int = attrs.field(default=4, validator=_check_attempts)
    initial_delay: float = attrs.field(default=0.5, validator=_check_seconds)
    max_delay: float = attrs.field(default=20.0, validator=_check_seconds)
    max_elapsed: float = attrs.field(default=120.0, validator=_check_seconds)
    max_retry_after: float = attrs.field(default=60.0, validator=_check_seconds)
    jitter: bool = True
    connect_budget: float = attrs.field(default=30.0, validator=_check_seconds)

    @classmethod
    def none(cls) -> RetryPolicy:
        """A policy that never retries (connect failures included)."""
        return cls(max_attempts=1, connect_budget=0.0)

    def should_retry(self, error: PineconeError, *, idempotent: bool) -> bool:
        """Whether ``error`` is of a kind that may be retried (budgets aside)."""
        if isinstance(error, RateLimitError):
            return True
        if isinstance(error, ServerError):
            return idempotent and error.status not in _NEVER_RETRIED_5XX
        if isinstance(error, TransportError):
            if isinstance(error, PoolTimeoutError):
                return False
            return idempotent or not error.ambiguous
        return False

    def start(self) -> RetryState:
        """Per-call retry bookkeeping, started now."""
        return RetryState(self)


class RetryState:
    """The retry bookkeeping of one call: attempts, time spent and the backoff sequence."""

    __slots__ = (
        "_connect_delays",
        "_connect_retries",
        "_connect_since",
        "_delays",
        "_outage",
        "_policy",
        "_skipped",
        "_start",
    )

    def __init__(self, policy: RetryPolicy, start: float | None = None) -> None:
        self._policy = policy
        self._start = time.monotonic() if start is None else start
        self._skipped = 0.0  # seconds charged to the budget but not slept (testing mode)
        self._delays = _expo(policy.initial_delay, policy.max_delay)
        self._connect_delays: Iterator[float] | None = None
        self._connect_since = 0.0  # elapsed() at the call's first connect failure
        self._connect_retries = 0  # retries spent on connect failures (not in max_attempts)
        self._outage = False  # the next sleep waits for an unreachable server

    def elapsed(self) -> float:
        """Seconds charged to this call's budget so far."""
        return time.monotonic() - self._start + self._skipped

    def next_delay(self, error: PineconeError, *, attempt: int, idempotent: bool) -> float | None:
        """Seconds to wait before attempt ``attempt + 1``, or ``None`` to give up with ``error``."""
        policy = self._policy
        self._outage = False
        if policy.connect_budget > 0 and isinstance(error, TransportError) and error.connect_failed:
            return self._connect_delay()
        if attempt - self._connect_retries >= policy.max_attempts or not policy.should_retry(
            error, idempotent=idempotent
        ):
            return None
        remaining = policy.max_elapsed - self.elapsed()
        if remaining <= 0:
            return None
        base = next(self._delays)
        retry_after = error.retry_after if isinstance(error, RateLimitError) else None
        if retry_after is not None:
            if retry_after > policy.max_retry_after or retry_after > remaining:
                return None
            extra = _full_jitter(min(base, 1.0)) if policy.jitter else 0.0
            return min(retry_after + extra, remaining)
        delay = _full_jitter(base) if policy.jitter else base
        return min(delay, remaining)

    def _connect_delay(self) -> float | None:
        # A connect failure: nothing was sent, so re-sending is safe for any method; retried on
        # the connect time budget with its own backoff, not on the count of attempts.
        policy = self._policy
        elapsed = self.elapsed()
        if self._connect_delays is None:
            self._connect_delays = _expo(
                policy.initial_delay, min(policy.max_delay, _CONNECT_MAX_DELAY)
            )
            self._connect_since = elapsed
        remaining = min(
            policy.connect_budget - (elapsed - self._connect_since),
            policy.max_elapsed - elapsed,
        )
        if remaining <= 0:
            return None
        base = next(self._connect_delays)
        delay = _full_jitter(base) if policy.jitter else base
        self._connect_retries += 1
        self._outage = True
        return min(delay, remaining)

    async def sleep(self, delay: float) -> None:
        """Wait ``delay`` seconds (instantly in testing mode, still charging the budget).

        A wait for an unreachable server (after a connect failure) is counted as such in
        :func:`~aiopinecone.track_requests` (``RequestStats.outage_seconds``).
        """
        if self._outage:
            with waiting_for_server(delay if _testing else None):
                await self._sleep(delay)
        else:
            await self._sleep(delay)

    async def _sleep(self, delay: float) -> None:
        if _testing:
            self._skipped += delay
            await asyncio.sleep(0)
        else:
            await asyncio.sleep(delay)


def _full_jitter(value: float) -> float:
    import backoff  # on the first retry, not with the package ("Import weight")

    return backoff.full_jitter(value)


def _expo(initial: float, maximum: float) -> Iterator[float]:
    import backoff  # on the first retry or wait, not with the package ("Import weight")

    gen = backoff.expo(base=2, factor=initial, max_value=maximum)
    next(gen)  # backoff's generators are primed with one next() before they yield delays
    return gen


def poll_delays(
    initial: float = 1.0, maximum: float = 10.0, *, jitter: bool = True
) -> Iterator[float]:
    """Growing, capped, jittered intervals for status polling (readiness, file processing).

    Jitter here only spreads polls by up to 25% so that many waiters do not poll in lock step.
    In testing mode (:func:`set_testing`) intervals are capped at 20 ms (short, yet not a spin).
    """
    for value in _expo(initial, maximum):
        if _testing:
            yield min(value, _TESTING_POLL)
        elif jitter:
            yield value * (0.75 + random.random() * 0.25)  # noqa: S311 - not cryptographic
        else:
            yield value
