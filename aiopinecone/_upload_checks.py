"""What Pinecone accepts as a knowledge file: its name's extension and its size.

Pinecone decides how to process a file from its name's extension alone, so the name is
checked here: ``.txt .pdf .json .md .docx``, at most 10 MiB (100 MiB for a PDF, 50 MiB for a
multimodal PDF; ``multimodal`` is for PDFs only). Those are the largest limits of any plan; the
server enforces smaller plan limits itself. ``check_limits=False`` skips the type and size
checks (for plans or future file types beyond these).
"""

from __future__ import annotations

import os
from typing import Final

from .exceptions import ValidationError

__all__ = ["CONTENT_TYPES", "MAX_METADATA_BYTES", "check_file_name", "max_file_size", "too_big"]

_MiB: Final = 1024 * 1024

CONTENT_TYPES: Final = {
    ".txt": "text/plain",
    ".pdf": "application/pdf",
    ".json": "application/json",
    ".md": "text/markdown",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
_MAX_PDF: Final = 100 * _MiB
_MAX_MULTIMODAL_PDF: Final = 50 * _MiB
_MAX_OTHER: Final = 10 * _MiB
MAX_METADATA_BYTES: Final = 16 * 1024
"""Largest JSON-encoded file metadata Pinecone accepts (16 KB)."""


def _extension(name: str) -> str:
    return os.path.splitext(name)[1].lower()


def check_file_name(name: str, *, multimodal: bool | None = None, check: bool = True) -> str:
    """Validate the name Pinecone will type the file by; returns the part's content type.

    The name travels in the multipart header, where a control character is invalid and a
    double quote is escaped (as ``%22``): such a name could not be stored as given, so it is
    refused, like text that is not valid Unicode.
    """
    if not isinstance(name, str):
        raise ValidationError(f"file_name must be a string, got {type(name).__name__}")
    if (
        not name
        or name.strip() != name
        or "/" in name
        or "\\" in name
        or '"' in name
        or any(ch < " " or ch == "\x7f" for ch in name)
    ):
        raise ValidationError(
            f"file_name must be a plain file name such as 'report.pdf' (no path, quotes or "
            f"control characters), got {name!r}"
        )
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(f"file_name {name!r} is not valid Unicode text") from None
    ext = _extension(name)
    if multimodal and check and ext != ".pdf":
        raise ValidationError(f"multimodal=True is for PDF files only, not {name!r}")
    if ext in CONTENT_TYPES:
        return CONTENT_TYPES[ext]
    if not check:
        return "application/octet-stream"
    allowed = " ".join(CONTENT_TYPES)
    raise ValidationError(
        f"Pinecone Assistant cannot process {name!r}: the file type is decided by the extension, "
        f"which must be one of {allowed} (pass check_limits=False to send it anyway)"
    )


def max_file_size(name: str, *, multimodal: bool | None = None) -> int:
    """The largest size Pinecone accepts for this file name, on any plan."""
    if _extension(name) == ".pdf":
        return _MAX_MULTIMODAL_PDF if multimodal else _MAX_PDF
    return _MAX_OTHER


def too_big(name: str, size: int, limit: int, multimodal: bool | None) -> ValidationError:
    kind = "a multimodal PDF" if multimodal else f"a {_extension(name) or 'extensionless'} file"
    return ValidationError(
        f"{name!r} is {size} bytes; Pinecone accepts at most {limit} bytes "
        f"({limit // _MiB} MiB) for {kind} (pass check_limits=False to send it anyway)"
    )
