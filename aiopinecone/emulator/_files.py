"""Data plane files and operations: ``/assistant/files/...`` and ``/assistant/operations/...``."""

from __future__ import annotations

import asyncio
import hmac
import re
from typing import Any

import orjson
from aiohttp import BadContentDispositionHeader, BadContentDispositionParam, BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from ._documents import check_document
from ._errors import ApiError, invalid, metadata_too_large, not_found
from ._filter import parse_filter_param
from ._http import json_response, query_bool, query_int
from ._models import (
    SIGNED_URL_PREFIX,
    assistant_or_404,
    file_json,
    operation_json,
    ready_assistant,
    signature,
)
from ._pagination import page
from ._records import FILE_FAILED, FileRecord
from ._retrieval import SUPPORTED_EXTENSIONS
from ._state import EmulatorState, state_of
from ._store import StoreError
from ._versions import is_2026, request_version

_FILE_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_MAX_METADATA_BYTES = 16384
_READ_SIZE = 64 * 1024
_OPERATION_TYPES = ("upload_file", "upsert_file", "update_file_metadata", "delete_file")
_OPERATION_STATUSES = ("Processing", "Completed", "Failed")


def _one_line(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text[:200] + ("..." if len(text) > 200 else "")


def _too_large(limit: int) -> ApiError:
    return ApiError(413, "INVALID_ARGUMENT", f"Request body too large: the limit is {limit} bytes.")


def _parse_metadata(raw: str | bytes, where: str) -> dict[str, Any]:
    if len(raw) > _MAX_METADATA_BYTES:
        raise metadata_too_large()
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise invalid(f"File metadata ({where}) must be a JSON-encoded object.") from None
    if not isinstance(value, dict):
        raise invalid(f"File metadata ({where}) must be a JSON object.")
    return value


async def _read_part(part: BodyPartReader, budget: int, limit: int) -> bytes:
    data = bytearray()
    while True:
        piece = await part.read_chunk(_READ_SIZE)
        if not piece:
            return bytes(data)
        data += piece
        if len(data) > budget:
            raise _too_large(limit)


async def _read_upload(
    request: web.Request, version: str
) -> tuple[str, bytes, dict[str, Any] | None, bool]:
    """Parse an upload: (file name, content, metadata, multimodal), per the version's rules."""
    limit = state_of(request).config.max_body_size
    if request.content_length is not None and request.content_length > limit:
        raise _too_large(limit)
    if not request.content_type.startswith("multipart/"):
        raise invalid(
            "Upload must be multipart/form-data with the file in a part named 'file', "
            f"got content type {request.content_type!r}."
        )
    multimodal = query_bool(request, "multimodal")
    metadata: dict[str, Any] | None = None
    query_metadata = request.query.get("metadata")
    if query_metadata is not None:
        if is_2026(version):
            raise invalid(
                f"In API version {version} file metadata is sent as a multipart field named "
                "'metadata', not as a query parameter."
            )
        metadata = _parse_metadata(query_metadata, "query parameter 'metadata'")
    name: str | None = None
    content: bytes | None = None
    budget = limit
    try:
        reader = await request.multipart()
        while True:
            part = await reader.next()
            if part is None:
                break
            if not isinstance(part, BodyPartReader):
                raise invalid("Nested multipart bodies are not supported.")
            data = await _read_part(part, budget, limit)
            budget -= len(data)
            if part.name == "file":
                if content is not None:
                    raise invalid("Upload one file per request: found several 'file' parts.")
                if not part.filename:
                    raise invalid("The 'file' part must carry a filename (with its extension).")
                name, content = part.filename, data
            elif part.name == "metadata":
                if not is_2026(version):
                    raise invalid(
                        f"In API version {version} file metadata is sent as the JSON-encoded "
                        "query parameter 'metadata', not as a multipart field."
                    )
                metadata = _parse_metadata(data, "multipart field 'metadata'")
    except (
        ValueError,
        AssertionError,
        RuntimeError,
        # A part header aiohttp's parser refuses (a NUL, a control byte):
        HttpProcessingError,
        # A malformed Content-Disposition is only a warning to aiohttp, but an exception where
        # warnings are errors (pytest's filterwarnings = error): it is bad input either way.
        BadContentDispositionHeader,
        BadContentDispositionParam,
    ) as exc:
        raise invalid(f"Malformed multipart body: {_one_line(exc)}") from None
    if name is None or content is None:
        raise invalid("Missing file: send it as a multipart part named 'file'.")
    if not name.lower().endswith(SUPPORTED_EXTENSIONS):
        raise invalid(
            f"Unsupported file type {name!r}: uploaded files must be one of "
            f"{', '.join(ext.lstrip('.') for ext in SUPPORTED_EXTENSIONS)}."
        )
    if not content:
        raise invalid(f"Uploaded file {name!r} is empty.")
    if multimodal and not name.lower().endswith(".pdf"):
        raise invalid("multimodal=true is only supported for PDF files.")
    return name, content, metadata, multimodal


def _accepted(record: FileRecord, state: EmulatorState, operation_type: str) -> web.Response:
    op = state.store.add_operation(
        record.assistant_name,
        operation_type,
        record.id,
        completes_at=record.available_at,
        error_message=record.error_message,
    )
    return json_response(
        operation_json(op, state),
        status=202,
        headers={"Location": f"/assistant/operations/{record.assistant_name}/{op.id}"},
    )


async def upload_file(request: web.Request) -> web.Response:
    """``POST /assistant/files/{assistant_name}``: 200 file (<=2025-10) or 202 operation."""
    state = state_of(request)
    version = request_version(request)
    assistant = request.match_info["assistant_name"]
    ready_assistant(state, assistant)
    name, content, metadata, multimodal = await _read_upload(request, version)
    # Read the document off the loop once (cached): the store then finds it parsed.
    await asyncio.to_thread(check_document, name, content)
    try:
        record, _ = state.store.put_file(
            assistant, name=name, content=content, metadata=metadata, multimodal=multimodal
        )
    except StoreError as exc:
        raise not_found(exc.message) from None
    if is_2026(version):
        return _accepted(record, state, "upload_file")
    return json_response(file_json(record, state, version))


async def upsert_file(request: web.Request) -> web.Response:
    """``PUT /assistant/files/{assistant_name}/{assistant_file_id}`` (2026-04): 202 operation."""
    state = state_of(request)
    version = request_version(request)
    if not is_2026(version):
        raise ApiError(
            405,
            "INVALID_ARGUMENT",
            f"PUT (upsert) on files is not available in API version {version}; use 2026-04.",
            headers={"Allow": "GET, DELETE"},
        )
    assistant = request.match_info["assistant_name"]
    file_id = request.match_info["assistant_file_id"]
    ready_assistant(state, assistant)
    if not _FILE_ID.match(file_id):
        raise invalid("Invalid file id: must be 1-128 characters of letters, digits, '-' or '_'.")
    name, content, metadata, multimodal = await _read_upload(request, version)
    await asyncio.to_thread(check_document, name, content)
    try:
        record, _ = state.store.put_file(
            assistant,
            name=name,
            content=content,
            metadata=metadata,
            multimodal=multimodal,
            file_id=file_id,
        )
    except StoreError as exc:
        raise not_found(exc.message) from None
    return _accepted(record, state, "upsert_file")


async def list_files(request: web.Request) -> web.Response:
    """``GET /assistant/files/{assistant_name}`` with ``filter`` (and pagination on 2026-04)."""
    state = state_of(request)
    version = request_version(request)
    assistant = request.match_info["assistant_name"]
    assistant_or_404(state, assistant)
    matches = parse_filter_param(request.query.get("filter"))
    try:
        records = state.store.list_files(assistant)
    except StoreError as exc:
        raise not_found(exc.message) from None
    if matches is not None:
        records = [r for r in records if matches(r.metadata)]
    if not is_2026(version):
        return json_response({"files": [file_json(r, state, version) for r in records]})
    limit = query_int(request, "limit", default=100, minimum=1, maximum=100)
    items, next_token = page(records, limit, request.query.get("pagination_token"))
    body: dict[str, Any] = {"files": [file_json(r, state, version) for r in items]}
    if next_token is not None:
        body["pagination"] = {"next": next_token}
    return json_response(body)


def _file_or_404(state: EmulatorState, assistant: str, file_id: str) -> FileRecord:
    try:
        return state.store.get_file(assistant, file_id)
    except StoreError as exc:
        raise not_found(exc.message) from None


async def describe_file(request: web.Request) -> web.Response:
    """``GET /assistant/files/{assistant_name}/{assistant_file_id}`` (``include_url``)."""
    state = state_of(request)
    include_url = query_bool(request, "include_url")
    record = _file_or_404(
        state, request.match_info["assistant_name"], request.match_info["assistant_file_id"]
    )
    return json_response(
        file_json(record, state, request_version(request), include_url=include_url)
    )


async def delete_file(request: web.Request) -> web.Response:
    """``DELETE /assistant/files/...``: 200 (<=2025-10); 202 operation or 204 (2026-04)."""
    state = state_of(request)
    version = request_version(request)
    assistant = request.match_info["assistant_name"]
    file_id = request.match_info["assistant_file_id"]
    record = _file_or_404(state, assistant, file_id)
    was_failed = record.status(state.store.now()) == FILE_FAILED
    try:
        record, _ = state.store.delete_file(assistant, file_id)
    except StoreError as exc:
        raise not_found(exc.message) from None
    if not is_2026(version):
        return web.Response(status=200)
    if was_failed:
        return web.Response(status=204)
    now = state.store.now()
    op = state.store.add_operation(
        assistant, "delete_file", file_id, completes_at=record.gone_at or now
    )
    return json_response(
        operation_json(op, state),
        status=202,
        headers={"Location": f"/assistant/operations/{assistant}/{op.id}"},
    )


def _require_2026(request: web.Request) -> None:
    version = request_version(request)
    if not is_2026(version):
        raise not_found(f"Operations are not available in API version {version}; use 2026-04.")


async def list_operations(request: web.Request) -> web.Response:
    """``GET /assistant/operations/{assistant_name}`` (2026-04)."""
    _require_2026(request)
    state = state_of(request)
    assistant = request.match_info["assistant_name"]
    assistant_or_404(state, assistant)
    op_type = request.query.get("operation_type")
    if op_type is not None and op_type not in _OPERATION_TYPES:
        raise invalid(f"operation_type must be one of {', '.join(_OPERATION_TYPES)}.")
    status = request.query.get("status")
    if status is not None and status not in _OPERATION_STATUSES:
        raise invalid(f"status must be one of {', '.join(_OPERATION_STATUSES)}.")
    limit = query_int(request, "limit", default=100, minimum=1, maximum=100)
    try:
        records = state.store.list_operations(assistant)
    except StoreError as exc:
        raise not_found(exc.message) from None
    now = state.store.now()
    records = [
        r
        for r in records
        if (op_type is None or r.operation_type == op_type)
        and (status is None or r.status(now) == status)
    ]
    items, next_token = page(records, limit, request.query.get("pagination_token"))
    body: dict[str, Any] = {"operations": [operation_json(r, state) for r in items]}
    if next_token is not None:
        body["pagination"] = {"next": next_token}
    return json_response(body)


async def describe_operation(request: web.Request) -> web.Response:
    """``GET /assistant/operations/{assistant_name}/{operation_id}`` (2026-04)."""
    _require_2026(request)
    state = state_of(request)
    try:
        record = state.store.get_operation(
            request.match_info["assistant_name"], request.match_info["operation_id"]
        )
    except StoreError as exc:
        raise not_found(exc.message) from None
    return json_response(operation_json(record, state))


async def signed_download(request: web.Request) -> web.Response:
    """The target of ``signed_url``: the file's bytes, if the signature matches."""
    state = state_of(request)
    assistant = request.match_info["assistant_name"]
    file_id = request.match_info["assistant_file_id"]
    given = request.query.get("sig", "")
    if not hmac.compare_digest(given, signature(assistant, file_id)):
        raise ApiError(403, "PERMISSION_DENIED", "Invalid or missing signature.")
    record = _file_or_404(state, assistant, file_id)
    return web.Response(
        body=record.content,
        content_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{record.name}"'},
    )


def add_routes(app: web.Application) -> None:
    """Register the file and operation routes."""
    files = "/assistant/files/{assistant_name}"
    # Ids are any text of one segment: aiohttp's default segment pattern excludes '{' and '}'.
    one = files + "/{assistant_file_id:[^/]+}"
    app.router.add_get(files, list_files, allow_head=False)
    app.router.add_post(files, upload_file)
    app.router.add_get(one, describe_file, allow_head=False)
    app.router.add_put(one, upsert_file)
    app.router.add_delete(one, delete_file)
    ops = "/assistant/operations/{assistant_name}"
    app.router.add_get(ops, list_operations, allow_head=False)
    app.router.add_get(ops + "/{operation_id:[^/]+}", describe_operation, allow_head=False)
    app.router.add_get(
        SIGNED_URL_PREFIX + "/{assistant_name}/{assistant_file_id}",
        signed_download,
        allow_head=False,
    )
