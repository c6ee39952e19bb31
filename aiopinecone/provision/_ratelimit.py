"""Client-side rate limiting per operation class: stay under the server's per-minute limits.

Pinecone limits requests per project, per operation class and per minute (DESIGN.md §3). The
limiter mirrors such a limit with a *sliding-window log*: a request may start when fewer than
``limit`` requests of its class were counted during the last ``window`` seconds, counting requests
still in flight. A request is logged at the moment its answer arrives, which is never earlier
than the moment the server counted it, so the client's window always closes after the server's:
a client alone on its project meets no 429 at all, and still gets the whole burst a fresh
minute allows. A 429 is never counted (the server does not count it either).

Every 429 blocks the whole class until its ``Retry-After`` (a shared "blocked until"), so the
other tasks stop instead of collecting 429s of their own.

Adaptive mode learns the limit when the plan is unknown (or other clients share the project):
it starts at the Starter limits (the lowest plan, so safe everywhere) and probes above them one
request at a time; each accepted probe raises the limit by one, the first 429 sets it to what the
server actually accepted in the window. Then it probes again only every few windows, so a long
run costs about one 429 per ``probe_interval``. A 429 met below the learnt limit (someone else is
using the quota) lowers it multiplicatively.

The algorithm lives in :class:`ClassLimiter`, a pure state machine driven by explicit times
(tested with a fake clock, without sleeping); :class:`RateLimiter` wraps it for asyncio.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Final, Literal

import attrs

__all__ = [
    "OPERATION_CLASSES",
    "PRESETS",
    "ClassLimiter",
    "Permit",
    "RateLimiter",
    "RateLimits",
]

ASSISTANTS_READ: Final = "assistants_read"
ASSISTANTS_WRITE: Final = "assistants_write"
ASSISTANTS_DELETE: Final = "assistants_delete"
FILES_READ: Final = "files_read"
FILES_UPLOAD: Final = "files_upload"
FILES_DELETE: Final = "files_delete"

OPERATION_CLASSES: Final = (
    ASSISTANTS_READ,
    ASSISTANTS_WRITE,
    ASSISTANTS_DELETE,
    FILES_READ,
    FILES_UPLOAD,
    FILES_DELETE,
)
"""The operation classes Pinecone rate-limits separately."""


def _preset(
    read: int, write: int, delete: int, f_read: int, f_up: int, f_del: int
) -> Mapping[str, int]:
    return MappingProxyType(
        dict(zip(OPERATION_CLASSES, (read, write, delete, f_read, f_up, f_del), strict=True))
    )


PRESETS: Final[Mapping[str, Mapping[str, int]]] = MappingProxyType(
    {
        "starter": _preset(40, 20, 20, 100, 5, 5),
        "standard": _preset(100, 50, 50, 300, 20, 20),
        "enterprise": _preset(500, 100, 100, 6000, 300, 300),
    }
)
"""Requests per minute per operation class of each Pinecone plan (DESIGN.md §3)."""

PresetName = Literal["starter", "standard", "enterprise", "adaptive", "unlimited"]
PRESET_NAMES: Final = ("starter", "standard", "enterprise", "adaptive", "unlimited")


def _check_limits(value: Mapping[str, float | None]) -> Mapping[str, float | None]:
    out: dict[str, float | None] = {}
    for op, limit in value.items():
        if op not in OPERATION_CLASSES:
            raise ValueError(
                f"unknown operation class {op!r}: use one of {', '.join(OPERATION_CLASSES)}"
            )
        if limit is not None and (isinstance(limit, bool) or not limit >= 1):
            raise ValueError(f"the limit of {op} must be >= 1 request per window, got {limit!r}")
        out[op] = None if limit is None else float(limit)
    return MappingProxyType(out)


def _positive(_inst: object, attr: attrs.Attribute[float], value: float) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise ValueError(f"{attr.name} must be a finite number > 0, got {value!r}")


@attrs.frozen(kw_only=True)
class RateLimits:
    """Requests allowed per ``window`` seconds for each operation class (absent: unlimited).

    Build one with :meth:`preset` (``starter``, ``standard``, ``enterprise``, ``adaptive``,
    ``unlimited``) or directly. ``window`` is the server's "minute" in seconds: 60 against
    Pinecone, shorter against a time-scaled emulator. ``adaptive`` learns the real limits from
    429 answers, starting from ``limits``; ``probe_interval`` is how many windows to wait after
    a 429 before probing above the learnt limit again.
    """

    limits: Mapping[str, float | None] = attrs.field(converter=_check_limits)
    window: float = attrs.field(default=60.0, validator=_positive)
    adaptive: bool = False
    probe_interval: float = attrs.field(default=4.0, validator=_positive)

    @classmethod
    def preset(cls, name: str, *, window: float = 60.0) -> RateLimits:
        """The limits of a plan; ``adaptive`` starts from Starter and learns."""
        if name == "adaptive":
            return cls(limits=PRESETS["starter"], window=window, adaptive=True)
        if name == "unlimited":
            return cls(limits={}, window=window)
        if name not in PRESETS:
            raise ValueError(f"unknown rate preset {name!r}: use one of {', '.join(PRESET_NAMES)}")
        return cls(limits=PRESETS[name], window=window)


@attrs.frozen
class Decision:
    """Whether a request may start now; if not, the time to look again (``None``: on a change)."""

    go: bool
    wake_at: float | None = None
    probe: bool = False


@attrs.define
class ClassStats:
    """What one operation class did: requests started, accepted, rate-limited, seconds waited."""

    started: int = 0
    accepted: int = 0
    rate_limited: int = 0
    unknown: int = 0
    waited: float = 0.0


class ClassLimiter:
    """The limiter of one operation class, as a pure state machine over explicit times.

    Call :meth:`decide` with the current time; when it says go, call :meth:`start`, then exactly
    one of :meth:`accepted`, :meth:`rate_limited` or :meth:`unknown` when the request ends.
    """

    def __init__(
        self,
        limit: float | None,
        *,
        window: float = 60.0,
        adaptive: bool = False,
        probe_interval: float = 4.0,
    ) -> None:
        self.limit = limit
        self.window = window
        self.adaptive = adaptive and limit is not None
        self.probe_every = probe_interval * window
        self.probe_at = 0.0  # adaptive: probe at once, the start limit is only a safe guess
        self.blocked_until = 0.0
        self.inflight = 0
        self.probe_inflight = False
        self.learnt = False
        self.stats = ClassStats()
        self._log: deque[float] = deque()
        self._consecutive_429 = 0

    def _expire(self, now: float) -> None:
        # Compared as `t + window <= now`, the very sum `decide` hands out as a wake-up time:
        # `t <= now - window` can differ by a rounding error and never expire (a busy loop).
        log = self._log
        window = self.window
        while log and log[0] + window <= now:
            log.popleft()

    def used(self, now: float) -> int:
        """Requests counted in the window ending at ``now``, in flight included."""
        self._expire(now)
        return len(self._log) + self.inflight

    def decide(self, now: float) -> Decision:
        """May a request start at ``now``? If not, when should the caller look again?"""
        if now < self.blocked_until:
            return Decision(False, self.blocked_until)
        if self.limit is None:
            return Decision(True)
        used = self.used(now)
        if used < self.limit:
            return Decision(True)
        if self.adaptive and not self.probe_inflight and now >= self.probe_at:
            return Decision(True, probe=True)
        wake: float | None = self._log[0] + self.window if self._log else None
        if self.adaptive and not self.probe_inflight and (wake is None or self.probe_at < wake):
            wake = self.probe_at
        return Decision(False, wake)

    def start(self, decision: Decision) -> None:
        """A request of this class starts (after ``decide`` said go)."""
        self.inflight += 1
        self.stats.started += 1
        if decision.probe:
            self.probe_inflight = True

    def accepted(self, now: float, *, probe: bool = False) -> None:
        """The server accepted the request (any answer but 429 counts)."""
        self.inflight -= 1
        self.stats.accepted += 1
        self._log.append(now)
        self._consecutive_429 = 0
        if probe:
            self.probe_inflight = False
            if self.limit is not None:
                self.limit += 1  # the server took one more than we thought it would

    def unknown(self, now: float, *, probe: bool = False) -> None:
        """The request ended without an answer (transport error, cancellation): count it."""
        self.inflight -= 1
        self.stats.unknown += 1
        self._log.append(now)
        if probe:
            self.probe_inflight = False

    def rate_limited(self, now: float, retry_after: float | None, *, probe: bool = False) -> None:
        """The server answered 429; ``retry_after`` is its hint in seconds, if any."""
        self.inflight -= 1
        self.stats.rate_limited += 1
        self._consecutive_429 += 1
        if retry_after is None or retry_after < 0 or not math.isfinite(retry_after):
            # No hint: back off exponentially, from one slot's time up to a whole window.
            slot = self.window / self.limit if self.limit else 1.0
            retry_after = min(self.window, slot * 2 ** (self._consecutive_429 - 1))
        self.blocked_until = max(self.blocked_until, now + retry_after)
        if probe:
            self.probe_inflight = False
        if not self.adaptive or self.limit is None:
            return
        self._expire(now)
        accepted_in_window = len(self._log)
        if probe:
            # The server took exactly what it accepted in this window: that is the limit.
            self.limit = float(max(1, accepted_in_window))
        elif accepted_in_window + self.inflight + 1 <= self.limit:
            # Refused below our own limit: someone else shares the quota. Give way.
            self.limit = float(max(1, min(accepted_in_window, math.floor(self.limit * 0.7))))
        self.learnt = True
        self.probe_at = now + self.probe_every


@attrs.frozen
class Permit:
    """The right to send one request of ``op_class``; report its outcome exactly once."""

    op_class: str
    probe: bool
    waited: float


class RateLimiter:
    """Per-operation-class limiters for asyncio tasks (FIFO within a class).

    ``acquire(op)`` waits until a request of ``op`` may start; report how it ended with
    ``accepted`` / ``rate_limited`` / ``unknown``. ``clock`` is monotonic seconds.
    """

    def __init__(self, limits: RateLimits, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        self._classes = {
            op: ClassLimiter(
                limits.limits.get(op),
                window=limits.window,
                adaptive=limits.adaptive,
                probe_interval=limits.probe_interval,
            )
            for op in OPERATION_CLASSES
        }
        self._locks: dict[str, asyncio.Lock] = {}
        self._changed: dict[str, asyncio.Event] = {}

    def state(self, op_class: str) -> ClassLimiter:
        """The limiter of ``op_class`` (for reports and tests)."""
        return self._classes[op_class]

    def _event(self, op_class: str) -> asyncio.Event:
        event = self._changed.get(op_class)
        if event is None:
            event = self._changed[op_class] = asyncio.Event()
        return event

    async def acquire(self, op_class: str) -> Permit:
        """Wait until a request of ``op_class`` may start, and start it."""
        state = self._classes[op_class]
        lock = self._locks.get(op_class)
        if lock is None:
            lock = self._locks[op_class] = asyncio.Lock()
        begin = self._clock()
        async with lock:
            while True:
                now = self._clock()
                decision = state.decide(now)
                if decision.go:
                    state.start(decision)
                    waited = now - begin
                    state.stats.waited += waited
                    return Permit(op_class, decision.probe, waited)
                event = self._event(op_class)
                event.clear()
                timeout = None if decision.wake_at is None else max(decision.wake_at - now, 0.0)
                try:
                    async with asyncio.timeout(timeout):
                        await event.wait()
                except TimeoutError:
                    pass

    def _notify(self, op_class: str) -> None:
        event = self._changed.get(op_class)
        if event is not None:
            event.set()

    def accepted(self, permit: Permit) -> None:
        """The request got an answer that was not a 429."""
        self._classes[permit.op_class].accepted(self._clock(), probe=permit.probe)
        self._notify(permit.op_class)

    def rate_limited(self, permit: Permit, retry_after: float | None) -> None:
        """The request got a 429 (``retry_after`` seconds, if the server said)."""
        self._classes[permit.op_class].rate_limited(self._clock(), retry_after, probe=permit.probe)
        self._notify(permit.op_class)

    def unknown(self, permit: Permit) -> None:
        """The request ended without an answer (or was cancelled)."""
        self._classes[permit.op_class].unknown(self._clock(), probe=permit.probe)
        self._notify(permit.op_class)

    def snapshot(self) -> dict[str, dict[str, float | int | bool | None]]:
        """Per class: current limit, whether it was learnt, and the counters."""
        return {
            op: {
                "limit": s.limit,
                "learnt": s.learnt,
                "started": s.stats.started,
                "accepted": s.stats.accepted,
                "rate_limited": s.stats.rate_limited,
                "unknown": s.stats.unknown,
                "waited_s": round(s.stats.waited, 3),
            }
            for op, s in self._classes.items()
            if s.stats.started
        }
