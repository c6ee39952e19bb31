"""Chat, OpenAI-style chat completions, context retrieval, and the streams they return.

A streamed call sends the request and waits for the response head before it returns, so a bad
request or a missing assistant raises at the ``await``. The returned stream is an async iterator
and an async context manager: leaving ``async with``, calling :meth:`ChatStream.aclose`,
exhausting it, breaking out of the loop once the stream object is dropped, or cancelling the
task that reads it all release the connection.
"""

from __future__ import annotations

import math
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping, Sequence
from contextlib import aclosing
from types import TracebackType
from typing import Any, Final, Generic, Literal, Self, TypeVar, overload

import orjson

from .._convert import structure
from .._protocol import error_from_response
from .._retry import RetryPolicy
from .._sse import SSEError, SSEEvent, aiter_sse
from .._validation import check_json_object
from ..exceptions import PineconeError, ResponseParseError, ValidationError
from ..models.chat import (
    ChatCompletion,
    ChatCompletionChunk,
    ChatResponse,
    ChatStreamChunk,
    Citation,
    CitationChunk,
    ContentChunk,
    ContextOptions,
    Message,
    MessageEndChunk,
    MessageStartChunk,
    Usage,
    parse_chunk,
)
from ..models.context import ContextResponse
from ._dataplane import DataPlaneMixin, Timeout

__all__ = ["ChatCompletionStream", "ChatMixin", "ChatStream"]

T = TypeVar("T")

_ROLES: Final = frozenset({"user", "assistant"})
_ROLES_2026: Final = frozenset({"user", "assistant", "system"})
_OPENED: Final = object()


# -- streams -----------------------------------------------------------------------------------


class _Stream(Generic[T]):
    """An open streamed response: iterate it once; close it (or leave ``async with``) when done."""

    __slots__ = ("_gen",)

    def __init__(self, gen: AsyncGenerator[Any, None]) -> None:
        self._gen = gen

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> T:
        item: T = await self._gen.__anext__()
        return item

    async def aclose(self) -> None:
        """Stop reading and release the connection (idempotent)."""
        await self._gen.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class ChatStream(_Stream[ChatStreamChunk]):
    """What ``chat(stream=True)`` returns: typed chunks as they arrive.

    ``async for chunk in stream`` yields :class:`~aiopinecone.models.MessageStartChunk`,
    :class:`~aiopinecone.models.ContentChunk`, :class:`~aiopinecone.models.CitationChunk`,
    :class:`~aiopinecone.models.MessageEndChunk` and, for a ``type`` this version does not
    know, :class:`~aiopinecone.models.UnknownChunk`.
    """

    __slots__ = ()

    async def text(self) -> AsyncIterator[str]:
        """Only the answer text, piece by piece (other chunks are skipped)."""
        async with self:
            async for chunk in self:
                if isinstance(chunk, ContentChunk) and chunk.delta.content:
                    yield chunk.delta.content

    async def collect(self) -> str:
        """Read the rest of the stream and return the answer text."""
        return "".join([piece async for piece in self.text()])

    async def collect_response(self) -> ChatResponse:
        """Read the rest of the stream into the :class:`ChatResponse` it amounts to."""
        pieces: list[str] = []
        citations: list[Citation] = []
        role = "assistant"
        response_id = model = finish_reason = None
        usage = Usage()
        snippets: int | None = None
        async with self:
            async for chunk in self:
                if isinstance(chunk, ContentChunk):
                    pieces.append(chunk.delta.content)
                elif isinstance(chunk, CitationChunk):
                    citations.append(chunk.citation)
                elif isinstance(chunk, MessageStartChunk):
                    role = chunk.role
                    snippets = chunk.context_snippet_count
                elif isinstance(chunk, MessageEndChunk):
                    finish_reason = chunk.finish_reason
                    usage = chunk.usage or usage
                else:
                    continue
                response_id = chunk.id or response_id
                model = chunk.model or model
        return ChatResponse(
            message=Message(role=role, content="".join(pieces)),
            citations=citations,
            id=response_id,
            model=model,
            finish_reason=finish_reason,
            usage=usage,
            context_snippet_count=snippets,
        )


class ChatCompletionStream(_Stream[ChatCompletionChunk]):
    """What ``chat_completions(stream=True)`` returns: OpenAI-style chunks as they arrive."""

    __slots__ = ()

    async def text(self) -> AsyncIterator[str]:
        """Only the text the chunks add (first choice), piece by piece."""
        async with self:
            async for chunk in self:
                if chunk.text:
                    yield chunk.text

    async def collect(self) -> str:
        """Read the rest of the stream and return the answer text."""
        return "".join([piece async for piece in self.text()])


def _decode(event: SSEEvent) -> Any:
    try:
        data = orjson.loads(event.data)
    except orjson.JSONDecodeError:
        excerpt = event.data[:80]
        raise ResponseParseError(f"a stream event is not JSON: {excerpt!r}", path="$") from None
    if isinstance(data, dict) and "type" not in data and isinstance(data.get("error"), dict):
        # An error reported inside the stream (after the 200 head): raise it like any API error.
        status = data.get("status")
        raise error_from_response(
            status if isinstance(status, int) and status >= 400 else 500,
            {},
            event.data.encode(),
        )
    return data


def _chat_chunk(event: SSEEvent) -> ChatStreamChunk:
    return parse_chunk(_decode(event))


def _completion_chunk(event: SSEEvent) -> ChatCompletionChunk:
    return structure(_decode(event), ChatCompletionChunk)


# -- request validation ------------------------------------------------------------------------


def _messages(messages: object, api_version: str) -> list[dict[str, str]]:
    if isinstance(messages, str | bytes) or not isinstance(messages, Sequence):
        raise ValidationError(
            "messages must be a list of messages, e.g. [{'role': 'user', 'content': 'Hi'}]"
        )
    if not messages:
        raise ValidationError("messages must not be empty")
    roles = _ROLES_2026 if api_version >= "2026-04" else _ROLES
    out: list[dict[str, str]] = []
    role: object
    content: object
    for i, message in enumerate(messages):
        if isinstance(message, Message):
            role, content = message.role, message.content
        elif isinstance(message, Mapping):
            role, content = message.get("role", "user"), message.get("content")
            extra = set(message) - {"role", "content"}
            if extra:
                raise ValidationError(f"messages[{i}] has unknown keys: {sorted(extra)}")
        else:
            raise ValidationError(
                f"messages[{i}] must be a Message or a mapping, got {type(message).__name__}"
            )
        if not isinstance(content, str) or not content.strip():
            raise ValidationError(
                f"messages[{i}].content must be a non-empty string, got {content!r}"
            )
        if role not in roles:
            raise ValidationError(
                f"messages[{i}].role must be one of {', '.join(sorted(roles))}, got {role!r}"
            )
        out.append({"role": str(role), "content": content})
    return out


def _model(model: object) -> str:
    if not isinstance(model, str) or not model.strip():
        raise ValidationError(f"model must be a non-empty string, got {model!r}")
    return model


def _temperature(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValidationError(f"temperature must be a number, got {value!r}")
    if value < 0:
        raise ValidationError(f"temperature must be >= 0, got {value!r}")
    return float(value)


def _flag(value: object, field: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(f"{field} must be True or False, got {value!r}")
    return value


def _int_in(value: object, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{field} must be an integer, got {value!r}")
    if not low <= value <= high:
        raise ValidationError(f"{field} must be between {low} and {high}, got {value}")
    return value


def _retrieval_options(
    api_version: str,
    *,
    where: str,
    top_k: object = None,
    snippet_size: object = None,
    multimodal: object = None,
    include_binary_content: object = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if top_k is not None:
        out["top_k"] = _int_in(top_k, f"{where}top_k", 1, 64)
    if snippet_size is not None:
        out["snippet_size"] = _int_in(snippet_size, f"{where}snippet_size", 512, 8192)
    if multimodal is not None or include_binary_content is not None:
        if api_version < "2025-10":
            raise ValidationError(
                f"{where}multimodal and {where}include_binary_content need api_version 2025-10 "
                "or later"
            )
        if multimodal is not None:
            out["multimodal"] = _flag(multimodal, f"{where}multimodal")
        if include_binary_content is not None:
            out["include_binary_content"] = _flag(
                include_binary_content, f"{where}include_binary_content"
            )
            if include_binary_content and multimodal is False:
                raise ValidationError(
                    f"{where}include_binary_content=True needs multimodal (not multimodal=False)"
                )
    return out


def _context_options(value: object, api_version: str) -> dict[str, Any]:
    if isinstance(value, ContextOptions):
        fields: Mapping[str, Any] = {
            "top_k": value.top_k,
            "snippet_size": value.snippet_size,
            "multimodal": value.multimodal,
            "include_binary_content": value.include_binary_content,
        }
    elif isinstance(value, Mapping):
        fields = value
        unknown = set(fields) - {"top_k", "snippet_size", "multimodal", "include_binary_content"}
        if unknown:
            raise ValidationError(f"context_options has unknown keys: {sorted(unknown)}")
    else:
        raise ValidationError(
            f"context_options must be a ContextOptions or a mapping, got {type(value).__name__}"
        )
    return _retrieval_options(api_version, where="context_options.", **fields)


def _filter(value: object) -> dict[str, Any]:
    return check_json_object(value, field="filter", max_bytes=None)


def _read_timeout(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValidationError(f"read_timeout must be a number of seconds > 0, got {value!r}")
    return float(value)


# -- the mixin ---------------------------------------------------------------------------------


class ChatMixin(DataPlaneMixin):
    """``pc.assistants`` chat, chat completions and context methods."""

    @overload
    async def chat(
        self,
        *,
        assistant_name: str,
        messages: Sequence[Message | Mapping[str, str]],
        model: str | None = ...,
        temperature: float | None = ...,
        filter: Mapping[str, Any] | None = ...,
        json_response: bool | None = ...,
        include_highlights: bool | None = ...,
        context_options: ContextOptions | Mapping[str, Any] | None = ...,
        stream: Literal[False] = ...,
        read_timeout: float | None = ...,
        retry: RetryPolicy | None = ...,
        timeout: Timeout = ...,
    ) -> ChatResponse: ...

    @overload
    async def chat(
        self,
        *,
        assistant_name: str,
        messages: Sequence[Message | Mapping[str, str]],
        model: str | None = ...,
        temperature: float | None = ...,
        filter: Mapping[str, Any] | None = ...,
        json_response: bool | None = ...,
        include_highlights: bool | None = ...,
        context_options: ContextOptions | Mapping[str, Any] | None = ...,
        stream: Literal[True],
        read_timeout: float | None = ...,
        retry: RetryPolicy | None = ...,
        timeout: Timeout = ...,
    ) -> ChatStream: ...

    async def chat(
        self,
        *,
        assistant_name: str,
        messages: Sequence[Message | Mapping[str, str]],
        model: str | None = None,
        temperature: float | None = None,
        filter: Mapping[str, Any] | None = None,
        json_response: bool | None = None,
        include_highlights: bool | None = None,
        context_options: ContextOptions | Mapping[str, Any] | None = None,
        stream: bool = False,
        read_timeout: float | None = None,
        retry: RetryPolicy | None = None,
        timeout: Timeout = None,
    ) -> ChatResponse | ChatStream:
        """Chat with an assistant; the answer comes with structured citations.

        ``messages``: the conversation, each a :class:`~aiopinecone.models.Message` or a
        mapping ``{"role": "user" | "assistant", "content": "..."}`` (role defaults to
        ``user``). ``model`` (server default ``gpt-4o``), ``temperature``, ``filter`` (metadata
        filter on the files used), ``json_response`` (not with ``stream``),
        ``include_highlights`` and ``context_options`` (``top_k``, ``snippet_size``; from
        2025-10 ``multimodal``, ``include_binary_content``) are sent only when given.

        Returns a :class:`~aiopinecone.models.ChatResponse`, or with ``stream=True`` an open
        :class:`ChatStream` (use it as ``async with``, or iterate it to the end). A stream has
        no total timeout; ``read_timeout`` seconds of silence (default: the client's stream read
        timeout) end it with :class:`~aiopinecone.RequestTimeoutError`. ``timeout`` is the total
        timeout of a non-streamed call.
        """
        core = self._core
        self._check_name(assistant_name)
        body: dict[str, Any] = {"messages": _messages(messages, core.api_version)}
        if model is not None:
            body["model"] = _model(model)
        if temperature is not None:
            body["temperature"] = _temperature(temperature)
        if filter is not None:
            body["filter"] = _filter(filter)
        if json_response is not None:
            body["json_response"] = _flag(json_response, "json_response")
        if include_highlights is not None:
            body["include_highlights"] = _flag(include_highlights, "include_highlights")
        if context_options is not None:
            options = _context_options(context_options, core.api_version)
            if options:
                body["context_options"] = options
        path = f"/chat/{assistant_name}"
        if _flag(stream, "stream"):
            if json_response:
                raise ValidationError("json_response=True cannot be combined with stream=True")
            body["stream"] = True
            gen = self._events(assistant_name, path, "chat", body, _chat_chunk, retry, read_timeout)
            await gen.__anext__()
            return ChatStream(gen)
        response = await self._dp_request(
            assistant_name,
            "POST",
            path,
            op="chat",
            json=body,
            idempotent=True,
            retry=retry,
            timeout=timeout,
        )
        return core.parse(response, ChatResponse)

    @overload
    async def chat_completions(
        self,
        *,
        assistant_name: str,
        messages: Sequence[Message | Mapping[str, str]],
        model: str | None = ...,
        temperature: float | None = ...,
        filter: Mapping[str, Any] | None = ...,
        stream: Literal[False] = ...,
        read_timeout: float | None = ...,
        retry: RetryPolicy | None = ...,
        timeout: Timeout = ...,
    ) -> ChatCompletion: ...

    @overload
    async def chat_completions(
        self,
        *,
        assistant_name: str,
        messages: Sequence[Message | Mapping[str, str]],
        model: str | None = ...,
        temperature: float | None = ...,
        filter: Mapping[str, Any] | None = ...,
        stream: Literal[True],
        read_timeout: float | None = ...,
        retry: RetryPolicy | None = ...,
        timeout: Timeout = ...,
    ) -> ChatCompletionStream: ...

    async def chat_completions(
        self,
        *,
        assistant_name: str,
        messages: Sequence[Message | Mapping[str, str]],
        model: str | None = None,
        temperature: float | None = None,
        filter: Mapping[str, Any] | None = None,
        stream: bool = False,
        read_timeout: float | None = None,
        retry: RetryPolicy | None = None,
        timeout: Timeout = None,
    ) -> ChatCompletion | ChatCompletionStream:
        """Chat through the OpenAI-compatible interface (citations inline in the text).

        Returns a :class:`~aiopinecone.models.ChatCompletion`, or with ``stream=True`` an open
        :class:`ChatCompletionStream` of :class:`~aiopinecone.models.ChatCompletionChunk`.
        Arguments as for :meth:`chat`.
        """
        core = self._core
        self._check_name(assistant_name)
        body: dict[str, Any] = {"messages": _messages(messages, core.api_version)}
        if model is not None:
            body["model"] = _model(model)
        if temperature is not None:
            body["temperature"] = _temperature(temperature)
        if filter is not None:
            body["filter"] = _filter(filter)
        path = f"/chat/{assistant_name}/chat/completions"
        if _flag(stream, "stream"):
            body["stream"] = True
            gen = self._events(
                assistant_name,
                path,
                "chat_completions",
                body,
                _completion_chunk,
                retry,
                read_timeout,
            )
            await gen.__anext__()
            return ChatCompletionStream(gen)
        response = await self._dp_request(
            assistant_name,
            "POST",
            path,
            op="chat_completions",
            json=body,
            idempotent=True,
            retry=retry,
            timeout=timeout,
        )
        return core.parse(response, ChatCompletion)

    async def context(
        self,
        *,
        assistant_name: str,
        query: str | None = None,
        messages: Sequence[Message | Mapping[str, str]] | None = None,
        filter: Mapping[str, Any] | None = None,
        top_k: int | None = None,
        snippet_size: int | None = None,
        multimodal: bool | None = None,
        include_binary_content: bool | None = None,
        retry: RetryPolicy | None = None,
        timeout: Timeout = None,
    ) -> ContextResponse:
        """The snippets the assistant retrieves for ``query`` (or ``messages``), best first.

        Exactly one of ``query`` and ``messages``. ``top_k`` (1-64, default 16),
        ``snippet_size`` (512-8192 tokens, default 2048); from 2025-10 ``multimodal`` (image
        snippets too) and ``include_binary_content`` (their base64 data).
        """
        core = self._core
        self._check_name(assistant_name)
        if (query is None) == (messages is None):
            raise ValidationError("pass exactly one of query= or messages=")
        body: dict[str, Any] = {}
        if query is not None:
            if not isinstance(query, str) or not query.strip():
                raise ValidationError(f"query must be a non-empty string, got {query!r}")
            body["query"] = query
        else:
            body["messages"] = _messages(messages, core.api_version)
        if filter is not None:
            body["filter"] = _filter(filter)
        body.update(
            _retrieval_options(
                core.api_version,
                where="",
                top_k=top_k,
                snippet_size=snippet_size,
                multimodal=multimodal,
                include_binary_content=include_binary_content,
            )
        )
        response = await self._dp_request(
            assistant_name,
            "POST",
            f"/chat/{assistant_name}/context",
            op="context",
            json=body,
            idempotent=True,
            retry=retry,
            timeout=timeout,
        )
        return core.parse(response, ContextResponse)

    async def _events(
        self,
        assistant_name: str,
        path: str,
        op: str,
        body: Mapping[str, Any],
        parse: Callable[[SSEEvent], T],
        retry: RetryPolicy | None,
        read_timeout: object,
    ) -> AsyncGenerator[Any, None]:
        """Open the stream, yield ``_OPENED`` once the head is in, then one item per event."""
        seconds = _read_timeout(read_timeout)
        async with self._dp_stream(
            assistant_name, path, op=op, json=body, retry=retry, read_timeout=seconds
        ) as raw:
            yield _OPENED
            events = aiter_sse(raw, stop_at_done=True)
            try:
                async with aclosing(events):
                    async for event in events:
                        if event.data:
                            yield parse(event)
            except SSEError as exc:
                raise self._core.redact(ResponseParseError(str(exc), path="$")) from None
            except PineconeError as exc:
                # Errors built from event data (an error event, a bad chunk) may quote a key
                # the server echoed: redact them like Core does for error responses.
                self._core.redact(exc)
                raise
