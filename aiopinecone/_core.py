"""The request executor every resource uses: one attempt loop for buffered calls and streams.

One :class:`Core` per client holds everything built once (headers, base URLs, the default retry
policy and timeout, the transport). A resource method does::

    response = await core.request("GET", url, op="describe_assistant", retry=retry)
    return core.parse(response, Assistant)

Every attempt of every call goes through :meth:`Core._send`, the one attempt loop: admission
(the rate governor's permit), the transport, the retry decision, ambiguity, request stats,
logging and redaction. A buffered call is a stream that was read inside the attempt. See "Core
interface" in ``docs/architecture.md``.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any, Final, Protocol, TypeVar

import aiohttp

from . import _convert
from ._admission import Admission, TokenCharge
from ._protocol import (
    bearer_headers,
    build_headers,
    encode_json,
    error_from_response,
    frozen_headers,
    parse_retry_after,
)
from ._redact import Redactor
from ._response import Response, StreamedResponse
from ._retry import IDEMPOTENT_METHODS, RetryPolicy, RetryState, was_ambiguous
from ._stats import RequestStats, log_retry, record, track_requests
from ._transport import (
    DEFAULT_STREAM_READ_TIMEOUT,
    Transport,
    stream_timeout,
    to_client_timeout,
)
from .exceptions import (
    APIError,
    PineconeError,
    ResponseParseError,
    TransportError,
)

if TYPE_CHECKING:
    from ._tracing import Tracing

__all__ = ["Core", "Reconcile", "RequestStats", "Response", "track_requests"]

T = TypeVar("T")

_SEND_PARAMETERS: Final = (
    "op",
    "params",
    "json",
    "data",
    "headers",
    "idempotent",
    "retry",
    "timeout",
    "cost",
    "reconcile",
    "buffered",
    "tokens",
)
"""The parameters of :meth:`Core._send` after ``method`` and ``url``, in order."""


class Reconcile(Protocol):
    """A hook of the attempt loop for a non-idempotent call made safe by checking.

    Called after an attempt that failed ambiguously (5xx, or the answer lost once the request
    may have reached the server), before the retry decision. Returns what the call produced if
    the server did apply the request (the call then ends: ``Response.resolved``), or ``None``
    when it did not, so that re-sending is safe (the retry is decided as for an idempotent call).
    """

    def __call__(self, error: PineconeError) -> Awaitable[object | None]: ...


class Core:
    """Per-client request machinery shared by every resource (``self._core``)."""

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
        extra_headers: Mapping[str, str] | None = None,
    ) -> None:
        self.api_version: Final = api_version
        self.control_url: Final = control_origin + "/assistant"
        """Control-plane base: ``{host}/assistant``."""
        self.assistants_url: Final = self.control_url + "/assistants"
        self.retry = retry
        self.timeout = timeout
        self.stream_read_timeout = DEFAULT_STREAM_READ_TIMEOUT
        self.transport: Final = transport
        self.admission: Admission | None = None
        """The rate governor's seam (``_admission.py``); ``None``: every attempt goes at once."""
        self.tracing: Tracing | None = None
        """One OpenTelemetry span per call (``_tracing.py``); ``None``: off, nothing extra."""
        self.redactor: Final = Redactor(api_key)
        self._evaluation_origin = evaluation_origin
        self._headers: Final = build_headers(api_key, api_version, user_agent)
        if extra_headers:
            self._headers.update(extra_headers)
        self._json_headers: Final = {**self._headers, "Content-Type": "application/json"}
        self._send_headers: Final = frozen_headers(self._headers)
        self._send_json_headers: Final = frozen_headers(self._json_headers)

    def bearer_headers(self) -> dict[str, str]:
        """The key as ``Authorization: Bearer`` (an assistant's MCP endpoint), plus the
        client's User-Agent and extra headers."""
        return bearer_headers(self._headers)

    # -- URLs -------------------------------------------------------------------------------

    def assistant_url(self, name: str) -> str:
        """``{host}/assistant/assistants/{name}`` (``name`` must be validated already)."""
        return f"{self.assistants_url}/{name}"

    def evaluation_url(self, region: str = "us") -> str:
        """The evaluation base URL ``{evaluation host}/assistant`` for ``region``."""
        if self._evaluation_origin is not None:
            return self._evaluation_origin + "/assistant"
        if region == "eu":
            return "https://prod-eu-data.ke.pinecone.io/assistant"
        return "https://prod-1-data.ke.pinecone.io/assistant"

    # -- calls ------------------------------------------------------------------------------

    def request(
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
        cost: float = 1.0,
        reconcile: Reconcile | None = None,
        tokens: TokenCharge | None = None,
    ) -> Coroutine[Any, Any, Response]:
        """Send a request with retries; return the 2xx :class:`Response` (body read) or raise a
        typed error.

        ``json``: a JSON-ready object (serialized once with orjson; ``None`` = no JSON body).
        ``data``: a factory called once per attempt for a body that must be rebuilt on retry
        (multipart uploads). ``idempotent`` defaults from the method (GET, PUT, PATCH, DELETE);
        pass ``True`` for a POST made safe by reconciliation. ``op`` names the operation in logs
        and to the admission; ``cost`` is its weight there. ``reconcile``: see :class:`Reconcile`.
        ``tokens``: a chat or context call's input tokens (``_admission.TokenCharge``).

        Not a coroutine function itself: it returns the attempt loop's coroutine, so a call's
        await chain has one frame less (every suspension passes through each frame).
        """
        client_timeout = self.timeout if timeout is None else to_client_timeout(timeout)
        # Positional: forwarding 14 keyword arguments costs more than the rest of this call.
        return (self._send if self.tracing is None else self._traced)(
            method,
            url,
            op,
            params,
            json,
            data,
            headers,
            idempotent,
            retry,
            client_timeout,
            cost,
            reconcile,
            True,
            tokens,
        )

    def stream(
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
        cost: float = 1.0,
        tokens: TokenCharge | None = None,
    ) -> Coroutine[Any, Any, Response]:
        """Open a streamed response: ``async with await core.stream(...) as body``, then iterate.

        Retries (per the policy) happen only before the response head arrives; an error status
        is read, mapped and raised like :meth:`request`. There is no total timeout, only
        ``read_timeout`` seconds (default ``stream_read_timeout``) of silence between reads.
        Leaving the block — at the end, on ``break``, on an exception or on cancellation —
        releases the connection (closed when the body was not read to the end).
        """
        timeout = stream_timeout(
            self.timeout.sock_connect,
            self.stream_read_timeout if read_timeout is None else read_timeout,
        )
        return (self._send if self.tracing is None else self._traced)(
            method,
            url,
            op,
            params,
            json,
            None,
            headers,
            idempotent,
            retry,
            timeout,
            cost,
            None,
            False,
            tokens,
        )

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
            # The message quotes the body, and so do the decoder errors it was raised from.
            self.redactor.error(exc)
            raise

    # -- the attempt loop -------------------------------------------------------------------

    async def _traced(self, method: str, url: str, *arguments: Any) -> Response:
        """:meth:`_send` inside the call's span (tracing on; ``_tracing`` reads the
        arguments by name)."""
        assert self.tracing is not None
        named = dict(zip(_SEND_PARAMETERS, arguments, strict=True))
        return await self.tracing.call(self._send, method, url, **named)

    async def _send(
        self,
        method: str,
        url: str,
        op: str,
        params: Mapping[str, str] | None,
        json: Any,
        data: Callable[[], Any] | None,
        headers: Mapping[str, str] | None,
        idempotent: bool | None,
        retry: RetryPolicy | None,
        timeout: aiohttp.ClientTimeout,
        cost: float,
        reconcile: Reconcile | None,
        buffered: bool,
        tokens: TokenCharge | None,
    ) -> Response:
        """Every attempt of every call: admit, send, read (buffered) or hand on (stream), retry.

        Parameters as :meth:`request`'s, in that order, then ``buffered`` and ``tokens``;
        positional or by keyword (``_tracing`` passes them by keyword)."""
        if json is not None:
            payload: Any = encode_json(json, op)
            send_headers: Mapping[str, str] = self._send_json_headers
        else:
            payload = None
            send_headers = self._send_headers
        if headers:
            send_headers = {**send_headers, **headers}
        open_ = self.transport.open
        admission = self.admission
        state: RetryState | None = None
        ambiguous = False
        attempt = 1
        began = start = time.monotonic()
        while True:
            if admission is not None:
                permit = None if tokens is not None else admission.try_acquire(op, cost)
                if permit is None:
                    # Errors of the admission (its deadline) end the call as they are.
                    total = timeout.total
                    permit = await admission.acquire(
                        op,
                        cost=cost,
                        deadline=None if total is None else start + total,
                        tokens=tokens,
                    )
                    began = time.monotonic()  # an attempt's time does not count the wait
            try:
                # The permit is settled exactly once, however the attempt ends. (An answer
                # whose body failed to arrive counts as no answer.)
                try:
                    # The body is read in there (buffered, or an error's): see Transport.open.
                    raw, body = await open_(
                        method,
                        url,
                        headers=send_headers,
                        params=params,
                        data=payload if data is None else data(),
                        timeout=timeout,
                        read=buffered,
                    )
                except BaseException:
                    if admission is not None:
                        admission.settle(permit, None, None)
                    raise
                status = raw.status
                if admission is not None:
                    admission.settle(
                        permit,
                        status,
                        # Only an error answer's Retry-After means anything to an admission.
                        parse_retry_after(raw.headers) if status >= 400 else None,
                    )
            except TransportError as exc:
                error: PineconeError = self.redactor.error(exc)
                record(method, url, op, type(exc).__name__, attempt, began, None)
            else:
                if 200 <= status < 300:
                    record(method, url, op, status, attempt, began, None)
                    if buffered:
                        return Response(status, raw.headers, body, attempt, ambiguous)
                    return StreamedResponse(
                        status,
                        raw.headers,
                        attempt,
                        ambiguous,
                        raw=raw,
                        method=method,
                        url=url,
                        release=self.transport.finish,
                    )
                error = self._api_error(status, raw.headers, body)
                record(method, url, op, status, attempt, began, error)
            retry_safe = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
            if reconcile is not None and was_ambiguous(error):
                ambiguous = True
                found = await reconcile(error)
                if found is not None:
                    return Response(200, {}, b"", attempt, True, found)
                retry_safe = True  # it did not land: re-sending cannot duplicate it
            if state is None:
                state = RetryState(self.retry if retry is None else retry, start)
            delay = state.next_delay(error, attempt=attempt, idempotent=retry_safe)
            if delay is None:
                if isinstance(error, APIError | TransportError):
                    error.attempts = attempt
                    error.ambiguous = ambiguous or was_ambiguous(error)
                raise error
            # With a governor, a 429's Retry-After also pauses the whole class from the same
            # moment: this sleep and that pause overlap, so the retry's permit is free by then.
            ambiguous = ambiguous or was_ambiguous(error)
            log_retry(method, op, delay, error)
            await state.sleep(delay)
            attempt += 1
            began = time.monotonic()

    def _api_error(self, status: int, headers: Mapping[str, str], body: bytes) -> APIError:
        """The typed, redacted error of an error response."""
        return self.redactor.error(error_from_response(status, headers, self.redactor.body(body)))
