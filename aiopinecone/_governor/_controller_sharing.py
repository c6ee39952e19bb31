"""What one class's controller shares with the other processes of a project (through the store).

:class:`ControllerSharing` is the base of :class:`~aiopinecone._governor._controller.Controller`
holding its side of a shared budget: the learnt numbers it saves (:meth:`~ControllerSharing.state`)
and adopts from another process (:meth:`~ControllerSharing.load`), and the project's shared slow
start (:meth:`~ControllerSharing.step_target`, :meth:`~ControllerSharing.adopt_limit`,
:meth:`~ControllerSharing.burst_began`). Pure, like the controller: no I/O, no asyncio.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Final

from ._slowstart import next_step

if TYPE_CHECKING:
    from ._slowstart import Steps

__all__ = ["MIN_LIMIT", "MIN_WINDOW", "ControllerSharing"]

MIN_LIMIT: Final = 1.0
"""The smallest budget (units per window) learnt or adopted."""
MIN_WINDOW: Final = 1e-3
"""The shortest window (seconds) learnt or adopted."""


class ControllerSharing:
    """The sharing half of :class:`~aiopinecone._governor._controller.Controller`: the slots
    it reads and writes are declared here, set by the controller's ``__init__``."""

    __slots__ = (
        "_burst_from",
        "_cut_end",
        "_epoch_end",
        "_measure_from",
        "_measured",
        "_probe_gap",
        "_steps",
        "_target",
        "adaptive",
        "alone",
        "learnt",
        "levels",
        "limit",
        "probe_at",
        "slow_start",
        "srtt",
        "window",
    )

    adaptive: bool
    alone: bool
    learnt: bool
    levels: tuple[float, ...]
    limit: float
    probe_at: float
    slow_start: bool
    srtt: float
    window: float
    _burst_from: float
    _cut_end: float
    _epoch_end: float
    _measure_from: float
    _measured: float
    _probe_gap: float
    _steps: Steps
    _target: float

    if TYPE_CHECKING:  # the controller's

        def _slot(self) -> float: ...
        def _epoch(self) -> float: ...

    def burst_began(self, at: float) -> None:
        """A shared store saw the window's first entry at ``at`` (every process's requests):
        the burst began no later than that, whatever this process saw of it."""
        self.alone = False
        self._burst_from = min(self._burst_from, at)

    def state(self) -> dict[str, float]:
        """The learnt numbers, to share through the store."""
        return {
            "limit": self._target or self.limit,
            "window": self.window,
            "slow_start": 1.0 if self.slow_start else 0.0,
        }

    def load(self, state: Mapping[str, float], *, now: float | None = None) -> None:
        """Adopt numbers another process learnt (ignored when not adaptive or malformed).
        ``now``: a cut another process published for the answers in flight now, so this
        process's own 429s of the same episode do not cut again."""
        if not self.adaptive:
            return
        limit, window = state.get("limit"), state.get("window")
        if limit is None or window is None or not (limit >= MIN_LIMIT and window > 0):
            return
        was_learning, self.alone = self.slow_start, False
        self.limit, self.window = float(limit), float(window)
        self._target = 0.0
        self.slow_start = bool(state.get("slow_start", 0.0))
        self._probe_gap = self._slot()
        if now is not None and was_learning and not self.slow_start:
            self.learnt = True
            self._cut_end = self._epoch_end = now + self._epoch()
            self._measure_from, self._measured = now, 0.0
            self.probe_at = now + min(self._slot(), max(4.0 * self.srtt, MIN_WINDOW))

    def step_target(self, cost: float) -> float:
        """Slow start: the limit after the current step (a shared store grows to it)."""
        return self.limit + next_step(self.limit, self.levels, cost, merge=self.alone)

    def progress(self) -> dict[str, float]:
        """Slow start's progress (empty out of it), for a client of this process that takes
        the class over (``_projects``): the current step's start, the units it needs and has
        accepted, and when the burst began (times on this process's clock)."""
        if not self.slow_start:
            return {}
        steps = self._steps
        return {
            "step_at": steps.at,
            "step_need": steps.need,
            "step_ok": steps.ok,
            "burst_from": self._burst_from,
        }

    def resume(self, progress: Mapping[str, float]) -> None:
        """Continue the slow start whose :meth:`progress` that is (after :meth:`adopt_limit`
        of its limit): the step goes on with what was accepted of it, the burst began then."""
        if not self.slow_start or "step_need" not in progress:
            return
        steps = self._steps
        steps.at, steps.need = progress["step_at"], progress["step_need"]
        steps.ok = progress["step_ok"]
        self._burst_from = min(self._burst_from, progress["burst_from"])

    def adopt_limit(self, now: float, limit: float) -> None:
        """Slow start shared by several processes: the project's limit is ``limit`` (another
        process grew it, or this one's step lost the race). Grants go against it; the next
        step needs the acceptances a step of that size would have needed here."""
        # Never lower: the replies of settles sent concurrently can arrive out of order, and
        # the project's slow-start limit only grows until a cut (which comes through load()).
        self.alone = False
        if not self.slow_start or not limit >= MIN_LIMIT or limit <= self.limit:
            return
        step = limit - self.limit
        self.limit = limit
        self._steps.at, self._steps.need, self._steps.ok = now, max(step, 1.0) - 1.0, 0.0
