"""The one home of API-key redaction: an echoed key never reaches a caller's error.

A server (or a proxy in between) may echo the ``Api-Key`` header in an error body, a request id
or an event of a stream, and not always as it was sent: upper- or lower-cased, URL-encoded
(``%2B``, ``%2f``: either case of hex digits, once or twice), JSON-escaped (``\\/``,
``\\u002b``), form-decoded (``+`` as a space), or any mix of these, character by character.
Every error the client builds from server data goes through :meth:`Redactor.error` before it
is raised; error bodies go through :meth:`Redactor.body` before they are parsed, so that
excerpts cut in the middle of a key cannot leak part of it. The patterns are compiled on the
first error, so a client that never meets one pays nothing. Proxy credentials given to the
client are redacted the same way (:meth:`Redactor.also`).

Not redacted: what a *successful* (2xx) answer carries as user data (an assistant's
instructions or metadata, a file's content, a chat answer): that is the caller's data, returned
as the server stored it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final, TypeVar

from .exceptions import APIError, PineconeError, ResponseParseError

__all__ = ["REDACTED", "Redactor", "key_pattern"]

REDACTED: Final = "<redacted>"
MIN_SECRET: Final = 4
E = TypeVar("E", bound=PineconeError)


def _percent(data: bytes) -> str:
    # Each byte as %XX, or %25XX (encoded twice); IGNORECASE takes care of the hex digits' case.
    return "".join(f"%(?:25)?{b:02X}" for b in data)


def key_pattern(key: str) -> str:
    """A regular expression (to compile with ``re.IGNORECASE``) matching ``key`` in every form
    a server may echo it in: any letter case, each character as itself or URL-encoded (either
    hex case, once or twice; its other-case letter too), as a JSON escape (``\\u002b``, ``\\/``),
    ``+`` also as a space (form-decoded)."""
    parts = []
    for ch in key:
        variants = [re.escape(ch)]
        for form in dict.fromkeys((ch, ch.lower(), ch.upper())):
            variants.append(_percent(form.encode()))
        if ord(ch) < 0x10000:
            variants.append(rf"\\u{ord(ch):04X}")  # a JSON escape in a raw body
        if ch == "/":
            variants.append(r"\\/")
        elif ch == "+":
            variants.append(" ")  # form-decoded
        parts.append(f"(?:{'|'.join(variants)})")
    return "".join(parts)


class Redactor:
    """Removes one API key, and any other secret it is told about (proxy credentials:
    :meth:`also`), in any form it may be echoed in, from bodies and errors."""

    __slots__ = ("_bytes_re", "_secrets", "_text_re")

    def __init__(self, api_key: str) -> None:
        self._secrets: tuple[str, ...] = (api_key,)
        self._text_re: re.Pattern[str] | None = None
        self._bytes_re: re.Pattern[bytes] | None = None

    def also(self, *secrets: str) -> None:
        """Redact these too (the proxy password and its Basic token). Secrets shorter than
        :data:`MIN_SECRET` characters are not worth mangling every message for: ignored."""
        self._secrets += tuple(secret for secret in secrets if len(secret) >= MIN_SECRET)
        self._text_re = self._bytes_re = None

    def _pattern(self) -> str:
        return "|".join(f"(?:{key_pattern(secret)})" for secret in self._secrets)

    def _text(self) -> re.Pattern[str]:
        pattern = self._text_re
        if pattern is None:
            pattern = self._text_re = re.compile(self._pattern(), re.IGNORECASE)
        return pattern

    def body(self, body: bytes) -> bytes:
        """``body`` with every copy of a secret replaced (the same object when there is none)."""
        pattern = self._bytes_re
        if pattern is None:
            pattern = self._bytes_re = re.compile(self._pattern().encode(), re.IGNORECASE)
        if pattern.search(body) is None:
            return body
        return pattern.sub(REDACTED.encode(), body)

    def text(self, text: str) -> str:
        """``text`` with every copy of the key replaced."""
        return self._text().sub(REDACTED, text)

    def found_in(self, text: str) -> bool:
        """Whether ``text`` holds the key in any form."""
        return self._text().search(text) is not None

    def error(self, error: E) -> E:
        """Redact ``error`` in place and return it: message, code, ``details``, request id and
        a cause chain that quotes a secret (dropped)."""
        pattern = self._text()
        message = getattr(error, "message", None)
        if isinstance(message, str) and pattern.search(message):
            redacted = pattern.sub(REDACTED, message)
            error.message = redacted  # type: ignore[attr-defined]
            error.args = (redacted,)
        elif error.args and any(isinstance(a, str) and pattern.search(a) for a in error.args):
            error.args = tuple(
                pattern.sub(REDACTED, a) if isinstance(a, str) else a for a in error.args
            )
        if (
            isinstance(error, APIError | ResponseParseError)
            and error.request_id is not None
            and pattern.search(error.request_id)
        ):
            error.request_id = pattern.sub(REDACTED, error.request_id)
        if isinstance(error, APIError):
            if error.code is not None and pattern.search(error.code):
                error.code = pattern.sub(REDACTED, error.code)
            if error.details:
                details = self._redact_json(error.details)
                if details != error.details:
                    error.details = details
        cause = error.__cause__ or error.__context__
        if cause is not None and self._quoted_in_chain(cause):
            error.__cause__ = None
            error.__suppress_context__ = True
        return error

    def _redact_json(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {self._redact_json(k): self._redact_json(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self._redact_json(v) for v in value]
        return value

    def _quoted_in_chain(self, exc: BaseException) -> bool:
        # What a traceback of the chain would show of the exceptions themselves: their text.
        seen: set[int] = set()
        current: BaseException | None = exc
        while current is not None and id(current) not in seen:
            seen.add(id(current))
            if self.found_in(str(current)) or self.found_in(repr(current.args)):
                return True
            current = current.__cause__ or current.__context__
        return False
