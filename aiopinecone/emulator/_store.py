"""The emulator's state: assistants, files and operations, with lazily computed lifecycles.

Status transitions are derived from timestamps when a record is read (an assistant is ``Ready``
once ``ready_delay`` has passed), so no background task is needed and a restored state keeps
its timeline. Every public method takes one re-entrant lock: tests may call them from any thread.
"""

from __future__ import annotations

import math
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from ._documents import check_document
from ._records import (
    ASSISTANT_FAILED,
    FILE_AVAILABLE,
    FILE_FAILED,
    AssistantRecord,
    FileRecord,
    OperationRecord,
    StoreListener,
)

FAIL_MARKER = "EMULATOR_FAIL_PROCESSING"
"""A file whose content contains this text, or whose metadata has ``{"emulator_fail": true}``,
ends in ``ProcessingFailed`` instead of ``Available``."""


class StoreError(Exception):
    """A store precondition failed; ``kind`` is ``not_found``, ``exists`` or ``quota``."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def _wants_failure(content: bytes, metadata: Mapping[str, Any] | None) -> bool:
    if metadata is not None and metadata.get("emulator_fail") is True:
        return True
    return FAIL_MARKER.encode() in content


class Store:
    """Assistants, files and operations; thread-safe; lifecycles computed from timestamps."""

    def __init__(
        self,
        *,
        ready_delay: float = 0.0,
        file_processing_delay: float = 0.0,
        delete_delay: float = 0.0,
        quota: int | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.ready_delay = ready_delay
        self.file_processing_delay = file_processing_delay
        self.delete_delay = delete_delay
        self.quota = quota
        self._clock = clock
        self._lock = threading.RLock()
        self._assistants: dict[str, AssistantRecord] = {}
        self._files: dict[str, dict[str, FileRecord]] = {}
        self._operations: dict[str, dict[str, OperationRecord]] = {}
        self._listener: StoreListener | None = None
        # Earliest pending ``gone_at``: requests skip the purge scan until then.
        self._next_purge = math.inf

    # -- plumbing -------------------------------------------------------------------------

    def now(self) -> float:
        """The store's clock (POSIX seconds)."""
        return self._clock()

    def attach(self, listener: StoreListener | None) -> None:
        """Send every later change to ``listener`` (persistence)."""
        self._listener = listener

    @contextmanager
    def locked(self) -> Iterator[float]:
        """Hold the lock, purge what has expired, and yield the current time."""
        with self._lock:
            now = self._clock()
            self._purge(now)
            yield now

    def _purge(self, now: float) -> None:
        if now < self._next_purge:
            return
        for name in [n for n, a in self._assistants.items() if a.gone_at and now >= a.gone_at]:
            self._drop_assistant(name)
        for assistant_name, files in self._files.items():
            for fid in [i for i, f in files.items() if f.gone_at and now >= f.gone_at]:
                del files[fid]
                if self._listener is not None:
                    self._listener.delete_file(assistant_name, fid)
        pending = [a.gone_at for a in self._assistants.values() if a.gone_at is not None]
        pending += [
            f.gone_at for fs in self._files.values() for f in fs.values() if f.gone_at is not None
        ]
        self._next_purge = min(pending, default=math.inf)

    def _expire_at(self, when: float) -> None:
        self._next_purge = min(self._next_purge, when)

    def _drop_assistant(self, name: str) -> None:
        del self._assistants[name]
        self._files.pop(name, None)
        self._operations.pop(name, None)
        if self._listener is not None:
            self._listener.delete_assistant(name)

    def load(
        self,
        assistants: list[AssistantRecord],
        files: list[FileRecord],
        operations: list[OperationRecord],
    ) -> None:
        """Replace the state with restored records (no listener calls)."""
        with self._lock:
            self._assistants = {a.name: a for a in assistants}
            self._files = {a.name: {} for a in assistants}
            self._operations = {a.name: {} for a in assistants}
            for f in files:
                if f.assistant_name in self._files:
                    self._files[f.assistant_name][f.id] = f
            for op in operations:
                if op.assistant_name in self._operations:
                    self._operations[op.assistant_name][op.id] = op
            self._next_purge = -math.inf  # rescan on next access

    def reset(self) -> None:
        """Forget every assistant, file and operation (persisted state too)."""
        with self._lock:
            for name in list(self._assistants):
                self._drop_assistant(name)

    # -- assistants -----------------------------------------------------------------------

    def create_assistant(
        self,
        name: str,
        *,
        instructions: str | None = None,
        metadata: dict[str, Any] | None = None,
        region: str = "us",
    ) -> AssistantRecord:
        """Create an assistant (``Initializing`` until ``ready_delay`` has passed)."""
        with self.locked() as now:
            if name in self._assistants:
                raise StoreError("exists", f"Assistant with name {name!r} already exists.")
            if self.quota is not None and len(self._assistants) >= self.quota:
                raise StoreError(
                    "quota",
                    f"The project has reached its quota of {self.quota} assistants. "
                    "Delete an assistant or upgrade your plan to create more.",
                )
            record = AssistantRecord(
                name=name,
                instructions=instructions,
                metadata=metadata,
                region=region,
                created_at=now,
                updated_at=now,
                ready_at=now + self.ready_delay,
            )
            self._assistants[name] = record
            self._files[name] = {}
            self._operations[name] = {}
            self._save_assistant(record)
            return record

    def get_assistant(self, name: str) -> AssistantRecord:
        """The assistant called ``name``; :class:`StoreError` ``not_found`` if there is none."""
        with self.locked():
            record = self._assistants.get(name)
            if record is None:
                raise StoreError("not_found", f'Assistant "{name}" not found.')
            return record

    def list_assistants(self) -> list[AssistantRecord]:
        """Every assistant, oldest first."""
        with self.locked():
            return sorted(self._assistants.values(), key=lambda a: (a.created_at, a.name))

    def update_assistant(
        self,
        name: str,
        *,
        instructions: str | None = None,
        metadata: dict[str, Any] | None = None,
        set_instructions: bool = False,
        set_metadata: bool = False,
    ) -> AssistantRecord:
        """Replace the given fields (``set_*`` says which were sent, so ``None`` can clear)."""
        with self.locked() as now:
            record = self.get_assistant(name)
            if set_instructions:
                record.instructions = instructions
            if set_metadata:
                record.metadata = metadata
            record.updated_at = now
            self._save_assistant(record)
            return record

    def delete_assistant(self, name: str) -> AssistantRecord:
        """Start deleting: ``Terminating`` for ``delete_delay`` seconds, then gone."""
        with self.locked() as now:
            record = self.get_assistant(name)
            if record.gone_at is None:
                record.gone_at = now + self.delete_delay
                self._expire_at(record.gone_at)
                record.updated_at = now
                self._save_assistant(record)
            if now >= record.gone_at:
                self._drop_assistant(name)
            return record

    def fail_assistant(self, name: str, status: str = ASSISTANT_FAILED) -> None:
        """Force an assistant into ``Failed`` (or ``InitializationFailed``), for tests."""
        with self.locked():
            record = self.get_assistant(name)
            record.failed_status = status
            self._save_assistant(record)

    def __contains__(self, name: object) -> bool:
        with self.locked():
            return name in self._assistants

    def __len__(self) -> int:
        with self.locked():
            return len(self._assistants)

    def _save_assistant(self, record: AssistantRecord) -> None:
        if self._listener is not None:
            self._listener.save_assistant(record)

    # -- files ----------------------------------------------------------------------------

    def put_file(
        self,
        assistant_name: str,
        *,
        name: str,
        content: bytes,
        metadata: dict[str, Any] | None = None,
        multimodal: bool = False,
        file_id: str | None = None,
    ) -> tuple[FileRecord, bool]:
        """Create a file, or replace the one with ``file_id``; returns ``(record, created)``.

        Content that is not what the name's extension says (a ``.pdf`` that is not a PDF)
        ends ``ProcessingFailed`` with an ``error_message``, like the service's processing.
        """
        with self.locked() as now:
            self.get_assistant(assistant_name)
            files = self._files[assistant_name]
            fid = file_id or str(uuid.uuid4())
            existing = files.get(fid)
            error = check_document(name, content)
            if _wants_failure(content, metadata):
                error = f"File processing failed for {name!r}: the emulator was asked to fail it."
            record = FileRecord(
                id=fid,
                assistant_name=assistant_name,
                name=name,
                content=content,
                metadata=metadata,
                multimodal=multimodal,
                created_on=existing.created_on if existing is not None else now,
                updated_on=now,
                available_at=now + self.file_processing_delay,
                error_message=error,
            )
            files[fid] = record
            self._save_file(record)
            return record, existing is None

    def get_file(self, assistant_name: str, file_id: str) -> FileRecord:
        """One file; :class:`StoreError` ``not_found`` if the assistant or file does not exist."""
        with self.locked():
            self.get_assistant(assistant_name)
            record = self._files[assistant_name].get(file_id)
            if record is None:
                raise StoreError(
                    "not_found",
                    f"File with id {file_id} not found in provided assistant",
                )
            return record

    def list_files(self, assistant_name: str) -> list[FileRecord]:
        """Files of one assistant, oldest first."""
        with self.locked():
            self.get_assistant(assistant_name)
            return sorted(self._files[assistant_name].values(), key=lambda f: (f.created_on, f.id))

    def delete_file(self, assistant_name: str, file_id: str) -> tuple[FileRecord, bool]:
        """Start deleting a file; ``(record, immediate)`` - failed files go at once."""
        with self.locked() as now:
            record = self.get_file(assistant_name, file_id)
            immediate = record.status(now) == FILE_FAILED or self.delete_delay <= 0
            if immediate:
                del self._files[assistant_name][file_id]
                if self._listener is not None:
                    self._listener.delete_file(assistant_name, file_id)
            elif record.gone_at is None:
                record.gone_at = now + self.delete_delay
                self._expire_at(record.gone_at)
                record.updated_on = now
                self._save_file(record)
            return record, immediate

    def fail_processing(
        self, assistant_name: str, file_id: str, message: str | None = None
    ) -> None:
        """Make a file end in ``ProcessingFailed`` (now, or when its processing delay ends)."""
        with self.locked():
            record = self.get_file(assistant_name, file_id)
            record.error_message = message or f"File processing failed for {record.name!r}."
            self._save_file(record)
            for op in self._operations[assistant_name].values():
                if op.file_id == file_id and op.operation_type in ("upload_file", "upsert_file"):
                    op.error_message = record.error_message
                    self._save_operation(op)

    def available_files(self, assistant_name: str) -> list[FileRecord]:
        """Files that chat and context may read."""
        with self.locked() as now:
            self.get_assistant(assistant_name)
            return [
                f
                for f in sorted(
                    self._files[assistant_name].values(), key=lambda f: (f.created_on, f.id)
                )
                if f.status(now) == FILE_AVAILABLE
            ]

    def _save_file(self, record: FileRecord) -> None:
        if self._listener is not None:
            self._listener.save_file(record)

    # -- operations -----------------------------------------------------------------------

    def add_operation(
        self,
        assistant_name: str,
        operation_type: str,
        file_id: str | None,
        *,
        completes_at: float,
        error_message: str | None = None,
    ) -> OperationRecord:
        """Record a new operation."""
        with self.locked() as now:
            self.get_assistant(assistant_name)
            record = OperationRecord(
                id=f"op-{uuid.uuid4()}",
                assistant_name=assistant_name,
                operation_type=operation_type,
                file_id=file_id,
                created_on=now,
                completes_at=completes_at,
                error_message=error_message,
            )
            self._operations[assistant_name][record.id] = record
            self._save_operation(record)
            return record

    def get_operation(self, assistant_name: str, operation_id: str) -> OperationRecord:
        """One operation; :class:`StoreError` ``not_found`` otherwise."""
        with self.locked():
            self.get_assistant(assistant_name)
            record = self._operations[assistant_name].get(operation_id)
            if record is None:
                raise StoreError(
                    "not_found",
                    f"Operation {operation_id} not found.",
                )
            return record

    def list_operations(self, assistant_name: str) -> list[OperationRecord]:
        """Operations of one assistant, oldest first."""
        with self.locked():
            self.get_assistant(assistant_name)
            return sorted(
                self._operations[assistant_name].values(), key=lambda o: (o.created_on, o.id)
            )

    def _save_operation(self, record: OperationRecord) -> None:
        if self._listener is not None:
            self._listener.save_operation(record)
