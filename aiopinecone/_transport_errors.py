r"""aiohttp's, the OS's and asyncio's failures as :class:`~aiopinecone.TransportError`\s.

``ambiguous=False`` when the request certainly never reached the server, ``connect_failed`` when
it could not connect (an outage: retried on the retry policy's ``connect_budget``).
"""

from __future__ import annotations

import asyncio

import aiohttp

from .exceptions import RequestTimeoutError, TransportError

__all__ = ["strip_query", "total_timeout_error", "transport_error"]


def transport_error(exc: BaseException, method: str, url: str) -> TransportError:
    """The :class:`TransportError` for an aiohttp/OS/timeout failure."""
    where = f"{method} {strip_query(url)}"
    if isinstance(exc, aiohttp.ClientProxyConnectionError):
        return TransportError(
            f"{where}: cannot connect to the proxy {_proxy_of(exc)}: {_os_reason(exc)}",
            ambiguous=False,
            connect_failed=True,
        )
    if isinstance(exc, aiohttp.ClientHttpProxyError):
        return TransportError(
            f"{where}: the proxy refused the connection: {exc.status} {exc.message}"
            + (" (wrong or missing proxy credentials)" if exc.status == 407 else ""),
            ambiguous=False,
        )
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        # Not an outage (not connect_failed): the certificate will not change by waiting.
        return TransportError(
            f"{where}: TLS certificate verification failed: {exc.certificate_error} (a private "
            "or TLS-inspecting CA? pass ssl=<its CA bundle path>)",
            ambiguous=False,
        )
    if isinstance(exc, aiohttp.ClientConnectorSSLError):
        return TransportError(
            f"{where}: TLS handshake failed: {_os_reason(exc)}",
            ambiguous=False,
            connect_failed=True,
        )
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return RequestTimeoutError(
            f"{where}: timed out while connecting", ambiguous=False, connect_failed=True
        )
    if isinstance(exc, asyncio.TimeoutError):  # SocketTimeoutError and the total timeout
        return RequestTimeoutError(f"{where}: timed out waiting for the server ({_describe(exc)})")
    if isinstance(exc, aiohttp.ClientConnectorError):  # refused, reset, DNS
        return TransportError(
            f"{where}: cannot connect: {_describe(exc)}", ambiguous=False, connect_failed=True
        )
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return TransportError(f"{where}: the server closed the connection without an answer")
    return TransportError(f"{where}: {_describe(exc)}")


def total_timeout_error(method: str, url: str, seconds: float) -> TransportError:
    """A request that had no complete answer within its total timeout of ``seconds``."""
    return RequestTimeoutError(
        f"{method} {strip_query(url)}: timed out waiting for the server (no complete answer "
        f"within the {seconds:g} s timeout)"
    )


def _proxy_of(exc: aiohttp.ClientConnectorError) -> str:
    # The connection key names the proxy host and port only (never its credentials).
    return f"{exc.host}:{exc.port}"


def _os_reason(exc: aiohttp.ClientConnectorError) -> str:
    return exc.os_error.strerror or str(exc.os_error) or type(exc.os_error).__name__


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def strip_query(url: str) -> str:
    return url.partition("?")[0]
