"""Reporting: what a run did so far, per assistant and per phase, for the report and the display.

The run tells the :class:`Ledger` what it expects to do (``expect``), what it did (``advance``),
the requests it sent (``counted``) and how each assistant ended; :meth:`Ledger.report` freezes
that into a :class:`~aiopinecone.provision.ProvisionReport` at any time (also mid-run and after a
cancellation). The :class:`~aiopinecone.provision.ProgressDisplay`, when there is one, is fed from
here only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from .._governor._config import ASSISTANTS_WRITE, FILES_UPLOAD
from ..models.assistants import AssistantStatus
from ._plan import AssistantPlan, FileAction
from ._progress import ProgressDisplay
from ._report import ProvisionReport, Recorder, now_utc

__all__ = ["PHASE_CLASSES", "Ledger"]

PHASE_CLASSES = {"create": ASSISTANTS_WRITE, "update": ASSISTANTS_WRITE, "upload": FILES_UPLOAD}
"""The operation class whose rate limit bounds a phase (deletes mix two classes; readiness and
processing are polls)."""


class Ledger:
    """The records of one run: one :class:`Recorder` per planned assistant, phase counts."""

    def __init__(self, progress: ProgressDisplay | None, clock: Callable[[], float]) -> None:
        self.progress = progress
        self.clock = clock
        self.recorders: dict[str, Recorder] = {}
        self._owed: dict[str, dict[str, int]] = {}
        self.started_at = now_utc()
        self.t0: float | None = None
        self.t1: float | None = None
        self.cancelled = False
        self.requests = 0  # every request of the run, reads and polls included
        self.rate_limited = 0

    def begin(self) -> None:
        """The run begins (its plan may still have to be made)."""
        self.t0 = self.clock()
        self.started_at = now_utc()
        if self.progress is not None:
            self.progress.start()

    def expect_plan(self, plan: Iterable[AssistantPlan]) -> None:
        """A record per planned assistant, and the work each one expects."""
        plans = list(plan)
        self.recorders = {a.name: Recorder(name=a.name, planned=a.action) for a in plans}
        for a in plans:
            rec = self.recorders[a.name]
            if a.action in ("create", "update", "delete"):
                self.expect(rec, a.action)
            if a.action in ("create", "update", "unchanged") and a.status != AssistantStatus.READY:
                self.expect(rec, "ready")
            self.expect_files(rec, a.files)

    async def end(self) -> None:
        """The run ended (done, failed or cancelled): stop the clock and the display."""
        self.t1 = self.clock()
        if self.progress is not None:
            await self.progress.aclose()

    def expect(self, rec: Recorder, phase: str, n: int = 1) -> None:
        """``n`` more units of ``phase`` are owed for ``rec``'s assistant."""
        if n <= 0:
            return
        owed = self._owed.setdefault(rec.name, {})
        owed[phase] = owed.get(phase, 0) + n
        if self.progress is not None:
            self.progress.add_total(phase, n)

    def expect_files(self, rec: Recorder, actions: Sequence[FileAction]) -> None:
        """The uploads, processing waits and deletions that ``actions`` owe."""
        uploads = sum(1 for f in actions if f.uploads)
        self.expect(rec, "upload", uploads)
        self.expect(rec, "process", uploads + sum(1 for f in actions if f.pending))
        self.expect(rec, "delete", sum(len(f.delete_ids) for f in actions))

    def advance(self, rec: Recorder, phase: str, n: int = 1) -> None:
        """``n`` units of ``phase`` were done for ``rec``'s assistant."""
        owed = self._owed.setdefault(rec.name, {})
        owed[phase] = owed.get(phase, 0) - n
        if self.progress is not None:
            self.progress.advance(phase, n)

    def fail(self, rec: Recorder, exc: BaseException) -> None:
        """``rec``'s assistant failed: what it still owed ends as failed."""
        rec.fail(exc)
        owed = self._owed.pop(rec.name, {})
        if self.progress is None:
            return
        for phase, n in owed.items():
            if n > 0:
                self.progress.advance(phase, n, failed=True)

    def counted(self, rec: Recorder | None, requests: int, rate_limited: int) -> None:
        """A call sent ``requests`` requests, ``rate_limited`` of them answered 429."""
        self.requests += requests
        self.rate_limited += rate_limited
        if rec is not None:
            rec.requests += requests
            rec.rate_limited += rate_limited
        if self.progress is not None:
            self.progress.requested(requests)
            if rate_limited:
                self.progress.rate_limited(rate_limited)

    def watch_limits(self, class_rates: Callable[[], Mapping[str, float]]) -> None:
        """Tell the display the most requests per second each operation class may send
        (``class_rates()``, asked at each render), for ETAs that respect the limits."""
        if self.progress is None:
            return

        def phase_rates() -> dict[str, float]:
            rates = class_rates()
            return {phase: rates[op] for phase, op in PHASE_CLASSES.items() if op in rates}

        self.progress.set_ceilings(phase_rates)

    def report(
        self,
        *,
        prune: bool,
        requests: Mapping[str, Any],
        polls: Mapping[str, int],
        outage_seconds: float = 0.0,
    ) -> ProvisionReport:
        """What was done so far (final once the run ended)."""
        now = self.clock()
        end = self.t1 if self.t1 is not None else now
        return ProvisionReport(
            assistants=tuple(
                r.freeze(cancelled=self.cancelled, now=now) for r in self.recorders.values()
            ),
            started_at=self.started_at,
            seconds=(end - self.t0) if self.t0 is not None else 0.0,
            prune=prune,
            cancelled=self.cancelled,
            requests=dict(requests),
            polls=dict(polls),
            outage_seconds=outage_seconds,
            all_requests=self.requests,
            all_rate_limited=self.rate_limited,
        )
