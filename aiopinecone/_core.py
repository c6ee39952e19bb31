"""The request executor every resource mixin uses: headers, retries, errors, parsing, streams.

One :class:`Core` per client holds everything built once (headers, base URLs, the default retry
policy and timeout, the transport, the data-plane host cache). A resource method does::

    response = await self._core.request("GET", url, op="describe_assistant", retry=retry)
    return self._core.parse(response, Assistant)

See "Core interface" in ``docs/architecture.md``.
"""

from __future__ import annotations

import ipaddress
import logging
import time
import traceback
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from typing import Any, Final, TypeVar

import aiohttp
import attrs
import orjson

from . import _convert
from ._hosts import HostCache
from ._protocol import build_headers, error_from_response, request_id_from
from ._retry import RetryPolicy, RetryState
from ._transport import (
    DEFAULT_STREAM_READ_TIMEOUT,
    ByteStream,
    Transport,
    finish,
    read_body,
    stream_timeout,
    to_client_timeout,
)
from .exceptions import (
    APIError,
    PineconeError,
    RateLimitError,
    ResponseParseError,
    ServerError,
    TransportError,
    ValidationError,
)
from .models.assistants import Assistant

__all__ = ["Core", "RequestStats", "Response", "track_requests"]

T = TypeVar("T")

_log: Final = logging.getLogger("aiopinecone")
_DEBUG: Final = logging.DEBUG
IDEMPOTENT_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"})
_LOOPBACK_NAMES: Final = frozenset({"localhost", "::1", "[::1]"})
_MAX_LOOPBACK_HOSTS: Final = 64


class Response:
    """A successful (2xx) response, body fully read.

    ``attempts`` is how many attempts the call took; ``ambiguous`` is true when an earlier
    attempt failed in a way that may have been applied by the server (5xx, lost response).
    """

    __slots__ = ("ambiguous", "attempts", "body", "headers", "status")

    def __init__(
        self,
        status: int,
        headers: Mapping[str, str],
        body: bytes,
        attempts: int = 1,
        ambiguous: bool = False,
    ) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.attempts = attempts
        self.ambiguous = ambiguous

    @property
    def request_id(self) -> str | None:
        """The server's request id, if it sent one."""
        return request_id_from(self.headers)


@attrs.define
class RequestStats:
    """Counters of the requests made inside :func:`track_requests` (this task and its children).

    ``requests``: attempts sent; ``retries``: attempts that were retries; ``rate_limited``:
    429 rate-limit answers met; ``last_retry_after``: the last ``Retry-After`` seen (seconds).
    """

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    last_retry_after: float | None = None


_stats: ContextVar[RequestStats | None] = ContextVar("aiopinecone_request_stats", default=None)


@contextmanager
def track_requests() -> Iterator[RequestStats]:
    """Count the attempts, retries and 429s of every request made in this context.

    Tasks created inside inherit the same counters (asyncio copies the context).
    """
    stats = RequestStats()
    token = _stats.set(stats)
    try:
        yield stats
    finally:
        _stats.reset(token)


def _was_ambiguous(error: PineconeError) -> bool:
    """Whether a failed attempt may nevertheless have been applied by the server."""
    if isinstance(error, TransportError):
        return error.ambiguous
    return isinstance(error, ServerError)


def is_loopback(hostname: str) -> bool:
    """``localhost``, ``127.0.0.0/8`` or ``::1``.

    Only IP literals and ``localhost`` count: ``127.0.0.1.example.com`` is a DNS name that can
    point anywhere, so it is not loopback.
    """
    name = hostname.lower()
    if name in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name.removeprefix("[").removesuffix("]")).is_loopback
    except ValueError:
        return False


class Core:
    """Per-client request machinery shared by every resource mixin (``self._core``)."""

    def __init__(
        self,
        *,
        api_key: str,
        api_version: str,
        control_origin: str,
        evaluation_origin: str | None,
        retry: RetryPolicy,
        timeout: aiohttp.ClientTimeout,
        transport: Transport,
        user_agent: str,
        allow_insecure_http: bool = False,
    ) -> None:
        self.api_version: Final = api_version
        self.control_url: Final = control_origin + "/assistant"
        """Control-plane base: ``{host}/assistant``."""
        self.assistants_url: Final = self.control_url + "/assistants"
        self.retry = retry
        self.timeout = timeout
        self.stream_read_timeout = DEFAULT_STREAM_READ_TIMEOUT
        self.transport: Final = transport
        self.allow_insecure_http: Final = allow_insecure_http
        self.hosts: Final = HostCache(self._resolve_host)
        self._primed: dict[str, str] = {}
        """Data-plane base URLs per assistant name (single-flight; see ``_hosts.py``)."""
        self._loopback_hosts: set[str] = set()
        self._evaluation_origin = evaluation_origin
        self._api_key = api_key
        self._api_key_bytes = api_key.encode()
        self._headers: Final = build_headers(api_key, api_version, user_agent)
        self._json_headers: Final = {**self._headers, "Content-Type": "application/json"}

    # -- URLs -------------------------------------------------------------------------------

    def assistant_url(self, name: str) -> str:
        """``{host}/assistant/assistants/{name}`` (``name`` must be validated already)."""
        return f"{self.assistants_url}/{name}"

    async def data_plane_url(self, assistant_name: str) -> str:
        """The assistant's data-plane base URL ``{assistant.host}/assistant`` (cached)."""
        return await self.hosts.get(assistant_name)

    def evaluation_url(self, region: str = "us") -> str:
        """The evaluation base URL ``{evaluation host}/assistant`` for ``region``."""
        if self._evaluation_origin is not None:
            return self._evaluation_origin + "/assistant"
        if region == "eu":
            return "https://prod-eu-data.ke.pinecone.io/assistant"
        return "https://prod-1-data.ke.pinecone.io/assistant"

    def remember(self, assistant: Assistant) -> None:
        """Prime the host cache from a create/describe/list result."""
        host = assistant.host
        name = assistant.name
        # Hot path (every describe): skip the work when the cache already holds this host.
        if (
            host
            and (self._primed.get(name) != host or self.hosts.peek(name) is None)
            and self._host_allowed(host)
        ):
            self.hosts.prime(name, host)
            self._primed[name] = host

    def forget_all(self) -> None:
        """Drop every cached host (client closing)."""
        self._primed.clear()
        self.hosts.clear()

    def forget(self, name: str) -> None:
        """Drop ``name`` from the host cache (deleted, or its host answered 404)."""
        self._primed.pop(name, None)
        self.hosts.forget(name)

    async def _resolve_host(self, name: str) -> str:
        response = await self.request("GET", self.assistant_url(name), op="describe_assistant")
        assistant = self.parse(response, Assistant)
        if not assistant.host:
            raise ResponseParseError(
                f"assistant {name!r} has no data-plane host (status {assistant.status})",
                path="$.host",
                request_id=response.request_id,
            )
        if not self._host_allowed(assistant.host):
            raise ValidationError(
                f"refusing to send the API key over plain http to {assistant.host!r} (the data "
                f"plane of assistant {name!r}); pass allow_insecure_http=True to allow it"
            )
        return assistant.host

    def _host_allowed(self, host: str) -> bool:
        if self.allow_insecure_http or not host.lower().startswith("http://"):
            return True
        if host in self._loopback_hosts:
            return True
        hostname = host[7:].partition("/")[0].rpartition("@")[2]
        hostname = hostname.rsplit(":", 1)[0] if not hostname.endswith("]") else hostname
        allowed = is_loopback(hostname)
        # Every assistant of an emulator shares one http host: parse its address once, not on
        # every create (ipaddress costs as much as the rest of remember()).
        if allowed and len(self._loopback_hosts) < _MAX_LOOPBACK_HOSTS:
            self._loopback_hosts.add(host)
        return allowed

    # -- requests ---------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        url: str,
        *,
        op: str,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        data: Callable[[], Any] | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        retry: RetryPolicy | None = None,
        timeout: float | aiohttp.ClientTimeout | None = None,
    ) -> Response:
        """Send a request with retries; return the 2xx :class:`Response` or raise a typed error.

        ``json``: a JSON-ready object (serialized once with orjson; ``None`` = no JSON body).
        ``data``: a factory called once per attempt for a body that must be rebuilt on retry
        (multipart uploads). ``idempotent`` defaults from the method (GET, PUT, PATCH, DELETE);
        pass ``True`` for a POST made safe by reconciliation. ``op`` names the operation in logs.
        """
        policy = self.retry if retry is None else retry
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        if json is not None:
            payload: Any = _encode_body(json, op)
            send_headers: Mapping[str, str] = self._json_headers
        else:
            payload = None
            send_headers = self._headers
        if headers:
            send_headers = {**send_headers, **headers}
        client_timeout = self.timeout if timeout is None else to_client_timeout(timeout)
        send = self.transport.send
        state: RetryState | None = None
        ambiguous = False
        attempt = 1
        start = time.monotonic()
        while True:
            began = time.monotonic()
            try:
                status, response_headers, body = await send(
                    method,
                    url,
                    headers=send_headers,
                    params=params,
                    data=payload if data is None else data(),
                    timeout=client_timeout,
                )
            except TransportError as exc:
                self._scrub(exc)
                error: PineconeError = exc
                self._record(method, url, op, type(exc).__name__, attempt, began, None)
            else:
                if 200 <= status < 300:
                    self._record(method, url, op, status, attempt, began, None)
                    return Response(status, response_headers, body, attempt, ambiguous)
                api_error = self._api_error(status, response_headers, body)
                error = api_error
                self._record(method, url, op, status, attempt, began, api_error)
            if state is None:
                state = RetryState(policy, start)
            delay = state.next_delay(error, attempt=attempt, idempotent=idempotent)
            if delay is None:
                raise self._final(error, attempt, ambiguous)
            ambiguous = ambiguous or _was_ambiguous(error)
            if _log.isEnabledFor(_DEBUG):
                _log.debug("%s %s: retrying in %.3f s after %s", method, op, delay, error)
            await state.sleep(delay)
            attempt += 1

    async def request_json(
        self,
        method: str,
        url: str,
        cls: type[T],
        *,
        op: str,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
        retry: RetryPolicy | None = None,
        timeout: float | aiohttp.ClientTimeout | None = None,
    ) -> T:
        """:meth:`request` then :meth:`parse` into ``cls``."""
        response = await self.request(
            method,
            url,
            op=op,
            params=params,
            json=json,
            idempotent=idempotent,
            retry=retry,
            timeout=timeout,
        )
        return self.parse(response, cls)

    def parse(self, response: Response, cls: type[T]) -> T:
        """Decode ``response.body`` into ``cls``; a mismatch raises ``ResponseParseError``."""
        try:
            return _convert.parse(response.body, cls)
        except ResponseParseError as exc:
            exc.status = response.status
            exc.request_id = response.request_id
            if self._api_key_bytes in response.body:
                # The message quotes the body, and so do the decoder errors it was raised from.
                exc.message = exc.message.replace(self._api_key, "<redacted>")
                exc.args = (exc.message,)
                raise exc from None
            raise

    @asynccontextmanager
    async def stream(
        self,
        method: str,
        url: str,
        *,
        op: str,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        retry: RetryPolicy | None = None,
        read_timeout: float | None = None,
    ) -> AsyncIterator[ByteStream]:
        """Open a streamed response: ``async with core.stream(...) as body``, then iterate body.

        Retries (per the policy) happen only before the response head arrives; an error status
        is read, mapped and raised like :meth:`request`. There is no total timeout, only
        ``read_timeout`` seconds (default ``stream_read_timeout``) of silence between reads.
        Leaving the block — at the end, on ``break``, on an exception or on cancellation —
        releases the connection (closed when the body was not read to the end).
        """
        policy = self.retry if retry is None else retry
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        payload = _encode_body(json, op) if json is not None else None
        send_headers: Mapping[str, str] = self._json_headers if json is not None else self._headers
        if headers:
            send_headers = {**send_headers, **headers}
        client_timeout = stream_timeout(
            self.timeout.sock_connect,
            self.stream_read_timeout if read_timeout is None else read_timeout,
        )
        state: RetryState | None = None
        ambiguous = False
        attempt = 1
        start = time.monotonic()
        while True:
            began = time.monotonic()
            try:
                response = await self.transport.open(
                    method,
                    url,
                    headers=send_headers,
                    params=params,
                    data=payload,
                    timeout=client_timeout,
                )
            except TransportError as exc:
                self._scrub(exc)
                error: PineconeError = exc
                self._record(method, url, op, type(exc).__name__, attempt, began, None)
            else:
                if 200 <= response.status < 300:
                    self._record(method, url, op, response.status, attempt, began, None)
                    try:
                        yield ByteStream(response, method, url, request_id_from(response.headers))
                    finally:
                        finish(response)
                    return
                try:
                    body = await read_body(response, method, url)
                except TransportError as exc:
                    self._scrub(exc)
                    error = exc
                else:
                    api_error = self._api_error(response.status, response.headers, body)
                    error = api_error
                    self._record(method, url, op, response.status, attempt, began, api_error)
                finally:
                    finish(response)
            if state is None:
                state = RetryState(policy, start)
            delay = state.next_delay(error, attempt=attempt, idempotent=idempotent)
            if delay is None:
                raise self._final(error, attempt, ambiguous)
            ambiguous = ambiguous or _was_ambiguous(error)
            await state.sleep(delay)
            attempt += 1

    # -- bookkeeping ------------------------------------------------------------------------

    def _record(
        self,
        method: str,
        url: str,
        op: str,
        outcome: int | str,
        attempt: int,
        began: float,
        error: APIError | None,
    ) -> None:
        stats = _stats.get()
        if stats is not None:
            stats.requests += 1
            if attempt > 1:
                stats.retries += 1
            if isinstance(error, RateLimitError):
                stats.rate_limited += 1
                if error.retry_after is not None:
                    stats.last_retry_after = error.retry_after
        if _log.isEnabledFor(_DEBUG):
            _log.debug(
                "%s %s -> %s (op %s, attempt %d, %.1f ms)",
                method,
                _path_of(url),
                outcome,
                op,
                attempt,
                (time.monotonic() - began) * 1000.0,
            )

    def _final(self, error: PineconeError, attempt: int, ambiguous: bool) -> PineconeError:
        """Annotate the error that ends a call with its attempts and ambiguity."""
        if isinstance(error, APIError | TransportError):
            error.attempts = attempt
            error.ambiguous = ambiguous or _was_ambiguous(error)
        return error

    def _api_error(self, status: int, headers: Mapping[str, str], body: bytes) -> APIError:
        """The typed error of an error response, with an echoed API key redacted everywhere
        (message, ``details``, body excerpts, request id)."""
        if self._api_key_bytes in body:
            body = body.replace(self._api_key_bytes, b"<redacted>")
        error = error_from_response(status, headers, body)
        self._scrub(error)
        if error.request_id is not None and self._api_key in error.request_id:
            error.request_id = error.request_id.replace(self._api_key, "<redacted>")
        return error

    def redact(self, error: PineconeError) -> PineconeError:
        """Remove an echoed API key from an error raised outside :meth:`request` (stream
        events): message, ``details``, request id and a cause chain that quotes it."""
        key = self._api_key
        message = getattr(error, "message", None)
        if isinstance(message, str) and key in message:
            redacted = message.replace(key, "<redacted>")
            error.message = redacted  # type: ignore[attr-defined]
            error.args = (redacted,)
        if isinstance(error, APIError):
            if error.details and key in repr(error.details):
                raw = orjson.dumps(error.details).replace(self._api_key_bytes, b"<redacted>")
                error.details = orjson.loads(raw)
            if error.request_id is not None and key in error.request_id:
                error.request_id = error.request_id.replace(key, "<redacted>")
        cause = error.__cause__ or error.__context__
        if cause is not None and key in "".join(traceback.format_exception(cause)):
            error.__cause__ = None
            error.__suppress_context__ = True
        return error

    def _scrub(self, error: APIError | TransportError) -> None:
        """Redact the API key should a server (or a proxy) echo it in an error message."""
        if self._api_key in error.message:
            error.message = error.message.replace(self._api_key, "<redacted>")
            error.args = (error.message,)


def _encode_body(body: Any, op: str) -> bytes:
    """The JSON request body; what cannot be sent as JSON is the caller's mistake, found here,
    before any request (text that is not valid Unicode, such as lone surrogates; NaN is
    refused by the validators that know which field it is in)."""
    try:
        return orjson.dumps(body)
    except orjson.JSONEncodeError as exc:
        raise ValidationError(f"{op}: the request cannot be sent as JSON: {exc}") from None


def _path_of(url: str) -> str:
    rest = url.partition("://")[2]
    return "/" + rest.partition("/")[2].partition("?")[0]
