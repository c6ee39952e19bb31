"""Incremental Server-Sent Events parser.

Feed it byte chunks split anywhere (inside a UTF-8 sequence, between ``\\r`` and ``\\n``, in the
middle of a field name) and it yields the same events. It never uses a line-length limit other
than ``max_event_bytes`` (a guard against a server that never ends a line), and it never
re-scans bytes it has already looked at, so feeding a 1 MB event one byte at a time is linear.

Parsing follows the WHATWG "event stream interpretation" rules: lines end in CRLF, LF or CR;
a line starting with ``:`` is a comment; ``field:value`` with one optional space after the
colon; ``data`` lines of one event are joined with ``\\n``; an empty line dispatches the event.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, AsyncIterable

import attrs

__all__ = ["DONE", "SSEDecoder", "SSEError", "SSEEvent", "aiter_sse"]

DONE = "[DONE]"
"""The ``data`` of the sentinel event that ends an OpenAI-style completion stream."""

_EOL = re.compile(rb"[\r\n]")
_BOM = b"\xef\xbb\xbf"
DEFAULT_MAX_EVENT_BYTES = 64 * 1024 * 1024


class SSEError(Exception):
    """The stream is not a usable event stream (an event exceeds ``max_event_bytes``)."""


@attrs.frozen(slots=True)
class SSEEvent:
    """One dispatched event: ``event`` defaults to ``"message"``."""

    data: str
    event: str = "message"
    id: str | None = None
    retry: int | None = None


class SSEDecoder:
    """Turns a byte stream into :class:`SSEEvent` values, one :meth:`feed` at a time."""

    __slots__ = (
        "_buf",
        "_data",
        "_event",
        "_event_bytes",
        "_id",
        "_max",
        "_retry",
        "_scan",
        "_skip_lf",
        "_started",
    )

    def __init__(self, *, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> None:
        self._max = max_event_bytes
        self._buf = bytearray()
        self._scan = 0  # bytes of ``_buf`` already known to hold no line terminator
        self._skip_lf = False  # the previous line ended in a bare CR: drop one leading LF
        self._started = False  # the optional BOM is only looked for at the very start
        self._data: list[str] = []
        self._event = ""
        self._id: str | None = None
        self._retry: int | None = None
        self._event_bytes = 0

    def feed(self, chunk: bytes | bytearray | memoryview) -> list[SSEEvent]:
        """Add ``chunk`` and return the events it completed (possibly none)."""
        buf = self._buf
        buf += chunk
        if not self._started:
            if len(buf) < len(_BOM) and _BOM.startswith(buf):
                return []
            self._started = True
            if buf.startswith(_BOM):
                del buf[: len(_BOM)]
        if self._skip_lf and buf:
            self._skip_lf = False
            if buf[0] == 0x0A:
                del buf[0]
        events: list[SSEEvent] = []
        start = 0
        pos = self._scan
        end = len(buf)
        while True:
            match = _EOL.search(buf, pos)
            if match is None:
                break
            eol = match.start()
            line = bytes(buf[start:eol])
            if buf[eol] == 0x0D:
                if eol + 1 < end:
                    nxt = eol + 2 if buf[eol + 1] == 0x0A else eol + 1
                else:
                    # A CR as the last byte we have: the LF of a CRLF may be in the next chunk.
                    self._skip_lf = True
                    nxt = eol + 1
            else:
                nxt = eol + 1
            start = pos = nxt
            event = self._line(line)
            if event is not None:
                events.append(event)
        if start:
            del buf[:start]
        self._scan = len(buf)
        if self._event_bytes + len(buf) > self._max:
            raise SSEError(
                f"an event stream event exceeds {self._max} bytes without ending; giving up"
            )
        return events

    def close(self) -> list[SSEEvent]:
        """Signal end of stream; returns a final event the server did not terminate.

        The SSE standard discards an unterminated last event. Servers that close the stream
        right after the last ``data:`` line exist, so a pending event with data is dispatched
        rather than lost (a partial JSON payload then fails loudly where it is decoded).
        """
        events: list[SSEEvent] = []
        if self._buf:
            line = bytes(self._buf)
            self._buf.clear()
            self._scan = 0
            event = self._line(line)
            if event is not None:
                events.append(event)
        event = self._dispatch()
        if event is not None:
            events.append(event)
        return events

    def _line(self, raw: bytes) -> SSEEvent | None:
        if not raw:
            return self._dispatch()
        if raw[0] == 0x3A:  # ":" comment (heartbeats)
            return None
        self._event_bytes += len(raw)
        colon = raw.find(b":")
        if colon < 0:
            name, value = raw, b""
        else:
            name = raw[:colon]
            value = raw[colon + 1 :]
            if value[:1] == b" ":
                value = value[1:]
        if name == b"data":
            self._data.append(value.decode("utf-8", "replace"))
        elif name == b"event":
            self._event = value.decode("utf-8", "replace")
        elif name == b"id":
            if b"\x00" not in value:
                self._id = value.decode("utf-8", "replace")
        elif name == b"retry" and value.isdigit():
            self._retry = int(value)
        return None

    def _dispatch(self) -> SSEEvent | None:
        data, event = self._data, self._event
        self._data = []
        self._event = ""
        self._event_bytes = 0
        if not data:
            return None
        return SSEEvent(
            data="\n".join(data), event=event or "message", id=self._id, retry=self._retry
        )


async def aiter_sse(
    chunks: AsyncIterable[bytes],
    *,
    stop_at_done: bool = False,
    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
) -> AsyncGenerator[SSEEvent, None]:
    """Yield the events of a byte stream; with ``stop_at_done`` end at a ``[DONE]`` event."""
    decoder = SSEDecoder(max_event_bytes=max_event_bytes)
    async for chunk in chunks:
        for event in decoder.feed(chunk):
            if stop_at_done and event.data == DONE:
                return
            yield event
    for event in decoder.close():
        if stop_at_done and event.data == DONE:
            return
        yield event
