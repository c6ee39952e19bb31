"""What one operation class of a governor did, and its line of ``Governor.snapshot()``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from ._budgets import TokenBook
    from ._gate import ClassGate

__all__ = ["ClassStats", "class_report"]


@attrs.define(slots=True)
class ClassStats:
    """What one class did: permits granted, probes, 429s, permits that waited, seconds waited."""

    granted: int = 0
    probes: int = 0
    rate_limited: int = 0
    waited: int = 0
    wait_seconds: float = 0.0


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
