"""Wire shapes of files and operations, per API version."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any
from urllib.parse import quote

from ._errors import ApiError, not_found
from ._records import (
    ASSISTANT_READY,
    FILE_FAILED,
    OP_PROCESSING,
    AssistantRecord,
    FileRecord,
    OperationRecord,
)
from ._state import EmulatorState
from ._store import StoreError
from ._timefmt import rfc3339
from ._versions import is_2026

SIGNED_URL_PREFIX = "/__emulator/signed"
_SIGNING_KEY = b"aiopinecone-emulator"


def signature(assistant_name: str, file_id: str) -> str:
    """The ``sig`` query parameter of a file's signed URL."""
    message = f"{assistant_name}/{file_id}".encode()
    return hmac.new(_SIGNING_KEY, message, hashlib.sha256).hexdigest()[:32]


def file_json(
    record: FileRecord, state: EmulatorState, version: str, *, include_url: bool = False
) -> dict[str, Any]:
    """The wire ``AssistantFileModel`` of ``version``."""
    now = state.store.now()
    status = record.status(now)
    body: dict[str, Any] = {
        "name": record.name,
        "id": record.id,
        "metadata": record.metadata,
        "created_on": rfc3339(record.created_on),
        "updated_on": rfc3339(record.updated_on),
        "status": status,
    }
    if is_2026(version):
        body["size"] = record.size
    else:
        body["percent_done"] = record.percent_done(now)
        body["error_message"] = record.error_message if status == FILE_FAILED else None
    body["multimodal"] = record.multimodal
    signed_url = None
    if include_url:
        name, fid = quote(record.assistant_name, safe=""), quote(record.id, safe="")
        sig = signature(record.assistant_name, record.id)
        signed_url = f"{state.url}{SIGNED_URL_PREFIX}/{name}/{fid}?sig={sig}"
    body["signed_url"] = signed_url
    return body


def operation_json(record: OperationRecord, state: EmulatorState) -> dict[str, Any]:
    """The wire ``OperationModel`` (2026-04)."""
    now = state.store.now()
    status = record.status(now)
    body: dict[str, Any] = {
        "id": record.id,
        "operation_type": record.operation_type,
        "file_id": record.file_id,
        "status": status,
        "created_on": rfc3339(record.created_on),
    }
    if status == OP_PROCESSING:
        span = record.completes_at - record.created_on
        done = 0.0 if span <= 0 else (now - record.created_on) / span
        body["percent_complete"] = max(0, min(99, int(done * 100)))
    else:
        body["completed_on"] = rfc3339(max(record.completes_at, record.created_on))
        body["percent_complete"] = 100 if record.error_message is None else 0
        if record.error_message is not None:
            body["error_message"] = record.error_message
        elif record.operation_type in ("upload_file", "upsert_file"):
            body["ingestion_units"] = 1.0
    return body


def assistant_or_404(state: EmulatorState, name: str) -> AssistantRecord:
    """The assistant, or the API's 404."""
    try:
        return state.store.get_assistant(name)
    except StoreError as exc:
        raise not_found(exc.message) from None


def ready_assistant(state: EmulatorState, name: str) -> AssistantRecord:
    """The assistant if it is ``Ready``; 404 if missing, 400 FAILED_PRECONDITION otherwise."""
    record = assistant_or_404(state, name)
    status = record.status(state.store.now())
    if status != ASSISTANT_READY:
        raise ApiError(
            400,
            "FAILED_PRECONDITION",
            f'Assistant "{name}" is not ready (status {status}); wait until it is Ready.',
        )
    return record
