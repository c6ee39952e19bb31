"""The :class:`Provisioner`: plan a fleet against the server, apply the plan, report.

How a run goes:

1. ``plan()``: hash the local files (in a thread, each path once), list the assistants (one
   ``list``), list the files of the existing Ready assistants whose files matter, and compute the
   :class:`~aiopinecone.provision.Plan` (a pure function).
2. ``apply()``: one task per assistant, all in one ``TaskGroup`` (converging: ``_converge.py``).
3. Every request goes through one wrapper (calling: ``_calls.py``): the rate limiter per
   operation class and a semaphore of ``concurrency`` requests in flight. A 429 blocks its class
   until its ``Retry-After`` and the request is tried again; other errors are retried by the
   client's retry policy (5xx, transport errors, with create and upload reconciliation).
4. Readiness is watched by one poller (``_poller.py``): one ``list`` per poll answers for every
   pending assistant. Polls are batched: while creates are still being sent, a poll waits until
   about ``ready_batch`` assistants are expected to be Ready (by a learnt estimate of the ready
   delay), and no assistant waits longer than ``max_ready_lag`` past its expected time.
5. What was done is kept by the ledger (reporting: ``_ledger.py``).

A failure is recorded on its assistant and never stops the others. Cancelling ``apply()``
cancels every task, waits for them (so that no request or connection is left behind) and keeps
the report truthful: :attr:`Provisioner.report` says what was done, what was cut short and
what never started.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Unpack

import attrs

from .._governor import Governor
from .._retry import RetryPolicy
from .._stats import RequestStats, tracking
from ..exceptions import ValidationError
from ..models.assistants import Assistant
from ..models.files import AssistantFile
from ._calls import Calls, ProvisionClient
from ._check import check_specs
from ._converge import Converger
from ._errors import FleetError, FleetProblem
from ._files import sha256_file
from ._ledger import Ledger
from ._options import ProvisionKeywords, ProvisionOptions
from ._plan import Plan, make_plan, needs_file_listing
from ._poller import ReadinessPoller
from ._report import ProvisionReport
from ._specs import AssistantSpec

__all__ = ["Provisioner"]


def _validate(specs: Sequence[AssistantSpec], api_version: str) -> None:
    issues = check_specs(specs, api_version=api_version)
    if issues:
        problems = []
        for issue in issues:
            spec = specs[issue.index]
            name = getattr(spec, "name", "?")
            path = f"specs[{issue.index}]"
            if issue.field:
                path += f".{issue.field}"
            if issue.file_index is not None:
                path += f"[{issue.file_index}]"
            problems.append(FleetProblem(message=issue.message, path=f"{path} ({name})"))
        raise FleetError(problems)


def _digest_all(specs: Sequence[AssistantSpec]) -> dict[Path, str]:
    out: dict[Path, str] = {}
    for spec in specs:
        for file in spec.files:
            if file.path not in out:
                out[file.path] = sha256_file(file.path)
    return out


class Provisioner:
    """Plans and applies a fleet of :class:`AssistantSpec` against one client.

    Create it with ``pc.assistants.provisioner(specs, ...)``; ``await plan()`` computes the plan,
    ``await apply()`` runs it and returns the :class:`ProvisionReport`. :attr:`report` is a
    truthful snapshot at any time — also after ``apply()`` was cancelled.

    ``client`` is anything with the methods of :class:`ProvisionClient` (``pc.assistants``);
    ``api_version``, ``retry`` and ``governor`` default to the client's own (its ``api_version``,
    ``retry`` and ``governor`` attributes; without a governor the run limits its own calls;
    without a retry policy it uses ``RetryPolicy()``). The options come as a
    :class:`ProvisionOptions` (``options``) and/or as its keywords (``prune=True,
    concurrency=8, rate_limits="standard"``...), which override it.
    Raises :class:`FleetError` for invalid specs and
    :class:`~aiopinecone.ValidationError` for invalid options (nothing is sent).
    """

    def __init__(
        self,
        client: ProvisionClient,
        specs: Iterable[AssistantSpec],
        *,
        api_version: str | None = None,
        retry: RetryPolicy | None = None,
        governor: Governor | None = None,
        options: ProvisionOptions | None = None,
        clock: Callable[[], float] = time.monotonic,
        **keywords: Unpack[ProvisionKeywords],
    ) -> None:
        # Not given: what the client says (``pc.assistants`` has all three).
        if api_version is None:
            api_version = getattr(client, "api_version", None)
            if not isinstance(api_version, str):
                raise ValidationError(
                    "Provisioner needs api_version= for a client without an api_version"
                )
        if retry is None:
            retry = getattr(client, "retry", None)
        if governor is None:
            governor = getattr(client, "governor", None)
        self.specs: tuple[AssistantSpec, ...] = tuple(specs)
        _validate(self.specs, api_version)
        self.options = opts = ProvisionOptions.build(options, **keywords)
        if opts.shard is not None:
            # The whole fleet is checked (every shard sees the same errors); this run keeps its
            # shard's assistants, and plan() ignores the server's assistants of other shards.
            self.specs = tuple(opts.shard.select(self.specs))
        scale = opts.rate_limits.window / 60.0
        # The readiness poller's schedule (see _poller.PollerHost).
        self.clock = clock
        self.ready_timeout = opts.ready_timeout
        self.ready_estimate = (
            opts.ready_estimate if opts.ready_estimate is not None else 2.0 * scale
        )
        self.ready_batch = opts.ready_batch
        self.min_poll_gap = 0.5 * scale
        self.max_ready_lag = max(15.0 * scale, self.ready_estimate)
        self.creates_pending = 0
        self._ledger = Ledger(opts.progress, clock)
        self._calls = Calls(
            client,
            api_version=api_version,
            retry=retry if retry is not None else RetryPolicy(),
            rate_limits=opts.rate_limits,
            concurrency=opts.concurrency,
            clock=clock,
            counted=self._ledger.counted,
            governor=governor,
        )
        self._stats = RequestStats()  # the whole run's requests (its outage waits)
        self._ledger.watch_limits(self._calls.class_rates)
        self._digests: dict[Path, str] | None = None
        self._plan: Plan | None = None
        self._poller: ReadinessPoller | None = None
        self._converger: Converger | None = None

    async def list_assistants(self) -> list[Assistant]:
        """Every assistant (each page one rate-limited request)."""
        return await self._calls.list_assistants()

    async def _list_files(self, name: str) -> list[AssistantFile]:
        return await self._calls.list_files(name, None)

    # -- plan -------------------------------------------------------------------------------

    async def _digests_of_specs(self) -> dict[Path, str]:
        if self._digests is None:
            self._digests = await asyncio.to_thread(_digest_all, self.specs)
        return self._digests

    async def plan(self) -> Plan:
        """Compare the specs with the server: one ``list``, plus file lists where needed."""
        prune = self.options.prune
        digests = await self._digests_of_specs()
        with tracking(self._stats):
            actual = await self.list_assistants()
        if self.options.shard is not None:
            actual = self.options.shard.select(actual)
        existing = {a.name: a for a in actual}
        wanted = [
            s.name
            for s in self.specs
            if s.name in existing and needs_file_listing(s, existing[s.name], prune=prune)
        ]
        listed = await asyncio.gather(
            *(self._list_files(name) for name in wanted), return_exceptions=True
        )
        files: dict[str, list[AssistantFile]] = {}
        for name, result in zip(wanted, listed, strict=True):
            if isinstance(result, BaseException):
                if not isinstance(result, Exception):
                    raise result
                continue  # apply lists them again for this assistant
            files[name] = result
        self._plan = make_plan(self.specs, actual, files=files, digests=digests, prune=prune)
        return self._plan

    # -- report -----------------------------------------------------------------------------

    @property
    def report(self) -> ProvisionReport:
        """What was done so far (final once ``apply()`` returned or was cancelled)."""
        polls = {
            "readiness": self._poller.polls if self._poller is not None else 0,
            "processing": (self._converger.processing_polls if self._converger is not None else 0),
        }
        report = self._ledger.report(
            prune=self.options.prune,
            requests=self._calls.snapshot(),
            polls=polls,
            outage_seconds=self._stats.outage_seconds,
        )
        shard = self.options.shard
        return report if shard is None else attrs.evolve(report, shard=shard)

    # -- apply ------------------------------------------------------------------------------

    async def apply(self, plan: Plan | None = None) -> ProvisionReport:
        """Run ``plan`` (computed now if not given); return the report.

        Raises :class:`FleetError` for invalid specs (before any request). Failures of single
        assistants are in the report (``report.failed``), not raised. If cancelled, every
        request is cancelled and awaited, :attr:`report` is marked ``cancelled``, and the
        cancellation propagates.
        """
        with tracking(self._stats):
            return await self._apply(plan)

    async def _apply(self, plan: Plan | None) -> ProvisionReport:
        ledger = self._ledger
        ledger.begin()
        poller_task: asyncio.Task[None] | None = None
        try:
            if plan is None:
                plan = self._plan if self._plan is not None else await self.plan()
            digests = await self._digests_of_specs()
            self._plan = plan
            ledger.expect_plan(plan)
            self.creates_pending = len(plan.by_action("create"))
            self._poller = poller = ReadinessPoller(self)
            self._converger = converger = Converger(
                calls=self._calls,
                ledger=ledger,
                poller=poller,
                digests=digests,
                prune=self.options.prune,
                processing_timeout=self.options.processing_timeout,
                poll_interval=self.options.poll_interval,
                clock=self.clock,
                create_ended=self._create_ended,
            )
            poller_task = asyncio.get_running_loop().create_task(poller.run())
            poller_task.add_done_callback(self._poller_ended)
            async with asyncio.TaskGroup() as group:
                for a in plan:
                    group.create_task(converger.run(a))
        except asyncio.CancelledError:
            ledger.cancelled = True
            raise
        finally:
            if poller_task is not None:
                poller_task.cancel()
                await asyncio.wait([poller_task])
            await ledger.end()
        return self.report

    def _poller_ended(self, task: asyncio.Task[None]) -> None:
        if task.cancelled() or self._poller is None:
            return
        error = task.exception() or RuntimeError("the readiness poller stopped")
        self._poller.fail_all(error)

    def _create_ended(self) -> None:
        if self.creates_pending > 0:
            self.creates_pending -= 1
        if self._poller is not None:
            self._poller.poke()
