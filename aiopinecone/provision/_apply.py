"""Apply a plan: bounded concurrency, per-class rate limits, one readiness poller, isolation.

How a run goes:

1. ``plan()``: hash the local files (in a thread, each path once), list the assistants (one
   ``list``), list the files of the existing Ready assistants whose files matter, and compute the
   :class:`~aiopinecone.provision.Plan` (a pure function).
2. ``apply()``: one task per assistant, all in one ``TaskGroup``. A task creates or updates its
   assistant, waits until it is Ready, uploads its files, waits for their processing (one
   ``list_files`` per poll for all of the assistant's files), then deletes stale copies and, with
   ``prune``, files the fleet does not list. Pruned assistants are deleted by tasks of their own.
3. Every request goes through the :class:`~aiopinecone.provision.RateLimiter` (per operation
   class) and a semaphore of ``concurrency`` requests in flight. A 429 blocks its class until its
   ``Retry-After`` and the request is tried again; other errors are retried by the client's
   retry policy (5xx, transport errors, with create and upload reconciliation).
4. Readiness is watched by one poller: one ``list`` per poll answers for every pending
   assistant. Polls are batched: while creates are still being sent, a poll waits until about
   ``ready_batch`` assistants are expected to be Ready (by a learnt estimate of the ready delay),
   and no assistant waits longer than ``max_ready_lag`` past its expected time.

A failure is recorded on its assistant and never stops the others. Cancelling ``apply()``
cancels every task, waits for them (so that no request or connection is left behind) and keeps
the report truthful: :attr:`Provisioner.report` says what was done, what was cut short and
what never started.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar

import attrs

from .._core import track_requests
from .._retry import poll_delays
from ..exceptions import (
    APIError,
    ConflictError,
    FileProcessingError,
    NotFoundError,
    PineconeError,
    RateLimitError,
    ValidationError,
    WaitTimeoutError,
)
from ..models.assistants import Assistant, AssistantStatus
from ..models.files import AssistantFile, FileStatus
from ._check import check_specs
from ._errors import FleetError, FleetProblem
from ._files import HASH_METADATA_KEY, sha256_file, upload_metadata, user_metadata
from ._plan import AssistantPlan, FileAction, Plan, make_plan, needs_file_listing, plan_files
from ._poller import ReadinessPoller
from ._progress import Progress
from ._ratelimit import (
    ASSISTANTS_DELETE,
    ASSISTANTS_READ,
    ASSISTANTS_WRITE,
    FILES_DELETE,
    FILES_READ,
    FILES_UPLOAD,
    RateLimiter,
    RateLimits,
)
from ._report import ProvisionReport, Recorder, now_utc
from ._specs import AssistantSpec

if TYPE_CHECKING:
    from ..resources import Assistants

__all__ = ["Provisioner"]

T = TypeVar("T")

_MAX_RATE_LIMITED: Final = 50
"""429s one request may meet before its assistant fails (the limiter makes this rare)."""


class BlockedError(PineconeError):
    """The assistant is in a state provisioning cannot fix (Failed, Terminating...)."""


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

    Parameters: ``prune`` deletes assistants and files the specs do not list;
    ``concurrency`` bounds the requests in flight; ``rate_limits`` is a preset name
    (``adaptive``, ``starter``, ``standard``, ``enterprise``, ``unlimited``) or a
    :class:`RateLimits`; ``progress`` a :class:`Progress` display (or ``None``);
    ``ready_timeout`` / ``processing_timeout`` bound the waits per assistant (seconds).
    ``poll_interval`` is ``(first, max)`` seconds between processing polls of one assistant;
    ``ready_estimate`` the first guess of an assistant's ready delay (learnt as the run goes).
    """

    def __init__(
        self,
        assistants: Assistants,
        specs: Iterable[AssistantSpec],
        *,
        prune: bool = False,
        concurrency: int = 16,
        rate_limits: str | RateLimits = "adaptive",
        progress: Progress | None = None,
        ready_timeout: float = 600.0,
        processing_timeout: float = 900.0,
        poll_interval: tuple[float, float] = (1.0, 10.0),
        ready_estimate: float | None = None,
        ready_batch: int = 12,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        core = assistants._core
        self.specs: tuple[AssistantSpec, ...] = tuple(specs)
        _validate(self.specs, core.api_version)
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise ValidationError(f"concurrency must be an integer >= 1, got {concurrency!r}")
        for label, value in (
            ("ready_timeout", ready_timeout),
            ("processing_timeout", processing_timeout),
            ("poll_interval[0]", poll_interval[0]),
            ("poll_interval[1]", poll_interval[1]),
        ):
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise ValidationError(f"{label} must be a number of seconds > 0, got {value!r}")
        if isinstance(rate_limits, str):
            try:
                rate_limits = RateLimits.preset(rate_limits)
            except ValueError as exc:
                raise ValidationError(str(exc)) from None
        elif not isinstance(rate_limits, RateLimits):
            raise ValidationError(
                f"rate_limits must be a preset name or RateLimits, got {rate_limits!r}"
            )
        self.prune = bool(prune)
        self.concurrency = concurrency
        self.rate_limits = rate_limits
        self.progress = progress
        self.ready_timeout = float(ready_timeout)
        self.processing_timeout = float(processing_timeout)
        self.poll_interval = (float(poll_interval[0]), float(poll_interval[1]))
        scale = rate_limits.window / 60.0
        self.ready_estimate = float(ready_estimate) if ready_estimate is not None else 2.0 * scale
        self.ready_batch = max(1, int(ready_batch))
        self.min_poll_gap = 0.5 * scale
        self.max_ready_lag = max(15.0 * scale, self.ready_estimate)
        self.clock = clock
        self.limiter = RateLimiter(rate_limits, clock=clock)
        self.creates_pending = 0
        self._assistants = assistants
        self._v2026 = core.api_version >= "2026-04"
        self._policy = attrs.evolve(core.retry, max_retry_after=0.0)
        self._semaphore: asyncio.Semaphore | None = None
        self._digests: dict[Path, str] | None = None
        self._plan: Plan | None = None
        self._recorders: dict[str, Recorder] = {}
        self._phases: dict[str, dict[str, int]] = {}
        self._poller: ReadinessPoller | None = None
        self._processing_polls = 0
        self._started_at = now_utc()
        self._t0: float | None = None
        self._t1: float | None = None
        self._cancelled = False

    # -- requests ---------------------------------------------------------------------------

    async def _call(
        self,
        op_class: str,
        rec: Recorder | None,
        fn: Callable[[], Awaitable[T]],
        *,
        landed: Callable[[], Awaitable[T | None]] | None = None,
    ) -> T:
        """One logical request under the limiter and the semaphore; 429s are waited out.

        ``landed``: for a call that makes several requests (an upload, then a look at what it
        created), a 429 may come *after* the write went through. Before trying again, ``landed()``
        looks for the result; if it finds it, that is the call's result and nothing is re-sent.
        """
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.concurrency)
        limiter = self.limiter
        for attempt in range(1, _MAX_RATE_LIMITED + 1):
            permit = await limiter.acquire(op_class)
            with track_requests() as stats:
                try:
                    async with self._semaphore:
                        result = await fn()
                except RateLimitError as exc:
                    limiter.rate_limited(permit, exc.retry_after)
                    self._count(rec, stats.requests, stats.rate_limited)
                    if attempt == _MAX_RATE_LIMITED:
                        raise
                    if landed is not None:
                        found = await landed()
                        if found is not None:
                            return found
                    continue
                except APIError:
                    limiter.accepted(permit)
                    self._count(rec, stats.requests, stats.rate_limited)
                    raise
                except BaseException:
                    limiter.unknown(permit)
                    self._count(rec, stats.requests, stats.rate_limited)
                    raise
            limiter.accepted(permit)
            self._count(rec, stats.requests, stats.rate_limited)
            return result
        raise AssertionError("unreachable")  # pragma: no cover

    def _count(self, rec: Recorder | None, requests: int, rate_limited: int) -> None:
        if rec is not None:
            rec.requests += requests
            rec.rate_limited += rate_limited
        if rate_limited and self.progress is not None:
            self.progress.rate_limited(rate_limited)

    async def list_assistants(self) -> list[Assistant]:
        """Every assistant (each page one rate-limited request)."""
        ops = self._assistants
        if not self._v2026:
            page = await self._call(
                ASSISTANTS_READ, None, lambda: ops.list_page(retry=self._policy)
            )
            return list(page.assistants)
        out: list[Assistant] = []
        token: str | None = None
        seen: set[str] = set()
        for _ in range(10_000):
            page = await self._call(
                ASSISTANTS_READ,
                None,
                lambda t=token: ops.list_page(  # type: ignore[misc]
                    page_size=100, pagination_token=t, retry=self._policy
                ),
            )
            out.extend(page.assistants)
            token = page.pagination.next if page.pagination is not None else None
            if not token or token in seen:
                return out
            seen.add(token)
        return out

    async def _list_files(self, name: str, rec: Recorder | None) -> list[AssistantFile]:
        ops = self._assistants
        return await self._call(
            FILES_READ, rec, lambda: ops.list_files(assistant_name=name, retry=self._policy)
        )

    # -- plan -------------------------------------------------------------------------------

    async def plan(self) -> Plan:
        """Compare the specs with the server: one ``list``, plus file lists where needed."""
        if self._digests is None:
            self._digests = await asyncio.to_thread(_digest_all, self.specs)
        actual = await self.list_assistants()
        existing = {a.name: a for a in actual}
        wanted = [
            s.name
            for s in self.specs
            if s.name in existing and needs_file_listing(s, existing[s.name], prune=self.prune)
        ]
        listed = await asyncio.gather(
            *(self._list_files(name, None) for name in wanted), return_exceptions=True
        )
        files: dict[str, list[AssistantFile]] = {}
        for name, result in zip(wanted, listed, strict=True):
            if isinstance(result, BaseException):
                if not isinstance(result, Exception):
                    raise result
                continue  # apply lists them again for this assistant
            files[name] = result
        self._plan = make_plan(
            self.specs, actual, files=files, digests=self._digests, prune=self.prune
        )
        return self._plan

    # -- report -----------------------------------------------------------------------------

    @property
    def report(self) -> ProvisionReport:
        """What was done so far (final once ``apply()`` returned or was cancelled)."""
        now = self.clock()
        end = self._t1 if self._t1 is not None else now
        requests: dict[str, Any] = dict(self.limiter.snapshot())
        polls = {
            "readiness": self._poller.polls if self._poller is not None else 0,
            "processing": self._processing_polls,
        }
        return ProvisionReport(
            assistants=tuple(
                r.freeze(cancelled=self._cancelled, now=now) for r in self._recorders.values()
            ),
            started_at=self._started_at,
            seconds=(end - self._t0) if self._t0 is not None else 0.0,
            prune=self.prune,
            cancelled=self._cancelled,
            requests=requests,
            polls=polls,
        )

    # -- progress bookkeeping ---------------------------------------------------------------

    def _expect(self, rec: Recorder, phase: str, n: int = 1) -> None:
        if n <= 0:
            return
        owed = self._phases.setdefault(rec.name, {})
        owed[phase] = owed.get(phase, 0) + n
        if self.progress is not None:
            self.progress.add_total(phase, n)

    def _advance(self, rec: Recorder, phase: str, n: int = 1) -> None:
        owed = self._phases.setdefault(rec.name, {})
        owed[phase] = owed.get(phase, 0) - n
        if self.progress is not None:
            self.progress.advance(phase, n)

    def _fail_rest(self, rec: Recorder) -> None:
        owed = self._phases.pop(rec.name, {})
        if self.progress is None:
            return
        for phase, n in owed.items():
            if n > 0:
                self.progress.advance(phase, n, failed=True)

    # -- apply ------------------------------------------------------------------------------

    async def apply(self, plan: Plan | None = None) -> ProvisionReport:
        """Run ``plan`` (computed now if not given); return the report.

        Raises :class:`FleetError` for invalid specs (before any request). Failures of single
        assistants are in the report (``report.failed``), not raised. If cancelled, every
        request is cancelled and awaited, :attr:`report` is marked ``cancelled``, and the
        cancellation propagates.
        """
        self._t0 = self.clock()
        self._started_at = now_utc()
        progress = self.progress
        if progress is not None:
            progress.start()
        poller_task: asyncio.Task[None] | None = None
        try:
            if plan is None:
                plan = self._plan if self._plan is not None else await self.plan()
            if self._digests is None:
                self._digests = await asyncio.to_thread(_digest_all, self.specs)
            self._plan = plan
            self._recorders = {a.name: Recorder(name=a.name, planned=a.action) for a in plan}
            for a in plan:
                self._expect_plan(a)
            self.creates_pending = len(plan.by_action("create"))
            self._poller = ReadinessPoller(self)
            poller_task = asyncio.get_running_loop().create_task(self._poller.run())
            poller_task.add_done_callback(self._poller_ended)
            async with asyncio.TaskGroup() as group:
                for a in plan:
                    group.create_task(self._one(a))
        except asyncio.CancelledError:
            self._cancelled = True
            raise
        finally:
            if poller_task is not None:
                poller_task.cancel()
                await asyncio.wait([poller_task])
            self._t1 = self.clock()
            if progress is not None:
                await progress.aclose()
        return self.report

    def _poller_ended(self, task: asyncio.Task[None]) -> None:
        if task.cancelled() or self._poller is None:
            return
        error = task.exception() or RuntimeError("the readiness poller stopped")
        self._poller.fail_all(error)

    def _expect_plan(self, a: AssistantPlan) -> None:
        rec = self._recorders[a.name]
        if a.action in ("create", "update", "delete"):
            self._expect(rec, a.action)
        if a.action in ("create", "update", "unchanged") and a.status != AssistantStatus.READY:
            self._expect(rec, "ready")
        uploads = sum(1 for f in a.files if f.uploads)
        self._expect(rec, "upload", uploads)
        self._expect(rec, "process", uploads + sum(1 for f in a.files if f.pending))
        self._expect(rec, "delete", sum(len(f.delete_ids) for f in a.files))

    async def _one(self, a: AssistantPlan) -> None:
        rec = self._recorders[a.name]
        try:
            if a.action == "blocked":
                rec.begin(self.clock())
                raise BlockedError(a.reason)
            if a.action == "delete":
                await self._delete_assistant(a, rec)
            else:
                await self._converge(a, rec)
            rec.done = True
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            rec.fail(exc)
            self._fail_rest(rec)
        finally:
            rec.finished = self.clock()
            if self._poller is not None:
                self._poller.forget(a.name)

    def _create_ended(self) -> None:
        if self.creates_pending > 0:
            self.creates_pending -= 1
        if self._poller is not None:
            self._poller.poke()

    async def _delete_assistant(self, a: AssistantPlan, rec: Recorder) -> None:
        rec.begin(self.clock())
        ops = self._assistants
        started = self.clock()
        try:
            await self._call(
                ASSISTANTS_DELETE, rec, lambda: ops.delete(name=a.name, retry=self._policy)
            )
            rec.actions.append("deleted")
        except NotFoundError:
            rec.actions.append("already gone")
        rec.timing("delete", self.clock() - started)
        self._advance(rec, "delete")

    async def _converge(self, a: AssistantPlan, rec: Recorder) -> None:
        spec = a.spec
        assert spec is not None
        ops = self._assistants
        status = a.status
        files_known = a.files_known
        if a.action == "create":
            rec.begin(self.clock())
            started = self.clock()
            try:
                created = await self._call(
                    ASSISTANTS_WRITE,
                    rec,
                    lambda: ops.create(
                        name=spec.name,
                        instructions=spec.instructions,
                        metadata=spec.metadata,
                        region=spec.region,
                        retry=self._policy,
                    ),
                )
                status = created.status
                rec.actions.append("created")
            except ConflictError:
                # It exists after all (made since the plan, or by an earlier run whose answer was
                # lost): adopt it and bring it to the spec like any existing assistant.
                rec.actions.append("adopted existing")
                status, files_known = None, False
                if spec.instructions is not None or spec.metadata is not None:
                    await self._update(spec, rec)
            finally:
                self._create_ended()
            rec.timing("create", self.clock() - started)
            self._advance(rec, "create")
        elif a.action == "update":
            rec.begin(self.clock())
            started = self.clock()
            await self._update(spec, rec)
            rec.timing("update", self.clock() - started)
            self._advance(rec, "update")

        if status != AssistantStatus.READY:
            rec.begin(self.clock())
            started = self.clock()
            assert self._poller is not None
            await self._poller.watch(spec.name)
            rec.actions.append("ready")
            rec.timing("ready", self.clock() - started)
            self._advance(rec, "ready")

        if files_known:
            actions = a.files
        elif spec.files or self.prune:
            rec.begin(self.clock())
            listed = await self._list_files(spec.name, rec)
            assert self._digests is not None
            actions = plan_files(spec.files, self._digests, listed, prune=self.prune)
            uploads = sum(1 for f in actions if f.uploads)
            self._expect(rec, "upload", uploads)
            self._expect(rec, "process", uploads + sum(1 for f in actions if f.pending))
            self._expect(rec, "delete", sum(len(f.delete_ids) for f in actions))
        else:
            actions = ()
        if any(f.kind != "unchanged" or f.pending for f in actions):
            rec.begin(self.clock())
            await self._files(spec, actions, rec)

    async def _update(self, spec: AssistantSpec, rec: Recorder) -> None:
        ops = self._assistants
        kwargs: dict[str, Any] = {}
        if spec.instructions is not None:
            kwargs["instructions"] = spec.instructions
        if spec.metadata is not None:
            kwargs["metadata"] = dict(spec.metadata)
        await self._call(
            ASSISTANTS_WRITE, rec, lambda: ops.update(name=spec.name, retry=self._policy, **kwargs)
        )
        rec.actions.append("updated")

    async def _files(
        self, spec: AssistantSpec, actions: Sequence[FileAction], rec: Recorder
    ) -> None:
        name = spec.name
        ops = self._assistants
        uploads = [f for f in actions if f.uploads]
        # Deleted now: files the fleet does not list (prune) and extra copies of kept files.
        # Stale versions of replaced files go only once their replacement is processed, so the
        # assistant never lacks the document.
        now_ids = [i for f in actions if f.kind in ("delete", "cleanup") for i in f.delete_ids]

        async def upload(f: FileAction) -> None:
            assert f.spec is not None
            assert f.sha256 is not None
            meta = upload_metadata(f.spec.metadata, f.sha256)
            path = f.spec.path
            # Before a repeat, look for the upload (same name, hash and metadata). On 2026-04 an
            # upload is also an upsert by id: one id for every attempt makes a repeat harmless.
            file_id = str(uuid.uuid4()) if self._v2026 else None

            async def landed() -> AssistantFile | None:
                for file in await self._list_files(name, rec):
                    if file.status != FileStatus.DELETING and _same(file, f):
                        return file
                return None

            await self._call(
                FILES_UPLOAD,
                rec,
                lambda: ops.upload_file(
                    assistant_name=name,
                    file_path=path,
                    metadata=meta,
                    file_id=file_id,
                    retry=self._policy,
                ),
                landed=landed,
            )
            rec.files_uploaded += 1
            rec.actions.append(f"{'replaced' if f.kind == 'replace' else 'uploaded'} {f.name}")
            self._advance(rec, "upload")

        started = self.clock()
        await _gather_all(
            [upload(f) for f in uploads] + [self._delete_file(name, i, rec) for i in now_ids]
        )
        if uploads:
            rec.timing("upload", self.clock() - started)
        expected = {f.name: f for f in actions if f.uploads or f.pending}
        if not expected and not any(f.kind == "replace" for f in actions):
            return
        started = self.clock()
        listed = await self._await_processing(spec, expected, rec)
        rec.timing("processing", self.clock() - started)
        # Converge the rest with the same rule the plan uses: stale versions and duplicate
        # copies (a lost-response upload) are what it now plans to delete.
        assert self._digests is not None
        final = plan_files(spec.files, self._digests, listed, prune=False)
        leftover = [i for f in final for i in f.delete_ids if i not in now_ids]
        stale = {i for f in actions if f.kind == "replace" for i in f.delete_ids}
        self._expect(rec, "delete", sum(1 for i in leftover if i not in stale))
        gone = len(stale - set(leftover))  # stale copies someone else removed: nothing to do
        if gone:
            self._advance(rec, "delete", gone)
        await _gather_all([self._delete_file(name, i, rec) for i in leftover])

    async def _delete_file(self, name: str, file_id: str, rec: Recorder) -> None:
        ops = self._assistants
        try:
            await self._call(
                FILES_DELETE,
                rec,
                lambda: ops.delete_file(assistant_name=name, file_id=file_id, retry=self._policy),
            )
            rec.files_deleted += 1
            rec.actions.append(f"deleted file {file_id}")
        except NotFoundError:
            pass  # already gone: the goal is reached
        self._advance(rec, "delete")

    async def _await_processing(
        self, spec: AssistantSpec, expected: Mapping[str, FileAction], rec: Recorder
    ) -> list[AssistantFile]:
        """Poll the assistant's file list until every expected file has an Available copy."""
        name = spec.name
        deadline = self.clock() + self.processing_timeout
        delays = poll_delays(*self.poll_interval)
        remaining = dict(expected)
        listed: list[AssistantFile] = []
        max_polls = 100_000
        for _ in range(max_polls):
            listed = await self._list_files(name, rec)
            self._processing_polls += 1
            for file_name, action in list(remaining.items()):
                state = _processing_state(listed, action)
                if state == FileStatus.AVAILABLE:
                    del remaining[file_name]
                    self._advance(rec, "process")
                elif state == FileStatus.PROCESSING_FAILED:
                    failed = next(
                        (
                            f
                            for f in listed
                            if f.name == file_name and _same(f, action) and f.is_failed
                        ),
                        None,
                    )
                    reason = failed.error_message if failed is not None else None
                    raise FileProcessingError(
                        f"file {file_name!r} of assistant {name!r} failed processing"
                        + (f": {reason}" if reason else ""),
                        name=file_name,
                        status=FileStatus.PROCESSING_FAILED,
                        reason=reason,
                    )
            if not remaining:
                return listed
            if self.clock() >= deadline:
                raise WaitTimeoutError(
                    f"files of assistant {name!r} still processing after "
                    f"{self.processing_timeout} s: {', '.join(sorted(remaining))}",
                    last_status=FileStatus.PROCESSING,
                )
            await asyncio.sleep(min(next(delays), max(0.0, deadline - self.clock())))
        return listed


def _same(file: AssistantFile, action: FileAction) -> bool:
    metadata = file.metadata or {}
    assert action.spec is not None
    return metadata.get(HASH_METADATA_KEY) == action.sha256 and user_metadata(metadata) == dict(
        action.spec.metadata or {}
    )


def _processing_state(listed: Sequence[AssistantFile], action: FileAction) -> str | None:
    """``Available`` if a matching copy is, else ``ProcessingFailed`` if all failed, else None."""
    copies = [
        f
        for f in listed
        if f.name == action.name and f.status != FileStatus.DELETING and _same(f, action)
    ]
    if any(f.is_available for f in copies):
        return FileStatus.AVAILABLE
    if copies and all(f.is_failed for f in copies):
        return FileStatus.PROCESSING_FAILED
    return None


async def _gather_all(coros: Sequence[Awaitable[None]]) -> None:
    """Run all; if some fail, wait for the others and raise the first failure."""
    if not coros:
        return
    results = await asyncio.gather(*coros, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
