"""Pure protocol functions: request headers and JSON bodies, ``Retry-After`` parsing, error
envelope -> exception.

Nothing here does I/O; everything is table-tested in ``tests/test_protocol.py``.
"""

from __future__ import annotations

import email.utils
import http
import math
import time
from collections.abc import Mapping
from typing import Any, Final

import orjson
from multidict import CIMultiDict, CIMultiDictProxy

from .exceptions import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitError,
    ServerError,
    ValidationError,
)

API_KEY_HEADER: Final = "Api-Key"
API_VERSION_HEADER: Final = "X-Pinecone-Api-Version"
REQUEST_ID_HEADERS: Final = ("x-pinecone-request-id", "x-request-id")
_BODY_EXCERPT: Final = 200


def build_headers(api_key: str, api_version: str, user_agent: str) -> dict[str, str]:
    """The headers every request carries (built once per client)."""
    return {
        API_KEY_HEADER: api_key,
        API_VERSION_HEADER: api_version,
        "User-Agent": user_agent,
        "Accept": "application/json",
    }


def frozen_headers(headers: Mapping[str, str]) -> CIMultiDictProxy[str]:
    """``headers`` as aiohttp's own read-only header mapping, built once and sent with every
    request: aiohttp reads it as is, where it converts a plain dict on every request (about
    0.7 us of the ~100 us a request costs)."""
    return CIMultiDictProxy(CIMultiDict(headers))


def bearer_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The client's ``headers`` with the key as ``Authorization: Bearer`` (an assistant's MCP
    endpoint) instead of ``Api-Key``, and no ``Accept``."""
    bearer = {k: v for k, v in headers.items() if k not in (API_KEY_HEADER, "Accept")}
    bearer["Authorization"] = "Bearer " + headers[API_KEY_HEADER]
    return bearer


def encode_json(body: Any, op: str) -> bytes:
    """The JSON request body; what cannot be sent as JSON is the caller's mistake, found here,
    before any request (text that is not valid Unicode, such as lone surrogates; NaN is
    refused by the validators that know which field it is in)."""
    try:
        return orjson.dumps(body)
    except orjson.JSONEncodeError as exc:
        raise ValidationError(f"{op}: the request cannot be sent as JSON: {exc}") from None


def request_id_from(headers: Mapping[str, str]) -> str | None:
    """The server's request id, if it sent one (headers must be case-insensitive)."""
    for name in REQUEST_ID_HEADERS:
        value = headers.get(name)
        if value:
            return value
    return None


def parse_retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds to wait per ``retry-after-ms`` or ``Retry-After``; ``None`` if absent or garbage.

    ``Retry-After`` may be delta-seconds (integer or decimal) or an HTTP-date; a date in the past
    means "now" (0.0). ``now`` (a POSIX timestamp) is for tests. Headers must be case-insensitive.
    """
    millis = headers.get("retry-after-ms")
    if millis is not None:
        value = _finite_non_negative(millis)
        if value is not None:
            return value / 1000.0
    raw = headers.get("retry-after")
    if raw is None:
        return None
    seconds = _finite_non_negative(raw)
    if seconds is not None:
        return seconds
    try:
        when = email.utils.parsedate_to_datetime(raw.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 7231 dates are GMT; be lenient about a missing zone
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def _finite_non_negative(text: str) -> float | None:
    try:
        value = float(text.strip())
    except ValueError:
        return None
    if not math.isfinite(value) or value < 0:
        return None
    return value


def error_from_response(status: int, headers: Mapping[str, str], body: bytes) -> APIError:
    """Map an error response to the right :class:`~aiopinecone.APIError` subclass.

    The error code wins over the status where they disagree: ``ALREADY_EXISTS`` is a conflict
    whatever the status (the specs list 429 for duplicates), ``QUOTA_EXCEEDED`` is a quota error.
    An empty or non-JSON body still gives a message saying what came back.
    """
    code, message, details = _decode_envelope(status, headers, body)
    request_id = request_id_from(headers)
    upper = code.upper() if code else None
    kwargs: dict[str, Any] = {
        "status": status,
        "code": code,
        "details": details,
        "request_id": request_id,
    }
    cls: type[APIError]
    if upper == "ALREADY_EXISTS" or status == 409:
        cls = ConflictError
    elif upper == "QUOTA_EXCEEDED" or (status == 403 and "quota" in message.lower()):
        cls = QuotaExceededError
    elif status == 429:
        return RateLimitError(message, retry_after=parse_retry_after(headers), **kwargs)
    elif status >= 500:
        cls = ServerError
    else:
        cls = _BY_STATUS.get(status, APIError)
    return cls(message, **kwargs)


_BY_STATUS: Final[Mapping[int, type[APIError]]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
}


def _decode_envelope(
    status: int, headers: Mapping[str, str], body: bytes
) -> tuple[str | None, str, Mapping[str, Any]]:
    """``(code, message, details)`` from ``{"error": {...}, "status": N}`` or whatever came."""
    if body.strip():
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            data = None
        if isinstance(data, dict):
            error = data.get("error")
            if isinstance(error, dict):
                code = error.get("code")
                message = error.get("message")
                details = error.get("details")
                return (
                    str(code) if code is not None else None,
                    str(message) if message else _describe(status, headers, body),
                    details if isinstance(details, dict) else {},
                )
            if isinstance(error, str) and error:  # some proxies: {"error": "text"}
                return None, error, {}
            message = data.get("message")
            if isinstance(message, str) and message:
                return None, message, {}
    return None, _describe(status, headers, body), {}


def _describe(status: int, headers: Mapping[str, str], body: bytes) -> str:
    """A message for a body that is not the error envelope."""
    try:
        reason = http.HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown status"
    if not body.strip():
        return f"HTTP {status} {reason} with an empty body"
    content_type = headers.get("content-type", "unknown content type")
    excerpt = body[:_BODY_EXCERPT].decode("utf-8", "replace")
    excerpt = " ".join(excerpt.split())
    more = "..." if len(body) > _BODY_EXCERPT else ""
    return (
        f"HTTP {status} {reason} with a body that is not the error envelope "
        f"({content_type}, {len(body)} bytes): {excerpt}{more}"
    )
