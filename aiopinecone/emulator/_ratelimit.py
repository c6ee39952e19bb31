"""Per-operation-class rate limits, as Pinecone applies them per project and per minute.

Algorithm: a sliding-window log per operation class. A request is accepted iff fewer than
``limit`` requests of its class were accepted during the last ``60 * time_scale`` seconds; the
timestamps of accepted requests are kept (at most ``limit`` per class), rejected requests are not
counted. So a burst of ``limit`` requests passes at once (as it does against the real API after a
quiet minute), any window of one "minute" never holds more than ``limit`` accepted requests, and a
rejected request's ``Retry-After`` is exactly when the oldest accepted request leaves the window:
a client that waits that long is accepted then (unless someone else took the slot), so a client
that honours ``Retry-After`` can run at the limit.

A rejection is ``429`` with the ``RESOURCE_EXHAUSTED`` envelope, ``Retry-After`` in whole seconds
rounded up (RFC 9110 ``delay-seconds``; at least 1) and ``X-Emulator-Retry-After-Ms`` with the
exact wait in milliseconds, rounded up, for time-scaled tests where a "minute" is shorter than a
second.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Final

import attrs
from aiohttp import web
from aiohttp.typedefs import Handler

from ._bucket import TokenBucket, check_bucket
from ._errors import RETRY_AFTER_MS_HEADER as RETRY_AFTER_MS_HEADER
from ._errors import SCALED_RETRY_AFTER_HEADER as SCALED_RETRY_AFTER_HEADER
from ._errors import error_response
from ._opclasses import OPERATION_CLASSES, PRESETS, request_operation_class
from ._tokenlimit import TOKEN_LIMITS_KEY, TokenLimits, TokensRejected

ADMIN_PREFIX: Final = "/__emulator/"

RATE_LIMITED_KEY: Final = web.RequestKey("aiopinecone_emulator_rate_limited", bool)
"""Request key set to True when the rate limiter rejected the request."""


@attrs.define
class ClassCounters:
    """How many requests of one operation class the limiter accepted and rejected."""

    accepted: int = 0
    rejected: int = 0


@attrs.frozen
class Decision:
    """The limiter's answer for one request: accepted, or the wait before a retry can pass."""

    accepted: bool
    retry_after: float = 0.0
    """Seconds until a request of this class would be accepted (0 when accepted)."""
    limit: int | None = None
    bucket: TokenBucket | None = None


_ACCEPT: Final = Decision(True)


def _check_limits(limits: object) -> tuple[str | None, dict[str, int]]:
    if isinstance(limits, str):
        preset = PRESETS.get(limits)
        if preset is None:
            raise ValueError(
                f"unknown rate-limit preset {limits!r}: use one of {', '.join(PRESETS)} "
                "or a mapping of operation class to requests per minute"
            )
        return limits, dict(preset)
    if not isinstance(limits, Mapping):
        raise TypeError(f"rate limits must be a preset name or a mapping, got {limits!r}")
    checked: dict[str, int] = {}
    for op, limit in limits.items():
        if op not in OPERATION_CLASSES:
            raise ValueError(
                f"unknown operation class {op!r}: use one of {', '.join(OPERATION_CLASSES)}"
            )
        if limit is None:
            continue
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise ValueError(f"the limit of {op} must be an int >= 0 or None, got {limit!r}")
        checked[op] = limit
    return None, checked


def _check_scale(time_scale: float) -> float:
    if isinstance(time_scale, bool) or not isinstance(time_scale, int | float):
        raise TypeError(f"time_scale must be a number, got {time_scale!r}")
    if not math.isfinite(time_scale) or time_scale <= 0:
        raise ValueError(f"time_scale must be a finite number > 0, got {time_scale!r}")
    return float(time_scale)


class RateLimiter:
    """Per-operation-class request limits per (scaled) minute, with counters.

    ``limits`` is a preset (``starter``, ``standard``, ``enterprise``, ``unlimited``) or a
    mapping of operation class to requests per minute (a class left out is unlimited; ``0``
    rejects every request of the class). A "minute" lasts ``60 * time_scale`` real seconds.
    ``clock`` returns monotonic seconds (tests of the algorithm can pass their own).

    ``middleware`` is the aiohttp middleware: it rejects a request over its class's limit with
    429 ``RESOURCE_EXHAUSTED`` and ``Retry-After``; admin routes (``/__emulator/``) pass through
    uncounted.
    """

    def __init__(
        self,
        limits: str | Mapping[str, int | None] = "unlimited",
        time_scale: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        # The emulator may serve from its own thread while a test reconfigures from another.
        self._lock = threading.Lock()
        self._preset, self._limits = _check_limits(limits)
        self._window = 60.0 * _check_scale(time_scale)
        self._time_scale = float(time_scale)
        # Accepted-request times of limited classes only (an unlimited class keeps no history:
        # requests made while a class was unlimited do not count once it gets a limit).
        self._accepted_at: dict[str, deque[float]] = {op: deque() for op in OPERATION_CLASSES}
        self.counters: dict[str, ClassCounters] = {op: ClassCounters() for op in OPERATION_CLASSES}
        """Accepted and rejected requests per operation class, since start or :meth:`reset`."""
        self._buckets: dict[str, TokenBucket] = {}
        self.tokens = TokenLimits(lambda: self._window, clock=clock)
        """Input tokens per window of chat and context (``_tokenlimit``)."""

    @property
    def preset(self) -> str | None:
        """The preset in force, or None when the limits were given as a mapping."""
        return self._preset

    @property
    def limits(self) -> Mapping[str, int | None]:
        """Requests per minute for every operation class (None: unlimited)."""
        return {op: self._limits.get(op) for op in OPERATION_CLASSES}

    @property
    def time_scale(self) -> float:
        """The length of a "minute", in minutes."""
        return self._time_scale

    @property
    def window(self) -> float:
        """The length of a "minute" in real seconds (``60 * time_scale``)."""
        return self._window

    def configure(
        self,
        limits: str | Mapping[str, int | None] | None = None,
        *,
        time_scale: float | None = None,
        buckets: Mapping[str, object] | None = None,
        tokens: Mapping[str, int | None] | None = None,
    ) -> None:
        """Change the limits, the time scale, the token buckets and/or the input-token limits
        (``tokens``: ``{"chat": n, "context": n}`` per minute); takes effect with the next
        request.

        ``buckets`` maps an operation class to ``{"rate": per_second, "burst": tokens}``: that
        class is then limited by a token bucket (a per-second limit) instead of its per-minute
        window; ``{}`` removes every bucket. Requests already accepted stay in their window
        (lowering a limit does not forget them). Counters are kept; :meth:`reset` clears them.
        """
        new_limits = _check_limits(limits) if limits is not None else None
        new_scale = _check_scale(time_scale) if time_scale is not None else None
        new_buckets = None
        if buckets is not None:
            if not isinstance(buckets, Mapping):
                raise TypeError(f"buckets must be a mapping, got {buckets!r}")
            new_buckets = {}
            for op, spec in buckets.items():
                if op not in OPERATION_CLASSES:
                    raise ValueError(f"unknown operation class {op!r}")
                new_buckets[op] = check_bucket(op, spec)
        if tokens is not None:
            self.tokens.configure(tokens)
        with self._lock:
            if new_limits is not None:
                self._preset, self._limits = new_limits
            if new_scale is not None:
                self._time_scale = new_scale
                self._window = 60.0 * new_scale
            if new_buckets is not None:
                self._buckets = new_buckets

    def reset(self) -> None:
        """Forget every accepted request and zero the counters."""
        with self._lock:
            for window in self._accepted_at.values():
                window.clear()
            for counters in self.counters.values():
                counters.accepted = counters.rejected = 0
            for bucket in self._buckets.values():
                bucket.reset()
        self.tokens.reset()

    def acquire(self, op_class: str) -> Decision:
        """Admit one request of ``op_class`` now, or say how long until one would be admitted."""
        with self._lock:
            return self._acquire(op_class)

    def _acquire(self, op_class: str) -> Decision:
        counters = self.counters[op_class]
        bucket = self._buckets.get(op_class)
        if bucket is not None:
            wait = bucket.take(self._clock())
            if wait == 0.0:
                counters.accepted += 1
                return _ACCEPT
            counters.rejected += 1
            return Decision(False, wait, bucket=bucket)
        limit = self._limits.get(op_class)
        if limit is None:
            counters.accepted += 1
            return _ACCEPT
        now = self._clock()
        window = self._accepted_at[op_class]
        # The epsilon absorbs float rounding so that waiting exactly `retry_after` is enough.
        horizon = now - self._window + 1e-9
        while window and window[0] <= horizon:
            window.popleft()
        if len(window) < limit:
            window.append(now)
            counters.accepted += 1
            return _ACCEPT
        counters.rejected += 1
        if limit == 0:
            return Decision(False, self._window, limit)
        # After a limit was lowered the window can hold more than `limit` entries: the next
        # slot opens when all but limit-1 of them have left it.
        oldest_to_leave = window[len(window) - limit]
        return Decision(False, max(oldest_to_leave + self._window - now, 0.001), limit)

    def snapshot(self) -> dict[str, object]:
        """Limits and counters as JSON-ready data (what ``GET /__emulator/counters`` returns)."""
        with self._lock:
            return self._snapshot()

    def _snapshot(self) -> dict[str, object]:
        return {
            "preset": self._preset,
            "time_scale": self._time_scale,
            "window_seconds": self._window,
            "buckets": {op: b.snapshot() for op, b in self._buckets.items()},
            "tokens": self.tokens.snapshot(),
            "classes": {
                op: {
                    "limit": self._limits.get(op),
                    "accepted": self.counters[op].accepted,
                    "rejected": self.counters[op].rejected,
                }
                for op in OPERATION_CLASSES
            },
        }

    def rejection(self, op_class: str, decision: Decision) -> web.Response:
        """The 429 response for a rejected request."""
        wait = decision.retry_after
        seconds = max(1, math.ceil(wait))
        headers = {"Retry-After": str(seconds), RETRY_AFTER_MS_HEADER: str(math.ceil(wait * 1000))}
        bucket = decision.bucket
        if bucket is not None:
            what = f"{bucket.rate:g} requests per second (burst {bucket.burst:g})"
            if bucket.exact:
                headers[SCALED_RETRY_AFTER_HEADER] = str(math.ceil(wait * 1000))
        else:
            plan = f" ({self._preset})" if self._preset else ""
            minute = "minute"
            if self._time_scale != 1.0:
                minute = f"{self._window:g} s (scaled minute)"
                headers[SCALED_RETRY_AFTER_HEADER] = str(math.ceil(wait * 1000))
            what = f"{decision.limit} requests per {minute}{plan}"
        return error_response(
            429,
            "RESOURCE_EXHAUSTED",
            f"Rate limit exceeded for {op_class}: {what}. Retry after {seconds} s.",
            headers=headers,
        )

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """aiohttp middleware: count the request against its class, or answer 429 (a chat or
        context handler charges its input tokens itself: ``_tokenlimit.charge_tokens``)."""
        if request.path.startswith(ADMIN_PREFIX):
            return await handler(request)
        op = request_operation_class(request)
        decision = self.acquire(op)
        if decision.accepted:
            request[TOKEN_LIMITS_KEY] = self.tokens
            try:
                return await handler(request)
            except TokensRejected:
                request[RATE_LIMITED_KEY] = True
                raise
        request[RATE_LIMITED_KEY] = True
        return self.rejection(op, decision)
