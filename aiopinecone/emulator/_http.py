"""Request parsing and response helpers shared by the handlers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from aiohttp import web

from ._errors import ApiError, invalid


def json_response(
    payload: Any, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    """A JSON response serialized with orjson."""
    return web.Response(
        status=status,
        body=orjson.dumps(payload),
        content_type="application/json",
        headers=headers,
    )


async def read_json_object(request: web.Request, *, required: bool = True) -> dict[str, Any]:
    """The body as a JSON object, or a 400 saying exactly what is wrong with it."""
    raw = await request.read()
    if not raw.strip():
        if required:
            raise invalid("Request body is required: expected a JSON object.")
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise invalid(f"Request body is not valid JSON: {exc}.") from None
    if not isinstance(body, dict):
        raise invalid(f"Request body must be a JSON object, got {type(body).__name__}.")
    return body


def optional_str(body: Mapping[str, Any], key: str, *, max_bytes: int | None = None) -> str | None:
    """``body[key]`` if it is a string or null/absent; 400 on any other type."""
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid(f"Field {key!r} must be a string, got {_json_type(value)}.")
    if max_bytes is not None and len(value.encode()) > max_bytes:
        raise invalid(f"Field {key!r} exceeds the maximum size of {max_bytes // 1024} KB.")
    return value


def optional_object(
    body: Mapping[str, Any], key: str, *, max_bytes: int | None = None
) -> dict[str, Any] | None:
    """``body[key]`` if it is a JSON object or null/absent; 400 otherwise."""
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise invalid(f"Field {key!r} must be a JSON object, got {_json_type(value)}.")
    if max_bytes is not None and len(orjson.dumps(value)) > max_bytes:
        raise invalid(f"Field {key!r} exceeds the maximum size of {max_bytes // 1024} KB.")
    return value


def optional_bool(body: Mapping[str, Any], key: str, default: bool = False) -> bool:
    """``body[key]`` if it is a boolean; 400 for any other non-null type."""
    value = body.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise invalid(f"Field {key!r} must be a boolean, got {_json_type(value)}.")
    return value


def optional_int(body: Mapping[str, Any], key: str, *, minimum: int, maximum: int) -> int | None:
    """``body[key]`` if it is an integer in range; 400 otherwise."""
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(f"Field {key!r} must be an integer, got {_json_type(value)}.")
    if not minimum <= value <= maximum:
        raise invalid(f"Field {key!r} must be between {minimum} and {maximum}, got {value}.")
    return value


def query_bool(request: web.Request, key: str) -> bool:
    """A ``true``/``false`` query parameter (absent: false)."""
    value = request.query.get(key)
    if value is None or value == "":
        return False
    lowered = value.lower()
    if lowered not in ("true", "false"):
        raise invalid(f"Query parameter {key!r} must be 'true' or 'false', got {value[:40]!r}.")
    return lowered == "true"


def query_int(request: web.Request, key: str, *, default: int, minimum: int, maximum: int) -> int:
    """An integer query parameter within bounds."""
    value = request.query.get(key)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise invalid(f"Query parameter {key!r} must be an integer, got {value[:40]!r}.") from None
    if not minimum <= number <= maximum:
        raise invalid(
            f"Query parameter {key!r} must be between {minimum} and {maximum}, got {number}."
        )
    return number


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def conflict(status: int, message: str) -> ApiError:
    """Duplicate resource: code ALREADY_EXISTS with the configured status."""
    return ApiError(status, "ALREADY_EXISTS", message)
