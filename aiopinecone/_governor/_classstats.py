"""What one operation class of a governor did: its counts, their logs, and its line of
``Governor.snapshot()``."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Final

import attrs

from .._stats import record_rate_wait

if TYPE_CHECKING:
    from ._budgets import TokenBook
    from ._controller import Controller
    from ._gate import ClassGate

__all__ = ["ClassStats", "class_report", "log_rate_limited", "record_wait"]

_log: Final = logging.getLogger("aiopinecone.governor")


@attrs.define(slots=True)
class ClassStats:
    """What one class did: permits granted, probes, 429s, permits that waited, seconds waited."""

    granted: int = 0
    probes: int = 0
    rate_limited: int = 0
    waited: int = 0
    wait_seconds: float = 0.0


def record_wait(stats: ClassStats, cls: str, waited: float, probe: bool) -> None:
    """A permit of class ``cls`` granted after ``waited`` seconds in its queue (``probe``: the
    budget's probe): counted here and in the request stats, logged at DEBUG."""
    stats.granted += 1
    stats.waited += 1
    stats.wait_seconds += waited
    if probe:
        stats.probes += 1
    record_rate_wait(waited)
    if _log.isEnabledFor(logging.DEBUG):
        _log.debug(
            "%s: waited %.3f s for the rate budget (%s)",
            cls,
            waited,
            "probe" if probe else "in budget",
        )


def log_rate_limited(cls: str, retry_after: float | None, controller: Controller) -> None:
    """A 429 of class ``cls``, logged at INFO with the budget it left."""
    if _log.isEnabledFor(logging.INFO):
        _log.info(
            "rate limited: %s (Retry-After %s); budget now %.1f per %.3f s",
            cls,
            "none" if retry_after is None else f"{retry_after:.3f} s",
            controller.limit,
            controller.window,
        )


def class_report(
    gate: ClassGate, stats: ClassStats, book: TokenBook | None
) -> dict[str, float | int | bool]:
    """One class's line of the snapshot: the budget now (limit per window), whether it is
    learning, the counts; a token class's estimates and counts too (``book``)."""
    c = gate.controller
    out: dict[str, float | int | bool] = {
        "limit": c.limit,
        "window_s": round(c.window, 4),
        "adaptive": c.adaptive,
        "learning": c.slow_start,
        "granted": stats.granted,
        "probes": stats.probes,
        "rate_limited": stats.rate_limited,
        "waited": stats.waited,
        "wait_s": round(stats.wait_seconds, 3),
    }
    if book is not None:
        out.update(book.snapshot())
        if gate.local is not None:
            used = gate.local.usage_now(gate.key, c.window) + gate.local.in_flight(gate.key)
            out["window_used"] = round(used)
    return out
