"""The fault kinds: the :class:`Fault` base (what the injector needs of a fault) and one class per
kind.

A new kind is one subclass of :class:`Fault`: its ``kind`` name (the JSON ``type`` and the start
of its log label), its parameters as attrs fields (checked when it is built), ``apply`` (how it
serves a request) and, if it has parameters, ``params`` with ``_params_from_json`` /
``_params_to_json`` for the admin API's JSON form; then one line in :data:`KINDS`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, ClassVar, Final

import attrs
from aiohttp import web
from aiohttp.typedefs import Handler

from ._values import check_retry_after, check_seconds, check_status, frozen_headers, to_bytes
from ._wire import already_sent, crashed, drop_connection, malformed, perform, status_response


@attrs.frozen(kw_only=True)
class Fault:
    """One injected fault. Build one with the class methods (``Fault.status(503)``...) or the
    classes of the kinds (``StatusFault(http_status=503)``)."""

    kind: ClassVar[str]
    """The kind's name: its ``type`` in JSON, and its label in the request log."""
    params: ClassVar[frozenset[str]] = frozenset()
    """The JSON fields the kind takes besides ``type``."""
    injects: ClassVar[bool] = True
    """False for a placeholder that serves the request normally and is not counted as a fault."""

    async def apply(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Serve ``request`` through ``handler`` with this fault applied."""
        raise NotImplementedError

    def describe(self) -> str:
        """A short label, as the request log records it: ``status:503``, ``drop_after``..."""
        return self.kind

    def to_json(self) -> dict[str, Any]:
        """The JSON form: ``{"type": kind, ...}`` with only the fields that matter."""
        return {"type": self.kind, **self._params_to_json()}

    def _params_to_json(self) -> dict[str, Any]:
        return {}

    @classmethod
    def _params_from_json(cls, data: Mapping[str, Any]) -> Fault:
        return cls()

    @classmethod
    def from_json(cls, data: object) -> Fault:
        """Build a fault from its JSON form (see :meth:`to_json`).

        An int is a ``status`` fault; a string names a kind whose fields all have defaults
        (``"drop_after"``). Raises ``ValueError``/``TypeError`` with a message fit for a 400.
        """
        if isinstance(data, int) and not isinstance(data, bool):
            return StatusFault(http_status=data)
        if isinstance(data, str) and data in KINDS:
            data = {"type": data}
        if not isinstance(data, dict):
            raise TypeError(f"a fault must be an object with a 'type', got {data!r:.80}")
        kind = data.get("type")
        kind_cls = KINDS.get(kind) if isinstance(kind, str) else None
        if kind_cls is None:
            raise ValueError(f"unknown fault type {kind!r:.40}: use one of {', '.join(KINDS)}")
        unknown = set(data) - kind_cls.params - {"type"}
        if unknown:
            raise ValueError(f"unknown field(s) for a {kind} fault: {', '.join(sorted(unknown))}")
        return kind_cls._params_from_json(data)

    # -- builders of the common kinds -------------------------------------------------------

    @staticmethod
    def status(
        code: int,
        error_code: str | None = None,
        message: str | None = None,
        retry_after: float | str | None = None,
        *,
        body: bytes | str | None = None,
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> StatusFault:
        """Answer ``code`` without performing the request (:class:`StatusFault`)."""
        return StatusFault(
            http_status=code,
            error_code=error_code,
            message=message,
            retry_after=retry_after,
            body=body,
            content_type=content_type,
            headers=headers,
        )

    @staticmethod
    def perform_then_status(
        code: int,
        error_code: str | None = None,
        message: str | None = None,
        retry_after: float | str | None = None,
        *,
        body: bytes | str | None = None,
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> LostResponseFault:
        """Perform the request, then answer ``code`` instead (:class:`LostResponseFault`)."""
        return LostResponseFault(
            http_status=code,
            error_code=error_code,
            message=message,
            retry_after=retry_after,
            body=body,
            content_type=content_type,
            headers=headers,
        )

    after = perform_then_status
    """Alias of :meth:`perform_then_status`."""

    @staticmethod
    def drop_before() -> DropBeforeFault:
        """Close the connection without performing the request or answering."""
        return DropBeforeFault()

    @staticmethod
    def drop_after() -> DropAfterFault:
        """Perform the request, then close the connection without answering."""
        return DropAfterFault()

    @staticmethod
    def delay(seconds: float, *, after: bool = False) -> DelayFault:
        """Wait ``seconds`` (real time) then perform the request normally; with ``after=True``
        perform it first and hold the answer back (:class:`DelayAfterFault`)."""
        return DelayAfterFault(seconds=seconds) if after else DelayFault(seconds=seconds)

    @staticmethod
    def malformed_body(body: bytes | str | None = None) -> MalformedBodyFault:
        """Perform the request, then answer with a body that is not valid JSON."""
        return MalformedBodyFault(body=body)

    @staticmethod
    def passthrough() -> PassthroughFault:
        """No fault: the request is served normally (a placeholder in a sequence)."""
        return PassthroughFault()


@attrs.frozen(kw_only=True)
class StatusFault(Fault):
    """Answer ``http_status`` without performing the request.

    The body is the error envelope (``error_code`` defaults from the status: 429
    ``RESOURCE_EXHAUSTED``, 500 ``UNKNOWN``, 503 ``UNAVAILABLE``...), or ``body`` verbatim
    (``content_type`` defaults to ``text/plain``; ``b""`` for an empty body; any status from 200
    then). ``retry_after`` in seconds sends ``Retry-After`` rounded up to whole seconds and
    ``X-Emulator-Retry-After-Ms``; a string is sent verbatim (e.g. an HTTP-date).
    """

    kind: ClassVar[str] = "status"
    params: ClassVar[frozenset[str]] = frozenset(
        {"status", "code", "message", "retry_after", "body", "content_type", "headers"}
    )

    http_status: int
    error_code: str | None = None
    message: str | None = None
    retry_after: float | str | None = attrs.field(default=None, converter=check_retry_after)
    body: bytes | None = attrs.field(default=None, converter=to_bytes)
    content_type: str | None = None
    headers: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=frozen_headers)

    def __attrs_post_init__(self) -> None:
        check_status(self.http_status, has_body=self.body is not None)

    async def apply(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        return self.response()

    def describe(self) -> str:
        return f"{self.kind}:{self.http_status}"

    def response(self) -> web.Response:
        """The fault's answer (a new object each time)."""
        return status_response(
            self.http_status,
            error_code=self.error_code,
            message=self.message,
            retry_after=self.retry_after,
            body=self.body,
            content_type=self.content_type,
            headers=self.headers,
        )

    def _params_to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.http_status}
        for name, value in (
            ("code", self.error_code),
            ("message", self.message),
            ("retry_after", self.retry_after),
            ("content_type", self.content_type),
        ):
            if value is not None:
                out[name] = value
        if self.body is not None:
            out["body"] = self.body.decode(errors="replace")
        if self.headers:
            out["headers"] = dict(self.headers)
        return out

    @classmethod
    def _params_from_json(cls, data: Mapping[str, Any]) -> Fault:
        if "status" not in data:
            raise ValueError(f"a {cls.kind} fault needs 'status'")
        headers = data.get("headers")
        if headers is not None and not (
            isinstance(headers, dict)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items())
        ):
            raise TypeError("'headers' must be an object of strings")
        for name in ("code", "message", "body", "content_type"):
            if data.get(name) is not None and not isinstance(data[name], str):
                raise TypeError(f"'{name}' must be a string")
        return cls(
            http_status=data["status"],
            error_code=data.get("code"),
            message=data.get("message"),
            retry_after=data.get("retry_after"),
            body=data.get("body"),
            content_type=data.get("content_type"),
            headers=headers,
        )


@attrs.frozen(kw_only=True)
class LostResponseFault(StatusFault):
    """Perform the request (its state change happens), then answer ``http_status`` instead.

    A lost response: e.g. a create that succeeded although the client saw a 500. Fields as for
    :class:`StatusFault`.
    """

    kind: ClassVar[str] = "perform_then_status"

    async def apply(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        performed = await perform(request, handler)
        if already_sent(performed):
            return drop_connection(request)
        return self.response()


@attrs.frozen(kw_only=True)
class DropBeforeFault(Fault):
    """Close the connection without performing the request or answering."""

    kind: ClassVar[str] = "drop_before"

    async def apply(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        return drop_connection(request)


@attrs.frozen(kw_only=True)
class DropAfterFault(Fault):
    """Perform the request, then close the connection without answering."""

    kind: ClassVar[str] = "drop_after"

    async def apply(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        await perform(request, handler)
        return drop_connection(request)


@attrs.frozen(kw_only=True)
class DelayFault(Fault):
    """Wait ``seconds`` (real time), then perform the request normally.

    If the client gives up meanwhile, aiohttp fails the request body, so a request with a body
    is then not performed (the log says ``client_disconnected``) while one without is.
    """

    kind: ClassVar[str] = "delay"
    params: ClassVar[frozenset[str]] = frozenset({"seconds", "after"})

    seconds: float = attrs.field(converter=check_seconds)

    async def apply(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        await asyncio.sleep(self.seconds)
        return await handler(request)

    def describe(self) -> str:
        return f"{self.kind}:{self.seconds:g}"

    def _params_to_json(self) -> dict[str, Any]:
        return {"seconds": self.seconds}

    @classmethod
    def _params_from_json(cls, data: Mapping[str, Any]) -> Fault:
        return Fault.delay(data.get("seconds", 0.0), after=bool(data.get("after")))


@attrs.frozen(kw_only=True)
class DelayAfterFault(DelayFault):
    """Perform the request, then hold the answer back ``seconds``: the slow answer to a request
    that did happen."""

    kind: ClassVar[str] = "delay_after"
    params: ClassVar[frozenset[str]] = frozenset({"seconds"})

    async def apply(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            response = await handler(request)
        except Exception:
            await asyncio.sleep(self.seconds)
            raise
        await asyncio.sleep(self.seconds)
        return response

    @classmethod
    def _params_from_json(cls, data: Mapping[str, Any]) -> Fault:
        return cls(seconds=data.get("seconds", 0.0))


@attrs.frozen(kw_only=True)
class MalformedBodyFault(Fault):
    """Perform the request, then answer its status with a body that is not valid JSON.

    The default body is the real body cut in half (truncated JSON); ``body`` replaces it.
    """

    kind: ClassVar[str] = "malformed_body"
    params: ClassVar[frozenset[str]] = frozenset({"body"})

    body: bytes | None = attrs.field(default=None, converter=to_bytes)

    async def apply(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        performed = await perform(request, handler)
        if already_sent(performed):
            return drop_connection(request)
        if performed is None:
            return crashed()
        return malformed(performed, self.body)

    def _params_to_json(self) -> dict[str, Any]:
        return {} if self.body is None else {"body": self.body.decode(errors="replace")}

    @classmethod
    def _params_from_json(cls, data: Mapping[str, Any]) -> Fault:
        body = data.get("body")
        if body is not None and not isinstance(body, str):
            raise TypeError("'body' must be a string")
        return cls(body=body)


@attrs.frozen(kw_only=True)
class PassthroughFault(Fault):
    """No fault: the request is served normally (a placeholder in a sequence)."""

    kind: ClassVar[str] = "passthrough"
    injects: ClassVar[bool] = False

    async def apply(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        return await handler(request)


KINDS: Final[Mapping[str, type[Fault]]] = {
    cls.kind: cls
    for cls in (
        StatusFault,
        LostResponseFault,
        DropBeforeFault,
        DropAfterFault,
        DelayFault,
        DelayAfterFault,
        MalformedBodyFault,
        PassthroughFault,
    )
}
"""Every kind by name: the JSON ``type`` the admin API accepts."""
