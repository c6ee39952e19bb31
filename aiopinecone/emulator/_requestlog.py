"""The request log: every request the emulator served, with what happened to it.

The log's middleware is the outermost one, so it sees the final outcome of every request:
answered (with its status, including injected faults and rate-limit rejections), dropped on
purpose by a fault, interrupted because the client went away, or crashed. Entries are kept in a
ring buffer (``maxlen``, default 100,000); ``total`` counts every request ever recorded. Headers
are not recorded except ``X-Pinecone-Api-Version``: the ``Api-Key`` never reaches the log.
Admin routes (``/__emulator/``) are not recorded unless ``include_admin=True``.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Final
from urllib.parse import parse_qsl

import attrs
from aiohttp import web
from aiohttp.typedefs import Handler

from ._opclasses import request_operation_class
from ._paths import ADMIN_PREFIX, compile_path_pattern
from ._ratelimit import RATE_LIMITED_KEY
from .faults._wire import DROPPED_KEY, FAULT_KEY

RESPONSE: Final = "response"
"""Outcome: a response was sent (``status`` says which)."""
DROPPED: Final = "dropped"
"""Outcome: a fault closed the connection without answering (``status`` is None)."""
CLIENT_DISCONNECTED: Final = "client_disconnected"
"""Outcome: the client went away before the answer was sent (``status``: the status the server
would have sent, or None if the handler could not finish)."""
ERROR: Final = "error"
"""Outcome: the handler crashed; aiohttp answered 500."""

_API_VERSION_HEADER: Final = "X-Pinecone-Api-Version"


@attrs.frozen
class LogEntry:
    """One request, as the emulator saw it."""

    seq: int
    """1 for the first request recorded since the emulator started (never reset by ``clear``)."""
    method: str
    path: str
    query_string: str
    api_version: str | None
    """The raw ``X-Pinecone-Api-Version`` header (None when absent)."""
    op_class: str
    """The rate-limit operation class (``assistants_read``... ``other``)."""
    status: int | None
    """The status sent (or meant to be sent, if the client had gone); None when there was none."""
    outcome: str
    """``response``, ``dropped``, ``client_disconnected`` or ``error``."""
    fault: str | None
    """The label of the injected fault (``status:503``, ``chaos:drop_after``...), or None."""
    rate_limited: bool
    """Whether the rate limiter rejected the request (429)."""
    start: float
    """``time.monotonic()`` when the request reached the emulator's middleware."""
    end: float
    """``time.monotonic()`` when its outcome was known."""

    @property
    def query(self) -> dict[str, str]:
        """The query parameters (the last value of a repeated one)."""
        return dict(parse_qsl(self.query_string, keep_blank_values=True))

    @property
    def dropped(self) -> bool:
        """Whether a fault dropped the connection."""
        return self.outcome == DROPPED

    @property
    def duration(self) -> float:
        """Seconds from arrival to outcome."""
        return self.end - self.start

    def to_json(self) -> dict[str, Any]:
        """JSON form (``GET /__emulator/log``)."""
        return {
            "seq": self.seq,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "api_version": self.api_version,
            "op_class": self.op_class,
            "status": self.status,
            "outcome": self.outcome,
            "fault": self.fault,
            "rate_limited": self.rate_limited,
            "start": self.start,
            "end": self.end,
        }


@functools.lru_cache(maxsize=256)
def _path_matcher(pattern: str) -> Callable[[str], object]:
    if any(c in pattern for c in "{*"):
        return compile_path_pattern(pattern).fullmatch
    return pattern.__eq__


def _gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


def _fault_matches(label: str | None, wanted: str | bool) -> bool:
    if isinstance(wanted, bool):
        return (label is not None) is wanted
    return label is not None and (label == wanted or label.startswith(wanted + ":"))


class RequestLog:
    """A bounded log of requests with query helpers for tests.

    ``maxlen`` bounds the entries kept (the oldest go first); ``include_admin`` also records
    the ``/__emulator/`` admin routes.
    """

    def __init__(self, maxlen: int = 100_000, *, include_admin: bool = False) -> None:
        if isinstance(maxlen, bool) or not isinstance(maxlen, int) or maxlen < 0:
            raise ValueError(f"maxlen must be an int >= 0, got {maxlen!r}")
        self._entries: deque[LogEntry] = deque(maxlen=maxlen)
        self._include_admin = include_admin
        self.total = 0
        """Requests recorded since the emulator started (including those the ring buffer lost)."""

    @property
    def maxlen(self) -> int:
        """How many entries are kept."""
        return self._entries.maxlen or 0

    @property
    def entries(self) -> list[LogEntry]:
        """The entries kept, oldest first (a copy; safe to read from another thread)."""
        return list(self._entries.copy())

    def clear(self) -> None:
        """Forget every entry (``total`` and ``seq`` keep counting)."""
        self._entries.clear()

    def filter(
        self,
        *,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
        op_class: str | None = None,
        outcome: str | None = None,
        fault: str | bool | None = None,
        rate_limited: bool | None = None,
        since: int | None = None,
    ) -> list[LogEntry]:
        """The entries matching every given criterion (None: any), oldest first.

        ``path`` is an exact path or a pattern (``{name}``, ``*``, ``**`` as in fault scripts).
        ``fault``: True (any fault), False (none), or a label or label prefix (``"chaos"``,
        ``"status:503"``). ``since``: only entries with ``seq`` greater than this.
        """
        upper = method.upper() if method is not None else None
        path_ok = _path_matcher(path) if path is not None else None
        out: list[LogEntry] = []
        for e in self._entries.copy():
            if (
                (since is None or e.seq > since)
                and (upper is None or e.method == upper)
                and (path_ok is None or path_ok(e.path))
                and (status is None or e.status == status)
                and (op_class is None or e.op_class == op_class)
                and (outcome is None or e.outcome == outcome)
                and (fault is None or _fault_matches(e.fault, fault))
                and (rate_limited is None or e.rate_limited is rate_limited)
            ):
                out.append(e)
        return out

    def count(
        self,
        *,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
        op_class: str | None = None,
        outcome: str | None = None,
        fault: str | bool | None = None,
        rate_limited: bool | None = None,
        since: int | None = None,
    ) -> int:
        """How many entries match (criteria as for :meth:`filter`)."""
        return len(
            self.filter(
                method=method,
                path=path,
                status=status,
                op_class=op_class,
                outcome=outcome,
                fault=fault,
                rate_limited=rate_limited,
                since=since,
            )
        )

    def last(self) -> LogEntry | None:
        """The most recent entry, if any."""
        try:
            return self._entries[-1]
        except IndexError:
            return None

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """aiohttp middleware (the outermost): record the request and its outcome."""
        if not self._include_admin and request.path.startswith(ADMIN_PREFIX):
            return await handler(request)
        start = time.monotonic()
        op = request_operation_class(request)
        status: int | None = None
        outcome = ERROR
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            status, outcome = exc.status, RESPONSE
            raise
        except asyncio.CancelledError:
            outcome = CLIENT_DISCONNECTED
            raise
        except ConnectionError:
            outcome = CLIENT_DISCONNECTED
            if not _gone(request):
                raise
            # The client went away and the handler failed reading its body or writing: nothing
            # can be sent. Returning (not raising) keeps aiohttp from logging a traceback; its
            # attempt to send this placeholder fails quietly as a disconnection.
            return web.Response(status=499)
        except Exception:
            status = 500
            raise
        else:
            if request.get(DROPPED_KEY, False):
                outcome = DROPPED
            else:
                status = response.status
                outcome = CLIENT_DISCONNECTED if _gone(request) else RESPONSE
            return response
        finally:
            self.total += 1
            self._entries.append(
                LogEntry(
                    self.total,
                    request.method,
                    request.path,
                    request.query_string,
                    request.headers.get(_API_VERSION_HEADER),
                    op,
                    status,
                    outcome,
                    request.get(FAULT_KEY),
                    request.get(RATE_LIMITED_KEY, False),
                    start,
                    time.monotonic(),
                )
            )
