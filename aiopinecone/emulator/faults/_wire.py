"""What faults do to a request on the wire: perform it for its effect, cut the connection,
break a body. The fault kinds (``_kinds.py``) are built from these."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Final

import orjson
from aiohttp import web
from aiohttp.typedefs import Handler

from .._errors import ApiError, envelope_bytes, error_response
from ._values import retry_after_headers

_log = logging.getLogger("aiopinecone.emulator")

FAULT_KEY: Final = web.RequestKey("aiopinecone_emulator_fault", str)
"""Request key: the label of the fault applied to the request (absent: none)."""

DROPPED_KEY: Final = web.RequestKey("aiopinecone_emulator_dropped", bool)
"""Request key: True when the fault closed the connection instead of answering."""


async def perform(request: web.Request, handler: Handler) -> web.StreamResponse | None:
    """Run the handler for its effect and return its answer as a response (None if it crashed)."""
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(
            exc.status, exc.code, exc.message, details=exc.details, headers=exc.headers
        )
    except web.HTTPException as exc:
        return web.Response(status=exc.status, text=exc.text or "")
    except Exception:
        _log.exception("emulator handler failed under a fault: %s %s", request.method, request.path)
        return None


def already_sent(performed: web.StreamResponse | None) -> bool:
    """Whether a performed answer already sent bytes (a stream): then a fault can only cut it."""
    return performed is not None and performed.prepared


def crashed() -> web.Response:
    """The answer to a request whose handler crashed, as the error middleware would give it."""
    return error_response(500, "UNKNOWN", "Internal server error")


def drop_connection(request: web.Request) -> web.StreamResponse:
    """Close the client's connection without a response; mark the request as dropped.

    The transport is closed before anything is written, so aiohttp's attempt to send the
    returned placeholder fails as a client disconnection, which it ignores quietly.
    """
    request[DROPPED_KEY] = True
    transport = request.transport
    if transport is not None:
        transport.close()
    return web.Response(status=500)


def malformed(response: web.StreamResponse, body: bytes | None) -> web.StreamResponse:
    """``response`` with its body replaced by invalid JSON (the truncated original by default)."""
    if not isinstance(response, web.Response):
        return response
    if body is None:
        original = response.body if isinstance(response.body, bytes) else b""
        body = _truncated(original)
    headers = {
        k: v
        for k, v in response.headers.items()
        if k.lower() not in ("content-length", "content-type", "content-encoding")
    }
    return web.Response(
        status=response.status,
        body=body,
        headers=headers,
        content_type="application/json",
    )


def _truncated(original: bytes) -> bytes:
    cut = original[: len(original) // 2]
    try:
        orjson.loads(cut)
    except orjson.JSONDecodeError:
        return cut
    return b'{"truncated": '


_DEFAULT_CODES: Final = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    412: "FAILED_PRECONDITION",
    429: "RESOURCE_EXHAUSTED",
    500: "UNKNOWN",
    501: "UNIMPLEMENTED",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def status_response(
    status: int,
    *,
    error_code: str | None,
    message: str | None,
    retry_after: float | str | None,
    body: bytes | None,
    content_type: str | None,
    headers: tuple[tuple[str, str], ...],
) -> web.Response:
    """A status fault's answer: ``body`` verbatim, else the error envelope."""
    all_headers = retry_after_headers(retry_after)
    all_headers.update(headers)
    if body is not None:
        return web.Response(
            status=status,
            body=body,
            content_type=content_type or "text/plain",
            headers=all_headers,
        )
    code = error_code or _DEFAULT_CODES.get(status, "UNKNOWN")
    text = message or f"{_reason(status)} (fault injected by the emulator)"
    return web.Response(
        status=status,
        body=envelope_bytes(status, code, text),
        content_type=content_type or "application/json",
        headers=all_headers,
    )


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
