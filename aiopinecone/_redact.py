"""The one home of API-key redaction: an echoed key never reaches a caller's error.

A server (or a proxy in between) may echo the ``Api-Key`` header in an error body, a request id
or an event of a stream. Every error the client builds from server data goes through
:meth:`Redactor.error` before it is raised; error bodies go through :meth:`Redactor.body`
before they are parsed, so that excerpts cut in the middle of a key cannot leak part of it.
Proxy credentials given to the client are redacted the same way (:meth:`Redactor.also`).
"""

from __future__ import annotations

from typing import Final, TypeVar

import orjson

from .exceptions import APIError, PineconeError, ResponseParseError

__all__ = ["REDACTED", "Redactor"]

REDACTED: Final = "<redacted>"
MIN_SECRET: Final = 4
E = TypeVar("E", bound=PineconeError)


class Redactor:
    """Removes one API key (as sent), and any other secret it is told about (proxy
    credentials: :meth:`also`), from bodies and errors."""

    __slots__ = ("_key", "_key_bytes", "_secrets")

    def __init__(self, api_key: str) -> None:
        self._key = api_key
        self._key_bytes = api_key.encode()
        self._secrets: tuple[str, ...] = (api_key,)

    def also(self, *secrets: str) -> None:
        """Redact these too (the proxy password and its Basic token). Secrets shorter than
        :data:`MIN_SECRET` characters are not worth mangling every message for: ignored."""
        self._secrets += tuple(secret for secret in secrets if len(secret) >= MIN_SECRET)

    def body(self, body: bytes) -> bytes:
        """``body`` with every copy of a secret replaced (the same object when there is none)."""
        if self._key_bytes in body:
            body = body.replace(self._key_bytes, REDACTED.encode())
        for secret in self._secrets[1:]:
            raw = secret.encode()
            if raw in body:
                body = body.replace(raw, REDACTED.encode())
        return body

    def _found_in(self, text: str) -> bool:
        return any(secret in text for secret in self._secrets)

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def error(self, error: E) -> E:
        """Redact ``error`` in place and return it: message, ``details``, request id and a
        cause chain that quotes a secret (dropped)."""
        message = getattr(error, "message", None)
        if isinstance(message, str) and self._found_in(message):
            redacted = self._scrub(message)
            error.message = redacted  # type: ignore[attr-defined]
            error.args = (redacted,)
        if (
            isinstance(error, APIError | ResponseParseError)
            and error.request_id is not None
            and self._found_in(error.request_id)
        ):
            error.request_id = self._scrub(error.request_id)
        if isinstance(error, APIError) and error.details and self._found_in(repr(error.details)):
            raw = orjson.dumps(error.details)
            for secret in self._secrets:
                raw = raw.replace(secret.encode(), REDACTED.encode())
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
            if self._found_in(str(current)) or self._found_in(repr(current.args)):
                return True
            current = current.__cause__ or current.__context__
        return False
