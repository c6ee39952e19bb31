"""``pc.assistants.provision`` / ``plan`` / ``provisioner``: fleets of assistants, declaratively."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..provision._apply import Provisioner
from ..provision._progress import Progress
from ..provision._ratelimit import RateLimits
from ..provision._specs import AssistantSpec

if TYPE_CHECKING:
    from .._core import Core
    from ..provision._plan import Plan
    from ..provision._report import ProvisionReport
    from . import Assistants

__all__ = ["ProvisionMixin"]


class ProvisionMixin:
    """Bulk provisioning methods of ``pc.assistants``."""

    _core: Core

    def provisioner(
        self,
        specs: Iterable[AssistantSpec],
        *,
        prune: bool = False,
        concurrency: int = 16,
        rate_preset: str | RateLimits = "adaptive",
        progress: bool | Progress = False,
        ready_timeout: float = 600.0,
        processing_timeout: float = 900.0,
        poll_interval: tuple[float, float] = (1.0, 10.0),
        ready_estimate: float | None = None,
        ready_batch: int = 12,
    ) -> Provisioner:
        """A :class:`~aiopinecone.provision.Provisioner` for ``specs`` (plan, apply, report).

        Use it instead of :meth:`provision` to keep a handle on the run: its ``report`` stays
        available (and truthful) when ``apply()`` is cancelled. Options as for :meth:`provision`.
        Raises :class:`~aiopinecone.provision.FleetError` for invalid specs (nothing is sent).
        """
        display: Progress | None
        if progress is True:
            display = Progress(sys.stderr)
        elif progress is False or progress is None:
            display = None
        else:
            display = progress
        me: Assistants = self  # type: ignore[assignment]
        return Provisioner(
            me,
            specs,
            prune=prune,
            concurrency=concurrency,
            rate_limits=rate_preset,
            progress=display,
            ready_timeout=ready_timeout,
            processing_timeout=processing_timeout,
            poll_interval=poll_interval,
            ready_estimate=ready_estimate,
            ready_batch=ready_batch,
        )

    async def plan(
        self,
        specs: Iterable[AssistantSpec],
        *,
        prune: bool = False,
        concurrency: int = 16,
        rate_preset: str | RateLimits = "adaptive",
    ) -> Plan:
        """What :meth:`provision` would do, without changing anything.

        One ``list`` of assistants, plus one ``list_files`` per existing Ready assistant whose
        files matter; every request is rate-limited like in :meth:`provision`. ``print(plan.
        render())`` shows it as a diff. Raises :class:`~aiopinecone.provision.FleetError` for
        invalid specs before any request.
        """
        run = self.provisioner(specs, prune=prune, concurrency=concurrency, rate_preset=rate_preset)
        return await run.plan()

    async def provision(
        self,
        specs: Iterable[AssistantSpec],
        *,
        prune: bool = False,
        concurrency: int = 16,
        rate_preset: str | RateLimits = "adaptive",
        progress: bool | Progress = False,
        ready_timeout: float = 600.0,
        processing_timeout: float = 900.0,
        poll_interval: tuple[float, float] = (1.0, 10.0),
        ready_estimate: float | None = None,
        ready_batch: int = 12,
    ) -> ProvisionReport:
        """Bring the server to ``specs``: create, update, upload, wait; with ``prune``, delete.

        Idempotent and resumable: running it again (after success, a crash or a cancellation)
        does only what is still missing, without duplicates. Knowledge files are matched by name
        and content hash (metadata key ``aiopinecone_sha256``), so unchanged files are skipped
        and changed ones replaced.

        - ``prune``: delete assistants the specs do not list, and files of listed assistants the
          specs do not list. Off by default.
        - ``concurrency``: requests in flight at most.
        - ``rate_preset``: ``"adaptive"`` (default: starts at the Starter plan's limits and learns
          the real ones from 429 answers), ``"starter"``, ``"standard"``, ``"enterprise"``,
          ``"unlimited"``, or a :class:`~aiopinecone.provision.RateLimits`.
        - ``progress``: ``True`` for a live progress line on standard error, or a
          :class:`~aiopinecone.provision.Progress`.
        - ``ready_timeout``, ``processing_timeout``: seconds an assistant may take to become
          Ready, and its files to be processed, before it fails.
        - ``poll_interval``: ``(first, max)`` seconds between processing polls of one assistant
          (one ``list_files`` each).
        - ``ready_estimate``, ``ready_batch``: readiness polling (one ``list`` for every pending
          assistant) waits until about ``ready_batch`` assistants are expected Ready, guessing
          their ready delay from ``ready_estimate`` seconds at first, then from what it sees.

        Returns the :class:`~aiopinecone.provision.ProvisionReport`; failures of single
        assistants are in it (``report.failed``) rather than raised. Raises
        :class:`~aiopinecone.provision.FleetError` for invalid specs, before any request.
        """
        run = self.provisioner(
            specs,
            prune=prune,
            concurrency=concurrency,
            rate_preset=rate_preset,
            progress=progress,
            ready_timeout=ready_timeout,
            processing_timeout=processing_timeout,
            poll_interval=poll_interval,
            ready_estimate=ready_estimate,
            ready_batch=ready_batch,
        )
        return await run.apply()
