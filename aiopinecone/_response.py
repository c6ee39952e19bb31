"""What an attempt gives back: a :class:`Response` (its body read) or a :class:`StreamedResponse`.

A buffered call's body is read inside its attempt (``Transport.open``, for ``Core._send``); a
stream's is read by the caller, chunk by chunk, and its connection given back when it leaves
the ``async with`` block (``release``: ``Transport.finish``, which also frees the pool slot).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from types import TracebackType

import aiohttp

from ._protocol import request_id_from
from ._transport_errors import transport_error

__all__ = ["Response", "StreamedResponse", "finish"]


def finish(response: aiohttp.ClientResponse) -> None:
    """Give a streamed response's connection back: to the pool if the body was read to the end,
    closed otherwise (a half-read HTTP/1.1 connection cannot be reused)."""
    if response.content.at_eof():
        response.release()
    else:
        response.close()


async def read_body(response: aiohttp.ClientResponse, method: str, url: str) -> bytes:
    """Read the rest of a streamed response (an error body), mapping transport failures."""
    try:
        return await response.read()
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        raise transport_error(exc, method, url) from exc


class Response:
    """An answer: status, headers and the body, read (buffered calls) or still to read (a
    :class:`StreamedResponse`).

    ``attempts`` is how many attempts the call took; ``ambiguous`` is true when an earlier
    attempt failed in a way that may have been applied by the server (5xx, lost response).
    ``resolved`` is what a reconciliation hook found instead of a fresh answer (see
    ``Core.request``); ``None`` otherwise.

    Like a stream, it is an async iterator of ``bytes`` (its one body) and an async context
    manager, so that code reading either kind of answer needs no branch.
    """

    __slots__ = ("ambiguous", "attempts", "body", "headers", "resolved", "status")

    def __init__(
        self,
        status: int,
        headers: Mapping[str, str],
        body: bytes = b"",
        attempts: int = 1,
        ambiguous: bool = False,
        resolved: object = None,
    ) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.attempts = attempts
        self.ambiguous = ambiguous
        self.resolved = resolved

    @property
    def request_id(self) -> str | None:
        """The server's request id, if it sent one."""
        return request_id_from(self.headers)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self.body:
            yield self.body

    async def read(self) -> bytes:
        """The whole (remaining) body; kept as :attr:`body`."""
        return self.body

    async def aclose(self) -> None:
        """Release the connection of a streamed response (idempotent)."""

    async def __aenter__(self) -> Response:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class StreamedResponse(Response):
    """An answer whose body is still to read (``Core.stream``): an async iterator of raw
    ``bytes`` chunks as the network delivers them. Leaving the ``async with`` block, or
    :meth:`aclose`, releases the connection (closed if the body was not read to the end).
    Transport failures and read timeouts in the middle of the body raise
    :class:`~aiopinecone.TransportError` / :class:`~aiopinecone.RequestTimeoutError`.
    """

    __slots__ = ("_method", "_raw", "_release", "_url")

    def __init__(
        self,
        status: int,
        headers: Mapping[str, str],
        attempts: int,
        ambiguous: bool,
        *,
        raw: aiohttp.ClientResponse,
        method: str,
        url: str,
        release: Callable[[aiohttp.ClientResponse], None] = finish,
    ) -> None:
        super().__init__(status, headers, b"", attempts, ambiguous)
        self._raw: aiohttp.ClientResponse | None = raw
        self._release = release
        self._method = method
        self._url = url

    async def __aiter__(self) -> AsyncIterator[bytes]:
        raw = self._raw
        if raw is None:
            return
        content = raw.content
        try:
            while True:
                chunk = await content.readany()
                if not chunk:
                    return
                yield chunk
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise transport_error(exc, self._method, self._url) from exc

    async def read(self) -> bytes:
        """The whole (remaining) body; kept as :attr:`body`."""
        raw = self._raw
        if raw is not None:
            self.body = await read_body(raw, self._method, self._url)
        return self.body

    async def aclose(self) -> None:
        """Release the connection (idempotent)."""
        raw = self._raw
        if raw is not None:
            self._raw = None
            self._release(raw)
