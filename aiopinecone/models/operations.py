"""Operation models (2026-04): uploads, upserts and deletes run as server-side operations."""

from __future__ import annotations

from datetime import datetime
from typing import Final

import attrs

from .assistants import Pagination

__all__ = ["Operation", "OperationList", "OperationStatus", "OperationType"]


class OperationStatus:
    """Known values of :attr:`Operation.status` (the set is open: others may appear)."""

    PROCESSING: Final = "Processing"
    COMPLETED: Final = "Completed"
    FAILED: Final = "Failed"


class OperationType:
    """Known values of :attr:`Operation.operation_type` (open set)."""

    UPLOAD_FILE: Final = "upload_file"
    UPSERT_FILE: Final = "upsert_file"
    UPDATE_FILE_METADATA: Final = "update_file_metadata"
    DELETE_FILE: Final = "delete_file"


@attrs.frozen(kw_only=True)
class Operation:
    """A long-running server operation on a file.

    ``percent_complete`` is 0-100; ``error_message`` is set when ``status`` is ``Failed``;
    ``ingestion_units`` when a file ingestion completed.
    """

    id: str
    status: str
    operation_type: str | None = None
    file_id: str | None = None
    percent_complete: int | None = None
    error_message: str | None = None
    ingestion_units: float | None = None
    created_on: datetime | None = None
    completed_on: datetime | None = None

    @property
    def is_done(self) -> bool:
        """The operation completed or failed: polling it again will not change it."""
        return self.status in (OperationStatus.COMPLETED, OperationStatus.FAILED)

    # The official SDK 10.x's names of the same fields.
    @property
    def operation_id(self) -> str:
        """:attr:`id` (the official SDK's name)."""
        return self.id

    @property
    def error(self) -> str | None:
        """:attr:`error_message` (the official SDK's name)."""
        return self.error_message

    @property
    def created_at(self) -> datetime | None:
        """:attr:`created_on` (the official SDK's name)."""
        return self.created_on


@attrs.frozen(kw_only=True)
class OperationList:
    """One page of ``GET /operations/{assistant}``."""

    operations: list[Operation] = attrs.Factory(list)
    pagination: Pagination | None = None

    @property
    def next(self) -> str | None:
        """The next page's token (``pagination.next``; the official SDK's name), if any."""
        return self.pagination.next if self.pagination is not None else None

    @property
    def next_token(self) -> str | None:
        """The same as :attr:`next` (the official SDK's other name)."""
        return self.next
