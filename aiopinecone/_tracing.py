"""Optional OpenTelemetry: one span per API operation (``AsyncPinecone(tracing=True)``).

A span covers one call of ``Core.request``/``Core.stream`` (every attempt, retry wait and rate
governor wait of it), is named after the operation (``describe_assistant``, ``chat``...) and is
a ``CLIENT`` span. Attributes follow OpenTelemetry's semantic conventions where one applies:

- HTTP client: ``http.request.method``, ``url.full`` (no query string), ``server.address``,
  ``server.port``, ``http.response.status_code``, ``http.request.resend_count`` (attempts after
  the first), ``error.type`` (the status code, or the exception's class).
- Generative AI (``chat``, ``chat_completions``, ``context``): ``gen_ai.operation.name``,
  ``gen_ai.provider.name`` (``pinecone``), ``gen_ai.request.model``,
  ``gen_ai.usage.input_tokens`` / ``gen_ai.usage.output_tokens`` (buffered answers).
- Ours (``pinecone.*``/``aiopinecone.*``): ``pinecone.assistant.name``, ``aiopinecone.attempts``,
  ``aiopinecone.rate_limited`` (429s met), ``aiopinecone.retry_wait_seconds``,
  ``aiopinecone.rate_governor_wait_seconds``.

Headers are never recorded, so the API key never is; error messages are the client's redacted
ones. ``opentelemetry-api`` (``aiopinecone[otel]``) is imported only when tracing is switched on;
with tracing off the core does not reach this module at all.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

import orjson

from ._stats import RequestStats, scoped_stats
from ._version import __version__
from .exceptions import APIError, PineconeError

if TYPE_CHECKING:
    from ._response import Response

__all__ = ["Tracing", "build_tracing"]

_INSTALL_HINT: Final = "tracing=True needs OpenTelemetry: pip install 'aiopinecone[otel]'"
_GEN_AI_OPS: Final = {"chat": "chat", "chat_completions": "chat", "context": "retrieval"}
_USAGE_OPS: Final = frozenset({"chat", "chat_completions", "context", "evaluate_alignment"})
_ASSISTANT_IN_PATH: Final = re.compile(r"/assistant/(?:assistants|files|chat|operations)/([^/?#]+)")


def build_tracing(value: object) -> Tracing | None:
    """``tracing=``: ``False``/``None`` off; ``True`` the global tracer provider; or a
    ``TracerProvider`` of your own."""
    if value is None or value is False:
        return None
    try:
        from opentelemetry import trace
    except ImportError as exc:
        raise ModuleNotFoundError(f"{_INSTALL_HINT} ({exc})") from None
    if value is True:
        tracer = trace.get_tracer("aiopinecone", __version__)
    elif hasattr(value, "get_tracer"):
        tracer = value.get_tracer("aiopinecone", __version__)
    else:
        from .exceptions import ValidationError

        raise ValidationError(
            f"tracing must be True, False or an OpenTelemetry TracerProvider, got "
            f"{type(value).__name__}"
        )
    return Tracing(tracer, trace.SpanKind.CLIENT, trace.StatusCode.ERROR)


class Tracing:
    """Wraps one API call in a span (see the module docstring for the attributes)."""

    __slots__ = ("_error", "_kind", "_tracer")

    def __init__(self, tracer: Any, kind: Any, error: Any) -> None:
        self._tracer = tracer
        self._kind = kind
        self._error = error

    async def call(
        self,
        send: Callable[..., Awaitable[Response]],
        method: str,
        url: str,
        *,
        op: str,
        json: Any,
        buffered: bool,
        **rest: Any,
    ) -> Response:
        """``send(method, url, op=op, json=json, buffered=buffered, **rest)`` inside a span."""
        attributes = _start_attributes(method, url, op, json)
        with (
            self._tracer.start_as_current_span(
                op,
                kind=self._kind,
                attributes=attributes,
                record_exception=False,
                set_status_on_exception=False,
            ) as span,
            scoped_stats() as stats,
        ):
            try:
                response = await send(method, url, op=op, json=json, buffered=buffered, **rest)
            except BaseException as exc:
                _set_counters(span, stats, getattr(exc, "attempts", None))
                self._failed(span, exc)
                raise
            _set_counters(span, stats, response.attempts)
            span.set_attribute("http.response.status_code", response.status)
            if buffered and op in _USAGE_OPS and response.body:
                _set_usage(span, response.body)
            return response

    def _failed(self, span: Any, exc: BaseException) -> None:
        if isinstance(exc, APIError) and exc.status:
            span.set_attribute("http.response.status_code", exc.status)
            error_type = str(exc.status)
        else:
            error_type = type(exc).__qualname__
        span.set_attribute("error.type", error_type)
        if isinstance(exc, PineconeError):
            # The client's messages are redacted (no API key); a cancellation is not an error.
            span.record_exception(exc)
            span.set_status(self._error, f"{type(exc).__name__}: {exc}"[:300])


def _start_attributes(method: str, url: str, op: str, json: Any) -> dict[str, Any]:
    parts = urlsplit(url)
    attributes: dict[str, Any] = {
        "http.request.method": method,
        "url.full": f"{parts.scheme}://{parts.netloc}{parts.path}",
        "server.address": parts.hostname or "",
        "server.port": parts.port or (443 if parts.scheme == "https" else 80),
    }
    found = _ASSISTANT_IN_PATH.search(parts.path)
    if found is not None:
        attributes["pinecone.assistant.name"] = found.group(1)
    elif op == "create_assistant" and isinstance(json, dict) and isinstance(json.get("name"), str):
        attributes["pinecone.assistant.name"] = json["name"]
    gen_ai = _GEN_AI_OPS.get(op)
    if gen_ai is not None:
        attributes["gen_ai.operation.name"] = gen_ai
        attributes["gen_ai.provider.name"] = "pinecone"
        model = json.get("model") if isinstance(json, dict) else None
        if isinstance(model, str):
            attributes["gen_ai.request.model"] = model
    return attributes


def _set_counters(span: Any, stats: RequestStats, attempts: int | None) -> None:
    tried = attempts if attempts is not None else stats.requests
    span.set_attribute("aiopinecone.attempts", tried)
    if tried > 1:
        span.set_attribute("http.request.resend_count", tried - 1)
    span.set_attribute("aiopinecone.rate_limited", stats.rate_limited)
    span.set_attribute("aiopinecone.retry_wait_seconds", round(stats.retry_wait_seconds, 6))
    span.set_attribute("aiopinecone.rate_governor_wait_seconds", round(stats.rate_wait_seconds, 6))


def _set_usage(span: Any, body: bytes) -> None:
    try:
        usage = orjson.loads(body).get("usage")
    except (orjson.JSONDecodeError, AttributeError):
        return
    if not isinstance(usage, dict):
        return
    for key, attribute in (
        ("prompt_tokens", "gen_ai.usage.input_tokens"),
        ("completion_tokens", "gen_ai.usage.output_tokens"),
    ):
        value = usage.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            span.set_attribute(attribute, value)
