"""Pinecone's rate-limit operation classes: which class a request falls in, and each plan's
requests per minute of each class (the emulator's rate limiter counts per class)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from aiohttp import web

__all__ = [
    "ASSISTANTS_DELETE",
    "ASSISTANTS_READ",
    "ASSISTANTS_WRITE",
    "FILES_DELETE",
    "FILES_READ",
    "FILES_UPLOAD",
    "OPERATION_CLASSES",
    "OP_CLASS_KEY",
    "OTHER",
    "PRESETS",
    "operation_class",
    "request_operation_class",
]

ASSISTANTS_READ: Final = "assistants_read"
ASSISTANTS_WRITE: Final = "assistants_write"
ASSISTANTS_DELETE: Final = "assistants_delete"
FILES_READ: Final = "files_read"
FILES_UPLOAD: Final = "files_upload"
FILES_DELETE: Final = "files_delete"
OTHER: Final = "other"

OPERATION_CLASSES: Final = (
    ASSISTANTS_READ,
    ASSISTANTS_WRITE,
    ASSISTANTS_DELETE,
    FILES_READ,
    FILES_UPLOAD,
    FILES_DELETE,
    OTHER,
)
"""Every operation class, in a stable order."""

PRESETS: Final[Mapping[str, Mapping[str, int]]] = MappingProxyType(
    {
        "starter": MappingProxyType(
            {
                ASSISTANTS_READ: 40,
                ASSISTANTS_WRITE: 20,
                ASSISTANTS_DELETE: 20,
                FILES_READ: 100,
                FILES_UPLOAD: 5,
                FILES_DELETE: 5,
            }
        ),
        "standard": MappingProxyType(
            {
                ASSISTANTS_READ: 100,
                ASSISTANTS_WRITE: 50,
                ASSISTANTS_DELETE: 50,
                FILES_READ: 300,
                FILES_UPLOAD: 20,
                FILES_DELETE: 20,
            }
        ),
        "enterprise": MappingProxyType(
            {
                ASSISTANTS_READ: 500,
                ASSISTANTS_WRITE: 100,
                ASSISTANTS_DELETE: 100,
                FILES_READ: 6000,
                FILES_UPLOAD: 300,
                FILES_DELETE: 300,
            }
        ),
        "unlimited": MappingProxyType({}),
    }
)
"""Requests per minute of each plan (DESIGN.md §3). A class not named is unlimited."""

OP_CLASS_KEY: Final = web.RequestKey("aiopinecone_emulator_op_class", str)
"""Request key caching the request's operation class (set by the first middleware that needs it)."""


def operation_class(method: str, path: str) -> str:
    """The rate-limit class of ``method path`` (one of :data:`OPERATION_CLASSES`).

    ``/assistant/assistants[/{name}]``: GET ``assistants_read``, POST/PATCH/PUT
    ``assistants_write``, DELETE ``assistants_delete``. ``/assistant/files/{name}[/{id}]`` and
    ``/assistant/operations/...``: GET ``files_read``, POST/PUT ``files_upload``, DELETE
    ``files_delete``. Everything else (chat, context, evaluation, admin, unknown routes):
    ``other``.
    """
    if not path.startswith("/assistant/"):
        return OTHER
    parts = path.split("/")
    # ["", "assistant", <area>, ...]; a trailing slash leaves an empty last part.
    if parts[-1] == "" and len(parts) > 3:
        parts.pop()
    area = parts[2]
    depth = len(parts) - 3  # path segments after the area
    if area == "assistants" and depth <= 1:
        if method == "GET":
            return ASSISTANTS_READ
        if method == "DELETE":
            return ASSISTANTS_DELETE if depth == 1 else OTHER
        if method in ("POST", "PATCH", "PUT"):
            return ASSISTANTS_WRITE
        return OTHER
    if area == "files" and 1 <= depth <= 2:
        if method == "GET":
            return FILES_READ
        if method in ("POST", "PUT"):
            return FILES_UPLOAD
        if method == "DELETE":
            return FILES_DELETE
        return OTHER
    if area == "operations" and 1 <= depth <= 2 and method == "GET":
        return FILES_READ
    return OTHER


def request_operation_class(request: web.BaseRequest) -> str:
    """The request's operation class, computed once and cached on the request."""
    op = request.get(OP_CLASS_KEY)
    if op is None:
        op = operation_class(request.method, request.path)
        request[OP_CLASS_KEY] = op
    return op
