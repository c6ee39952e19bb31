"""Slow start's growth rule (pure): how far the next step of an unknown limit goes.

From the start guess the limit grows one step per round trip, by ``GROWTH`` between the plans'
limits (Pinecone's Starter/Standard/Enterprise numbers for the class, ``levels``): a plan's
number within the step ends the step ``LEVEL_STEP`` past it, so the step tests that plan with a
small overshoot (limits are usually a plan's); at a plan's number the next step is that small
test; past the largest plan (a custom limit, or none) the limit doubles (TCP slow start). The
overshoot past a real limit is at most one step: ``LEVEL_STEP`` at a plan's number, more only
for a limit that is none of the plans'.

Between the plans a step is 2.5x: the plans are 2-5x apart (writes 20/50/100, reads
40/100/500, uploads 5/20/300), so a step from one plan's test usually ends at the next one's
(21 -> 52.5 -> 105 for writes), and a round trip spent on a step short of it (42 before the
test at 52.5) is saved. At the start guess, its test goes with the first burst
(``Controller.open_test``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final

__all__ = [
    "GROWTH",
    "GROWTH_ABOVE",
    "LEVEL_STEP",
    "Steps",
    "at_level",
    "next_step",
    "past_plans",
    "snap",
    "whole",
]

GROWTH: Final = 1.5
"""Growth per round trip between the plans' limits (the most it overshoots a limit that is
none of the plans')."""
GROWTH_ABOVE: Final = 1.0
"""Past the largest plan's limit: the limit doubles per round trip."""
LEVEL_STEP: Final = 0.05
"""At a plan's limit: the small step past it (the most it overshoots there)."""


def at_level(limit: float, levels: Sequence[float]) -> bool:
    """Whether ``limit`` is one of the plans' numbers."""
    return any(abs(limit - level) < 1e-9 for level in levels)


def past_plans(limit: float, levels: Sequence[float]) -> bool:
    """Whether ``limit`` is past the largest plan's test (sorted ``levels``)."""
    return bool(levels) and limit > levels[-1] * (1.0 + LEVEL_STEP) + 1e-9


def next_step(limit: float, levels: Sequence[float], cost: float, *, merge: bool = True) -> float:
    """The next step from ``limit`` (at least ``cost``, one request); ``levels`` sorted.
    ``merge`` False: a plan's number within the step ends it exactly there, and the next step
    tests it (a round trip more; for a slow start shared by several processes, whose store
    counts a step as one and so needs it to end where the limit likely is)."""
    if at_level(limit, levels):
        return max(limit * LEVEL_STEP, cost)
    if levels and limit > levels[-1]:
        return max(limit * GROWTH_ABOVE, cost)
    step = limit * GROWTH
    for level in levels:
        if limit < level <= limit + step:
            # The step tests the plan: it ends just past it (a round trip saved).
            step = level * (1.0 + LEVEL_STEP) - limit if merge else level - limit
            break
    return max(step, cost)


def whole(old: float, new: float, cost: float) -> float:
    """The units of the whole grants a step from ``old`` to ``new`` lets through, less half a
    grant (float slack): a step is over once each of them was accepted."""
    grants = math.floor(new / cost + 1e-9) - math.floor(old / cost + 1e-9)
    return max(0.0, (grants - 0.5) * cost)


class Steps:
    """The current step: when it began (``at``), the units it needs accepted (``need``: each
    whole grant it lets through), the units accepted so far of grants taken since (``ok``),
    the lowest position (units the window held when it was taken) of a grant refused since
    (``refused``)."""

    __slots__ = ("at", "need", "ok", "refused")

    def __init__(self, need: float) -> None:
        self.at, self.need, self.ok, self.refused = -math.inf, need, 0.0, math.inf

    def begin(self, now: float, old: float, new: float, cost: float) -> None:
        """A step from ``old`` to ``new`` begins at ``now``."""
        self.at, self.ok, self.need, self.refused = now, 0.0, whole(old, new, cost), math.inf

    def begin_first(self, new: float, cost: float) -> None:
        """The first step, to ``new``, begins before any answer: every grant so far is of it
        (however the clock stamped them)."""
        self.begin(-math.inf, 0.0, new, cost)

    def over(self, taken_at: float | None, cost: float, saturated: bool, ahead: bool) -> bool:
        """An acceptance: whether the step is over (every grant of it accepted, while the
        budget is the bottleneck; ``ahead``, past every plan: once half of it was, so that a
        busy class never waits on a limit nobody set)."""
        if taken_at is None or taken_at >= self.at - 1e-9:
            self.ok += cost
        return self.over_together(0.0, saturated, ahead)

    def over_together(self, fresh: float, saturated: bool, ahead: bool) -> bool:
        """:meth:`over` for answers told together: ``fresh``, the units of those taken since
        the step began (at ``at`` or later, less 1e-9)."""
        self.ok += fresh
        if ahead:
            return self.ok > 0.0 and self.ok >= 0.5 * self.need
        return saturated and self.ok > 0.0 and self.ok >= self.need


def snap(usage: float, position: float, before: float, levels: Sequence[float]) -> float:
    """The burst learnt at the first limit, when the step to ``before`` met it.

    ``usage``: what the store saw accepted in the window (a floor: answers still in flight,
    or other processes' settles, lag the server's count); ``position``: the lowest of what
    the window held when each request refused in the step was taken (what was sent before
    it: the server's count, if it took its requests in order, however fast it answered the
    429s). A plan's number between the two (or within ``LEVEL_STEP`` above ``usage``) is the
    burst (limits are usually a plan's; the smallest such, so as not to overshoot); else
    ``position``, or ``usage`` if larger. ``position`` ``inf``: not known (``usage`` alone)."""
    if math.isinf(position):
        position = usage
    high = max(position, usage / (1.0 - LEVEL_STEP))
    for level in levels:
        if usage < level <= before and level <= high:
            return level
    return max(usage, position)
