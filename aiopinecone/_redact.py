"""The one home of API-key redaction: an echoed key never reaches a caller's error.

A server (or a proxy in between) may echo the ``Api-Key`` header in an error body, a request id
or an event of a stream. Every error the client builds from server data goes through
:meth:`Redactor.error` before it is raised; error bodies go through :meth:`Redactor.body`
before they are parsed, so that excerpts cut in the middle of a key cannot leak part of it.
"""

from __future__ import annotations

from typing import Final, TypeVar

import orjson

from .exceptions import APIError, PineconeError, ResponseParseError

__all__ = ["REDACTED", "Redactor"]

REDACTED: Final = "<redacted>"
E = TypeVar("E", bound=PineconeError)


class Redactor:
    """Removes one API key (as sent) from bodies and errors."""

    __slots__ = ("_key", "_key_bytes")

    def __init__(self, api_key: str) -> None:
        self._key = api_key
        self._key_bytes = api_key.encode()

    def body(self, body: bytes) -> bytes:
        """``body`` with every copy of the key replaced (the same object when there is none)."""
        if self._key_bytes in body:
            return body.replace(self._key_bytes, REDACTED.encode())
        return body

    def error(self, error: E) -> E:
        """Redact ``error`` in place and return it: message, ``details``, request id and a
        cause chain that quotes the key (dropped)."""
        key = self._key
        message = getattr(error, "message", None)
        if isinstance(message, str) and key in message:
            redacted = message.replace(key, REDACTED)
            error.message = redacted  # type: ignore[attr-defined]
            error.args = (redacted,)
        if (
            isinstance(error, APIError | ResponseParseError)
            and error.request_id is not None
            and key in error.request_id
        ):
            error.request_id = error.request_id.replace(key, REDACTED)
        if isinstance(error, APIError) and error.details and key in repr(error.details):
            raw = orjson.dumps(error.details).replace(self._key_bytes, REDACTED.encode())
            error.details = orjson.loads(raw)
        cause = error.__cause__ or error.__context__
        if cause is not None and self._quoted_in_chain(cause):
            error.__cause__ = None
            error.__suppress_context__ = True
        return error

    def _quoted_in_chain(self, exc: BaseException) -> bool:
        # What a traceback of the chain would show of the exceptions themselves: their text.
        seen: set[int] = set()
        current: BaseException | None = exc
        while current is not None and id(current) not in seen:
            seen.add(id(current))
            if self._key in str(current) or self._key in repr(current.args):
                return True
            current = current.__cause__ or current.__context__
        return False
