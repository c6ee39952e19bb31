"""File models (data plane): an uploaded file and a page of files.

``status`` is an open set: the known values are constants on :class:`FileStatus`; a status the
server adds later is kept as it came.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

import attrs

from .assistants import Pagination

__all__ = ["AssistantFile", "FileList", "FileStatus"]


class FileStatus:
    """Known values of :attr:`AssistantFile.status` (the set is open: others may appear)."""

    PROCESSING: Final = "Processing"
    AVAILABLE: Final = "Available"
    DELETING: Final = "Deleting"
    PROCESSING_FAILED: Final = "ProcessingFailed"


@attrs.frozen(kw_only=True)
class AssistantFile:
    """A file uploaded to an assistant.

    ``percent_done`` and ``error_message`` are reported up to 2025-10 (2026-04 reports progress
    on operations instead); ``size`` only by 2026-04. ``signed_url`` is a temporary, public read
    link (``describe_file(include_url=True)``): treat it as a secret; it is left out of ``repr``.
    """

    id: str
    name: str
    status: str | None = None
    metadata: dict[str, Any] | None = None
    percent_done: float | None = None
    error_message: str | None = None
    multimodal: bool | None = None
    size: int | None = None
    created_on: datetime | None = None
    updated_on: datetime | None = None
    signed_url: str | None = attrs.field(default=None, repr=False)

    @property
    def is_available(self) -> bool:
        """Processing finished and the file is used for answers."""
        return self.status == FileStatus.AVAILABLE

    @property
    def is_failed(self) -> bool:
        """Processing failed; ``error_message`` says why (up to 2025-10)."""
        return self.status == FileStatus.PROCESSING_FAILED


@attrs.frozen(kw_only=True)
class FileList:
    """One page of ``GET /files/{assistant}`` (the whole list before 2026-04)."""

    files: list[AssistantFile] = attrs.Factory(list)
    pagination: Pagination | None = None

    @property
    def next(self) -> str | None:
        """The next page's token (``pagination.next``; the official SDK's name), if any."""
        return self.pagination.next if self.pagination is not None else None

    @property
    def next_token(self) -> str | None:
        """The same as :attr:`next` (the official SDK's other name)."""
        return self.next
