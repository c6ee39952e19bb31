"""What the emulator stores: assistants, files and operations, and their lifecycle statuses.

A record's status is derived from its timestamps when it is read (an assistant is ``Ready`` once
``ready_at`` has passed), so no background task is needed and a restored state keeps its
timeline.
"""

from __future__ import annotations

from typing import Any, Protocol

import attrs

ASSISTANT_INITIALIZING = "Initializing"
ASSISTANT_READY = "Ready"
ASSISTANT_TERMINATING = "Terminating"
ASSISTANT_FAILED = "Failed"

FILE_PROCESSING = "Processing"
FILE_AVAILABLE = "Available"
FILE_DELETING = "Deleting"
FILE_FAILED = "ProcessingFailed"

OP_PROCESSING = "Processing"
OP_COMPLETED = "Completed"
OP_FAILED = "Failed"


@attrs.define(kw_only=True)
class AssistantRecord:
    """One assistant as the emulator stores it."""

    name: str
    instructions: str | None = None
    metadata: dict[str, Any] | None = None
    region: str = "us"
    created_at: float
    updated_at: float
    ready_at: float
    gone_at: float | None = None
    """Set by delete: ``Terminating`` until this time, then gone."""
    failed_status: str | None = None
    """``Failed`` / ``InitializationFailed`` forced by :meth:`Store.fail_assistant`."""

    def status(self, now: float) -> str:
        """The lifecycle status at ``now``."""
        if self.gone_at is not None:
            return ASSISTANT_TERMINATING
        if self.failed_status is not None:
            return self.failed_status
        return ASSISTANT_READY if now >= self.ready_at else ASSISTANT_INITIALIZING


@attrs.define(kw_only=True)
class FileRecord:
    """One uploaded file as the emulator stores it."""

    id: str
    assistant_name: str
    name: str
    content: bytes
    metadata: dict[str, Any] | None = None
    multimodal: bool = False
    created_on: float
    updated_on: float
    available_at: float
    gone_at: float | None = None
    error_message: str | None = None

    @property
    def size(self) -> int:
        """Size in bytes."""
        return len(self.content)

    def status(self, now: float) -> str:
        """The lifecycle status at ``now``."""
        if self.gone_at is not None:
            return FILE_DELETING
        if now < self.available_at:
            return FILE_PROCESSING
        return FILE_FAILED if self.error_message is not None else FILE_AVAILABLE

    def percent_done(self, now: float) -> float:
        """Processing progress in [0, 1]."""
        if now >= self.available_at:
            return 1.0
        span = self.available_at - self.updated_on
        return 0.0 if span <= 0 else max(0.0, min(1.0, (now - self.updated_on) / span))


@attrs.define(kw_only=True)
class OperationRecord:
    """A 2026-04 long-running operation (upload, upsert, delete of a file)."""

    id: str
    assistant_name: str
    operation_type: str
    file_id: str | None
    created_on: float
    completes_at: float
    error_message: str | None = None

    def status(self, now: float) -> str:
        """The operation status at ``now``."""
        if now < self.completes_at:
            return OP_PROCESSING
        return OP_FAILED if self.error_message is not None else OP_COMPLETED


class StoreListener(Protocol):
    """Receives every durable change (the persistence layer implements it)."""

    def save_assistant(self, record: AssistantRecord) -> None: ...
    def delete_assistant(self, name: str) -> None: ...
    def save_file(self, record: FileRecord) -> None: ...
    def delete_file(self, assistant_name: str, file_id: str) -> None: ...
    def save_operation(self, record: OperationRecord) -> None: ...
