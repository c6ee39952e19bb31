"""The error envelope, the exception handlers raise, and the middleware that guarantees both."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import orjson
from aiohttp import web
from aiohttp.typedefs import Handler

_log = logging.getLogger("aiopinecone.emulator")

RETRY_AFTER_MS_HEADER = "X-Emulator-Retry-After-Ms"
"""A 429's exact wait in milliseconds (``Retry-After`` has whole seconds only)."""
SCALED_RETRY_AFTER_HEADER = "Retry-After-Ms"
"""Sent with a per-minute window's 429 when the minute is time-scaled: in a scaled world the
wait scales too (whole seconds would round a 2-second minute's wait up by half)."""

_CODE_BY_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "INVALID_ARGUMENT",
    409: "ALREADY_EXISTS",
    412: "FAILED_PRECONDITION",
    413: "INVALID_ARGUMENT",
    415: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    500: "UNKNOWN",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
}


class ApiError(Exception):
    """Raised by handlers; the error middleware turns it into the wire envelope."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers


def invalid(message: str) -> ApiError:
    """A 400 INVALID_ARGUMENT error."""
    return ApiError(400, "INVALID_ARGUMENT", message)


METADATA_MAX_BYTES = 16384


def metadata_too_large() -> ApiError:
    """The service's 400 for metadata over its limit (assistants and files alike)."""
    return invalid(f"Metadata exceeds maximum length of {METADATA_MAX_BYTES} bytes")


def not_found(message: str) -> ApiError:
    """A 404 NOT_FOUND error."""
    return ApiError(404, "NOT_FOUND", message)


def envelope_bytes(
    status: int, code: str, message: str, details: Mapping[str, Any] | None = None
) -> bytes:
    """Serialize ``{"error": {"code", "message"[, "details"]}, "status"}``."""
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = dict(details)
    try:
        return orjson.dumps({"error": error, "status": status})
    except orjson.JSONEncodeError:
        # A message quoting the client's input may hold bytes that were not UTF-8 (aiohttp
        # decodes them as surrogate escapes): show them escaped rather than fail to answer.
        error["message"] = message.encode("utf-8", "backslashreplace").decode("utf-8")
        error.pop("details", None)
        return orjson.dumps({"error": error, "status": status})


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    details: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    """An error envelope response."""
    return web.Response(
        status=status,
        body=envelope_bytes(status, code, message, details),
        content_type="application/json",
        headers=headers,
    )


def _from_http_exception(exc: web.HTTPException) -> web.Response:
    status = exc.status
    if status == 404:
        message = "Not found: no such route."
    elif status == 405:
        allowed = ", ".join(sorted(getattr(exc, "allowed_methods", ())))
        message = f"Method not allowed. Allowed: {allowed}."
    elif status == 413:
        message = "Request body too large."
    else:
        message = exc.reason or "Request failed."
    headers = {k: v for k, v in exc.headers.items() if k.lower() in ("allow", "retry-after")}
    return error_response(status, _CODE_BY_STATUS.get(status, "UNKNOWN"), message, headers=headers)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure leaves as the error envelope: never a traceback, never an HTML page."""
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(
            exc.status, exc.code, exc.message, details=exc.details, headers=exc.headers
        )
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _from_http_exception(exc)
    except ConnectionResetError:
        raise
    except Exception:
        _log.exception("emulator handler failed: %s %s", request.method, request.path)
        return error_response(500, "UNKNOWN", "Internal server error")
