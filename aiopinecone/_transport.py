"""The client's aiohttp touch point: one pooled session, open a request, read or stream it.

The session (and its ``TCPConnector``) is created lazily on first use, inside the running loop.
A session given by the caller is used as is and never closed. aiohttp's exceptions are turned
into :class:`~aiopinecone.TransportError` / :class:`~aiopinecone.RequestTimeoutError` here, with
``ambiguous=False`` when the request certainly never reached the server (connect failures).

The wait for a pooled connection is the transport's, not the request's: a request first takes
one of the pool's ``max_connections`` slots (waiting at most ``pool_timeout`` seconds, else
:class:`~aiopinecone.PoolTimeoutError`), and only then goes to aiohttp, whose request timeout
therefore starts when a connection is ours. The slot is given back with the connection: in
:meth:`Transport.open` for a body it reads (buffered calls, error answers), in
:meth:`Transport.finish` for a stream's. A free slot is taken without awaiting anything.

A request's total timeout (``ClientTimeout.total``) is kept by the client's :class:`Deadlines`
(one loop timer per client, ``_deadlines.py``), not by aiohttp (a timer per request): aiohttp
gets the same timeout without its total. It covers the request and the reading of its body.

Redirects are never followed: aiohttp drops only ``Authorization`` when a redirect changes origin,
so following one would hand the ``Api-Key`` header (and the body) to whatever host the ``Location``
names, over plain http too. The Assistant API does not redirect; a 3xx is reported as an error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, Final

import aiohttp

from ._deadlines import SECONDS, Deadline, Deadlines
from ._network import Network
from ._pool import PoolSlots
from ._response import finish
from ._transport_errors import strip_query, total_timeout_error, transport_error
from ._validation import check_seconds
from .exceptions import PineconeError, PoolTimeoutError

__all__ = ["Transport"]

DEFAULT_TIMEOUT: Final = aiohttp.ClientTimeout(total=120.0, sock_connect=10.0)
"""Per request: 2 minutes in total, 10 s to connect (non-streaming chat can take a while)."""

DEFAULT_STREAM_READ_TIMEOUT: Final = 120.0
"""Streams: no total limit, but at most this many seconds of silence between two reads."""

DEFAULT_POOL_TIMEOUT: Final = 120.0
"""How long a request may wait for a free connection of the pool before ``PoolTimeoutError``."""


def to_client_timeout(value: float | aiohttp.ClientTimeout | None) -> aiohttp.ClientTimeout:
    """A ``ClientTimeout`` from seconds (total, keeping the default connect limit) or as given."""
    if value is None:
        return DEFAULT_TIMEOUT
    if isinstance(value, aiohttp.ClientTimeout):
        return value
    seconds = check_seconds(value, "timeout")
    assert seconds is not None
    return aiohttp.ClientTimeout(total=seconds, sock_connect=min(10.0, seconds))


def stream_timeout(connect: float | None, read: float) -> aiohttp.ClientTimeout:
    """A stream's timeout: no total, ``read`` seconds between reads, the usual connect limit."""
    return aiohttp.ClientTimeout(total=None, sock_connect=connect, sock_read=read)


class Transport:
    """Owns (or borrows) the one ``ClientSession`` every request of a client goes through."""

    __slots__ = (
        "_closed",
        "_deadlines",
        "_keepalive",
        "_last_timeout",
        "_last_total",
        "_last_untotalled",
        "_limit",
        "_limit_per_host",
        "_owned",
        "_pool_timeout",
        "_running",
        "_session",
        "_slots",
        "_timeout",
        "network",
    )

    def __init__(
        self,
        *,
        session: aiohttp.ClientSession | None = None,
        max_connections: int = 100,
        max_connections_per_host: int = 0,
        timeout: aiohttp.ClientTimeout = DEFAULT_TIMEOUT,
        keepalive: float = 30.0,
        pool_timeout: float | None = DEFAULT_POOL_TIMEOUT,
        network: Network | None = None,
    ) -> None:
        self.network: Network | None = network
        """Proxy, TLS, environment and tracing options of the session we create (``None``:
        aiohttp's defaults; ignored for a caller's session)."""
        self._session = session
        self._owned = session is None
        self._limit = max_connections
        self._limit_per_host = max_connections_per_host
        self._timeout = timeout
        self._keepalive = keepalive
        self._closed = False
        self._pool_timeout = pool_timeout
        # A caller's session: its connector's limit (0 = none) is the pool's size.
        limit = max_connections if session is None else getattr(session.connector, "limit", 0)
        self._slots: PoolSlots | None = PoolSlots(limit) if limit else None
        self._deadlines = Deadlines()
        self._running: dict[aiohttp.ClientResponse, Deadline] = {}
        """Responses whose request has a total timeout, until :meth:`finish`."""
        # The last timeout seen, split into its total and its aiohttp form without the total:
        # nearly every call passes the client's one default (an identity check; hashing a
        # ClientTimeout, a dataclass, runs Python code).
        self._last_timeout: aiohttp.ClientTimeout | None = None
        self._split_timeout(None)

    @property
    def pool_timeout(self) -> float | None:
        """Seconds a request may wait for a free pooled connection (``None``: no limit)."""
        return self._pool_timeout

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def session(self) -> aiohttp.ClientSession:
        """The session, created on first use (must be called inside the running loop)."""
        session = self._session
        if session is None:
            if self._closed:
                raise PineconeError("this AsyncPinecone client is closed")
            network = self.network
            connector = aiohttp.TCPConnector(
                limit=self._limit,
                limit_per_host=self._limit_per_host,
                keepalive_timeout=self._keepalive,
                ttl_dns_cache=300,
                ssl=True if network is None else network.ssl,
            )
            session = self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=self._timeout,
                raise_for_status=False,
                **(network.session_options() if network is not None else {}),
            )
            # aiohttp silently re-sends GET/PUT/DELETE once when a connection drops. Retries are
            # the policy's job: a hidden one breaks attempt counts, RetryPolicy.none() and the
            # "DELETE meets 404 after a lost response" rule. No public switch exists (aiohttp's
            # own test client flips the same attribute); a caller's session is left as it is.
            if hasattr(session, "_retry_connection"):
                session._retry_connection = False
        elif self._closed:
            raise PineconeError("this AsyncPinecone client is closed")
        return session

    @property
    def current_session(self) -> aiohttp.ClientSession | None:
        """The session if it exists (not created here)."""
        return self._session

    @property
    def connector(self) -> aiohttp.BaseConnector | None:
        """The connection pool, once the session exists."""
        return self._session.connector if self._session is not None else None

    async def close(self) -> None:
        """Close the session if we own it; a caller's session is left open. Idempotent.

        Calls still waiting for a pooled connection fail at once."""
        self._closed = True
        self._deadlines.close()
        if self._slots is not None:
            self._slots.fail_waiters(PineconeError("this AsyncPinecone client is closed"))
        session = self._session
        if self._owned:
            self._session = None
            if session is not None and not session.closed:
                await session.close()

    async def open(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        params: Mapping[str, str] | None = None,
        data: Any = None,
        timeout: aiohttp.ClientTimeout | None = None,
        read: bool = False,
    ) -> tuple[aiohttp.ClientResponse, bytes]:
        """Send a request; return the response and its body.

        With ``read`` (a buffered call), or when the status is not 2xx (an error's body, for its
        message), the body is read inside this call (the total timeout still counting) and the
        connection and the pool slot are given back before it returns. Otherwise (a stream's
        2xx) it returns once the response head is in, with ``b""``: the caller reads the body
        and must hand the response back to :meth:`finish`. Waits first for a free connection of
        the pool (:class:`~aiopinecone.PoolTimeoutError` after ``pool_timeout`` seconds);
        ``timeout`` starts once one is ours.
        """
        session = self._session
        if session is None or self._closed:
            session = self.session()
        slots = self._slots
        if slots is not None:
            if slots.free > 0 and not slots.waiters:
                slots.free -= 1
            elif not await slots.wait(self._pool_timeout):
                raise PoolTimeoutError(
                    f"{method} {strip_query(url)}: no connection free in the pool after "
                    f"{self._pool_timeout:g} s (max_connections={slots.size}); the request was "
                    "not sent"
                )
        deadline: Deadline | None = None
        response: aiohttp.ClientResponse | None = None
        try:
            if timeout is not self._last_timeout:
                self._split_timeout(timeout)
            total = self._last_total
            if total is not None:
                deadline = self._deadlines.start(total)
            response = await session.request(
                method,
                url,
                headers=headers,
                params=params,
                data=data,
                timeout=self._last_untotalled,
                allow_redirects=False,
            )
            if read or not 200 <= response.status < 300:
                body = await response.read()
            else:
                if deadline is not None:
                    self._running[response] = deadline
                return response, b""
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            self._ended(response, deadline, slots)
            # A proxy's error quotes the proxy URL, credentials included: not chained.
            cause = None if isinstance(exc, _PROXY_ERRORS) else exc
            raise transport_error(exc, method, url) from cause
        except asyncio.CancelledError:
            timed_out = deadline is not None and self._deadlines.timed_out(deadline)
            self._ended(response, deadline, slots)
            if timed_out:
                assert deadline is not None
                raise total_timeout_error(method, url, deadline[SECONDS]) from None
            raise
        except BaseException:
            self._ended(response, deadline, slots)
            raise
        # The body was read to its end: Deadlines.stop() and PoolSlots.release()'s common
        # case, inline (this runs for every buffered request).
        response.release()
        if deadline is not None:
            deadline[0].pop(deadline[1], None)  # (lane, task, ...)
        if slots is not None:
            if slots.waiters:
                slots.release()
            else:
                slots.free += 1
        return response, body

    def _split_timeout(self, timeout: aiohttp.ClientTimeout | None) -> None:
        """Remember ``timeout`` as its total (for the deadlines; ``None``: none) and the rest
        (for aiohttp)."""
        total = None if timeout is None else timeout.total
        if total is not None and total > 0.0:
            assert timeout is not None
            self._last_total: float | None = total
            self._last_untotalled: aiohttp.ClientTimeout | None = _without_total(timeout)
        else:
            self._last_total = None
            self._last_untotalled = timeout
        self._last_timeout = timeout

    def _ended(
        self,
        response: aiohttp.ClientResponse | None,
        deadline: Deadline | None,
        slots: PoolSlots | None,
    ) -> None:
        """An attempt that failed in :meth:`open`: close its connection (a half-read one
        cannot be reused), end its deadline, give its pool slot back."""
        if response is not None:
            response.close()
        if deadline is not None:
            self._deadlines.stop(deadline)
        if slots is not None:
            slots.release()

    def finish(self, response: aiohttp.ClientResponse) -> None:
        """Give a stream's connection back (see :func:`_response.finish`) and its pool slot;
        its total timeout, if it had one, no longer counts."""
        finish(response)
        if self._running:
            deadline = self._running.pop(response, None)
            if deadline is not None:
                self._deadlines.stop(deadline)
        slots = self._slots
        if slots is not None:
            slots.release()


def _without_total(timeout: aiohttp.ClientTimeout) -> aiohttp.ClientTimeout:
    """``timeout`` for aiohttp: the same but its total (kept by the client's deadlines)."""
    return aiohttp.ClientTimeout(
        total=None,
        connect=timeout.connect,
        sock_read=timeout.sock_read,
        sock_connect=timeout.sock_connect,
        ceil_threshold=timeout.ceil_threshold,
    )


_PROXY_ERRORS: Final = (aiohttp.ClientProxyConnectionError, aiohttp.ClientHttpProxyError)
