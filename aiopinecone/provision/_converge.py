"""Converging: bring one assistant to its spec — create or update, Ready, files, deletions.

One :meth:`Converger.run` per planned assistant (the run starts them all in one ``TaskGroup``).
A task creates or updates its assistant, waits until it is Ready (through the run's one
readiness poller), uploads its files, waits for their processing (one ``list_files`` per poll
for all of the assistant's files), then deletes stale copies and, with ``prune``, files the fleet
does not list. Pruned assistants are deleted by tasks of their own. A failure is recorded on its
assistant and never stops the others. Requests go through :class:`~._calls.Calls`; what was
done is told to the :class:`~._ledger.Ledger`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path

from .._wait import Polled, wait_until
from ..exceptions import (
    ConflictError,
    FileProcessingError,
    NotFoundError,
    PineconeError,
    WaitTimeoutError,
)
from ..models.assistants import AssistantStatus
from ..models.files import AssistantFile, FileStatus
from ._calls import Calls
from ._files import is_same_file, upload_metadata
from ._ledger import Ledger
from ._plan import AssistantPlan, FileAction, plan_files
from ._poller import ReadinessPoller
from ._report import Recorder
from ._specs import AssistantSpec

__all__ = ["BlockedError", "Converger"]


class BlockedError(PineconeError):
    """The assistant is in a state provisioning cannot fix (Failed, Terminating...)."""


class Converger:
    """The per-assistant work of one run."""

    def __init__(
        self,
        *,
        calls: Calls,
        ledger: Ledger,
        poller: ReadinessPoller,
        digests: Mapping[Path, str],
        prune: bool,
        processing_timeout: float,
        poll_interval: tuple[float, float],
        clock: Callable[[], float],
        create_ended: Callable[[], None],
    ) -> None:
        self._calls = calls
        self._ledger = ledger
        self._poller = poller
        self._digests = digests
        self._prune = prune
        self._processing_timeout = processing_timeout
        self._poll_interval = poll_interval
        self._clock = clock
        self._create_ended = create_ended
        self.processing_polls = 0

    async def run(self, a: AssistantPlan) -> None:
        """Carry out ``a``; a failure ends up in the assistant's record, never raised."""
        rec = self._ledger.recorders[a.name]
        try:
            if a.action == "blocked":
                rec.begin(self._clock())
                raise BlockedError(a.reason)
            if a.action == "delete":
                await self._delete_assistant(a, rec)
            else:
                await self._converge(a, rec)
            rec.done = True
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._ledger.fail(rec, exc)
        finally:
            rec.finished = self._clock()
            self._poller.forget(a.name)

    async def _delete_assistant(self, a: AssistantPlan, rec: Recorder) -> None:
        rec.begin(self._clock())
        started = self._clock()
        try:
            await self._calls.delete_assistant(a.name, rec)
            rec.actions.append("deleted")
        except NotFoundError:
            rec.actions.append("already gone")
        rec.timing("delete", self._clock() - started)
        self._ledger.advance(rec, "delete")

    async def _converge(self, a: AssistantPlan, rec: Recorder) -> None:
        spec = a.spec
        assert spec is not None
        ledger = self._ledger
        status = a.status
        files_known = a.files_known
        if a.action == "create":
            rec.begin(self._clock())
            started = self._clock()
            try:
                created = await self._calls.create(spec, rec)
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
            rec.timing("create", self._clock() - started)
            ledger.advance(rec, "create")
        elif a.action == "update":
            rec.begin(self._clock())
            started = self._clock()
            await self._update(spec, rec)
            rec.timing("update", self._clock() - started)
            ledger.advance(rec, "update")

        if status != AssistantStatus.READY:
            rec.begin(self._clock())
            started = self._clock()
            await self._poller.watch(spec.name)
            rec.actions.append("ready")
            rec.timing("ready", self._clock() - started)
            ledger.advance(rec, "ready")

        if files_known:
            actions = a.files
        elif spec.files or self._prune:
            rec.begin(self._clock())
            listed = await self._calls.list_files(spec.name, rec)
            actions = plan_files(spec.files, self._digests, listed, prune=self._prune)
            ledger.expect_files(rec, actions)
        else:
            actions = ()
        if any(f.kind != "unchanged" or f.pending for f in actions):
            rec.begin(self._clock())
            await self._files(spec, actions, rec)

    async def _update(self, spec: AssistantSpec, rec: Recorder) -> None:
        await self._calls.update(spec, rec)
        rec.actions.append("updated")

    async def _upload(self, name: str, f: FileAction, rec: Recorder) -> None:
        assert f.spec is not None
        assert f.sha256 is not None
        spec, sha256 = f.spec, f.sha256

        async def landed() -> AssistantFile | None:
            # Before a repeat, look for the upload (same name, hash and metadata).
            for file in await self._calls.list_files(name, rec):
                if file.status != FileStatus.DELETING and is_same_file(
                    file.name, file.metadata, spec, sha256
                ):
                    return file
            return None

        meta = upload_metadata(spec.metadata, sha256)
        await self._calls.upload(name, spec.path, meta, rec, landed=landed)
        rec.files_uploaded += 1
        rec.actions.append(f"{'replaced' if f.kind == 'replace' else 'uploaded'} {f.name}")
        self._ledger.advance(rec, "upload")

    async def _files(
        self, spec: AssistantSpec, actions: Sequence[FileAction], rec: Recorder
    ) -> None:
        name = spec.name
        ledger = self._ledger
        uploads = [f for f in actions if f.uploads]
        # Deleted now: files the fleet does not list (prune) and extra copies of kept files.
        # Stale versions of replaced files go only once their replacement is processed, so the
        # assistant never lacks the document.
        now_ids = [i for f in actions if f.kind in ("delete", "cleanup") for i in f.delete_ids]
        started = self._clock()
        await _gather_all(
            [self._upload(name, f, rec) for f in uploads]
            + [self._delete_file(name, i, rec) for i in now_ids]
        )
        if uploads:
            rec.timing("upload", self._clock() - started)
        expected = {f.name: f for f in actions if f.uploads or f.pending}
        if not expected and not any(f.kind == "replace" for f in actions):
            return
        started = self._clock()
        listed = await self._await_processing(spec, expected, rec)
        rec.timing("processing", self._clock() - started)
        # Converge the rest with the same rule the plan uses: stale versions and duplicate
        # copies (a lost-response upload) are what it now plans to delete.
        final = plan_files(spec.files, self._digests, listed, prune=False)
        leftover = [i for f in final for i in f.delete_ids if i not in now_ids]
        stale = {i for f in actions if f.kind == "replace" for i in f.delete_ids}
        ledger.expect(rec, "delete", sum(1 for i in leftover if i not in stale))
        gone = len(stale - set(leftover))  # stale copies someone else removed: nothing to do
        if gone:
            ledger.advance(rec, "delete", gone)
        await _gather_all([self._delete_file(name, i, rec) for i in leftover])

    async def _delete_file(self, name: str, file_id: str, rec: Recorder) -> None:
        try:
            await self._calls.delete_file(name, file_id, rec)
            rec.files_deleted += 1
            rec.actions.append(f"deleted file {file_id}")
        except NotFoundError:
            pass  # already gone: the goal is reached
        self._ledger.advance(rec, "delete")

    async def _await_processing(
        self, spec: AssistantSpec, expected: Mapping[str, FileAction], rec: Recorder
    ) -> list[AssistantFile]:
        """Poll the assistant's file list until every expected file has an Available copy."""
        name = spec.name
        remaining = dict(expected)
        listed: list[AssistantFile] = []

        async def poll() -> Polled:
            nonlocal listed
            listed = await self._calls.list_files(name, rec)
            self.processing_polls += 1
            for file_name, action in list(remaining.items()):
                copies = _copies(listed, action)
                if any(f.is_available for f in copies):
                    del remaining[file_name]
                    self._ledger.advance(rec, "process")
                elif copies and all(f.is_failed for f in copies):
                    reason = copies[0].error_message
                    raise FileProcessingError(
                        f"file {file_name!r} of assistant {name!r} failed processing"
                        + (f": {reason}" if reason else ""),
                        name=file_name,
                        status=FileStatus.PROCESSING_FAILED,
                        reason=reason,
                    )
            return Polled(done=not remaining, status=FileStatus.PROCESSING)

        first, most = self._poll_interval
        try:
            await wait_until(
                poll,
                timeout=self._processing_timeout,
                what=f"files of assistant {name!r} still processing",
                first_delay=first,
                max_delay=most,
            )
        except WaitTimeoutError:
            raise WaitTimeoutError(
                f"files of assistant {name!r} still processing after "
                f"{self._processing_timeout} s: {', '.join(sorted(remaining))}",
                last_status=FileStatus.PROCESSING,
            ) from None
        return listed


def _copies(listed: Sequence[AssistantFile], action: FileAction) -> list[AssistantFile]:
    """The server copies of ``action``'s file (the identity rule), not being deleted."""
    assert action.spec is not None
    assert action.sha256 is not None
    return [
        f
        for f in listed
        if f.status != FileStatus.DELETING
        and is_same_file(f.name, f.metadata, action.spec, action.sha256)
    ]


async def _gather_all(coros: Sequence[Awaitable[None]]) -> None:
    """Run all; if some fail, wait for the others and raise the first failure."""
    if not coros:
        return
    results = await asyncio.gather(*coros, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
