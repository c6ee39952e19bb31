"""Control plane: ``/assistant/assistants[/{assistant_name}]``."""

from __future__ import annotations

import re
from typing import Any

import orjson
from aiohttp import web

from ._errors import METADATA_MAX_BYTES, ApiError, invalid, metadata_too_large, not_found
from ._http import (
    conflict,
    json_response,
    optional_object,
    optional_str,
    query_int,
    read_json_object,
)
from ._pagination import page
from ._records import AssistantRecord
from ._state import EmulatorState, state_of
from ._store import StoreError
from ._timefmt import rfc3339
from ._versions import is_2026, name_max_length, request_version

# The docs say lowercase; the service accepts and returns mixed case as given ("SgYlP").
_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$")
_MAX_FIELD_BYTES = 16 * 1024
_REGIONS = ("us", "eu")


def assistant_json(record: AssistantRecord, state: EmulatorState, version: str) -> dict[str, Any]:
    """The wire ``Assistant`` model for ``version``."""
    body: dict[str, Any] = {
        "name": record.name,
        "instructions": record.instructions,
        "metadata": record.metadata,
        "status": record.status(state.store.now()),
        "host": state.url,
        "created_at": rfc3339(record.created_at),
        "updated_at": rfc3339(record.updated_at),
    }
    if is_2026(version):
        body["region"] = record.region
    return body


def store_error(exc: StoreError, state: EmulatorState) -> ApiError:
    """Map a store precondition failure to the API's error."""
    if exc.kind == "exists":
        return conflict(state.config.duplicate_status, exc.message)
    if exc.kind == "quota":
        return ApiError(429, "QUOTA_EXCEEDED", exc.message)
    return not_found(exc.message)


def check_name(name: str, version: str) -> None:
    """The assistant name rule of ``version``; 400 with the rule otherwise."""
    limit = name_max_length(version)
    if not 1 <= len(name) <= limit or not _NAME.match(name):
        raise invalid(
            f"Invalid assistant name {name[:80]!r}: must be 1-{limit} characters long, start and "
            "end with an alphanumeric character, and consist only of alphanumeric characters "
            "or '-'."
        )


def _metadata(body: dict[str, Any]) -> dict[str, Any] | None:
    metadata = optional_object(body, "metadata")
    if metadata is not None and len(orjson.dumps(metadata)) > METADATA_MAX_BYTES:
        raise metadata_too_large()
    return metadata


async def list_assistants(request: web.Request) -> web.Response:
    """``GET /assistant/assistants`` (paginated on 2026-04)."""
    state = state_of(request)
    version = request_version(request)
    records = state.store.list_assistants()
    if not is_2026(version):
        return json_response({"assistants": [assistant_json(r, state, version) for r in records]})
    limit = query_int(request, "limit", default=50, minimum=1, maximum=100)
    items, next_token = page(records, limit, request.query.get("pagination_token"))
    body: dict[str, Any] = {"assistants": [assistant_json(r, state, version) for r in items]}
    if next_token is not None:
        body["pagination"] = {"next": next_token}
    return json_response(body)


async def create_assistant(request: web.Request) -> web.Response:
    """``POST /assistant/assistants``."""
    state = state_of(request)
    version = request_version(request)
    body = await read_json_object(request)
    name = body.get("name")
    if name is None:
        raise invalid("Field 'name' is required.")
    if not isinstance(name, str):
        raise invalid("Field 'name' must be a string.")
    check_name(name, version)
    instructions = optional_str(body, "instructions", max_bytes=_MAX_FIELD_BYTES)
    metadata = _metadata(body)
    region = optional_str(body, "region") or "us"
    if region not in _REGIONS:
        raise invalid(f"Invalid region: Valid options are {', '.join(_REGIONS)}")
    environment = optional_str(body, "environment")
    if environment is not None:
        # Reserved for Pinecone's own projects: the service refuses it for everyone else.
        raise invalid(
            f"Invalid environment {environment[:40]!r}: the environment field is reserved for "
            "internal use."
        )
    try:
        record = state.store.create_assistant(
            name, instructions=instructions, metadata=metadata, region=region
        )
    except StoreError as exc:
        raise store_error(exc, state) from None
    return json_response(assistant_json(record, state, version))


async def describe_assistant(request: web.Request) -> web.Response:
    """``GET /assistant/assistants/{assistant_name}``."""
    state = state_of(request)
    try:
        record = state.store.get_assistant(request.match_info["assistant_name"])
    except StoreError as exc:
        raise store_error(exc, state) from None
    return json_response(assistant_json(record, state, request_version(request)))


async def update_assistant(request: web.Request) -> web.Response:
    """``PATCH /assistant/assistants/{assistant_name}``: only the fields sent change."""
    state = state_of(request)
    name = request.match_info["assistant_name"]
    try:
        state.store.get_assistant(name)  # the service checks the assistant before the body
    except StoreError as exc:
        raise store_error(exc, state) from None
    body = await read_json_object(request)
    unknown = sorted(set(body) - {"instructions", "metadata"})
    if unknown:
        raise invalid(f"Unknown field(s) for update: {', '.join(unknown)}.")
    if not body:
        raise invalid("No updates provided: send 'instructions' and/or 'metadata'.")
    instructions = optional_str(body, "instructions", max_bytes=_MAX_FIELD_BYTES)
    metadata = _metadata(body)
    try:
        record = state.store.update_assistant(
            name,
            instructions=instructions,
            metadata=metadata,
            set_instructions="instructions" in body,
            set_metadata="metadata" in body,
        )
    except StoreError as exc:
        raise store_error(exc, state) from None
    # The specs answer {assistant_name, instructions, metadata}; newer SDKs read a full Assistant.
    # Both sets of keys keep every client happy.
    payload = assistant_json(record, state, request_version(request))
    payload["assistant_name"] = record.name
    return json_response(payload)


async def delete_assistant(request: web.Request) -> web.Response:
    """``DELETE /assistant/assistants/{assistant_name}``: 200, then Terminating, then gone."""
    state = state_of(request)
    try:
        state.store.delete_assistant(request.match_info["assistant_name"])
    except StoreError as exc:
        raise store_error(exc, state) from None
    return web.Response(status=200)


def add_routes(app: web.Application) -> None:
    """Register the control-plane routes."""
    app.router.add_get("/assistant/assistants", list_assistants, allow_head=False)
    app.router.add_post("/assistant/assistants", create_assistant)
    app.router.add_get(
        "/assistant/assistants/{assistant_name}", describe_assistant, allow_head=False
    )
    app.router.add_patch("/assistant/assistants/{assistant_name}", update_assistant)
    app.router.add_delete("/assistant/assistants/{assistant_name}", delete_assistant)
