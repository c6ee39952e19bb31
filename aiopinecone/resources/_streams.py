"""The streams ``chat(stream=True)`` and ``chat_completions(stream=True)`` return.

A stream is an async iterator and an async context manager over one async generator,
:func:`events`, which opens the streamed response (so that errors raise at the ``await`` of the
call), decodes its Server-Sent Events and holds the connection: leaving ``async with``,
:meth:`ChatStream.aclose`, exhausting the stream, dropping it after ``break`` (CPython finalizes
the generator) or cancelling the reader all release it.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Generic, Self, TypeVar

import orjson

from .._convert import structure
from .._protocol import error_from_response
from .._sse import DONE, SSEDecoder, SSEError, SSEEvent
from ..exceptions import PineconeError, ResponseParseError
from ..models.chat import (
    ChatCompletionChunk,
    ChatResponse,
    ChatStreamChunk,
    Citation,
    CitationChunk,
    ContentChunk,
    Message,
    MessageEndChunk,
    MessageStartChunk,
    Usage,
    parse_chunk,
)

if TYPE_CHECKING:
    from .._admission import TokenCharge
    from .._core import Response
    from .._redact import Redactor

__all__ = ["ChatCompletionStream", "ChatStream", "chat_chunk", "completion_chunk", "open_stream"]

T = TypeVar("T")
_OPENED: Final = object()


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


def chat_chunk(event: SSEEvent) -> ChatStreamChunk:
    return parse_chunk(_decode(event))


def completion_chunk(event: SSEEvent) -> ChatCompletionChunk:
    return structure(_decode(event), ChatCompletionChunk)


def _counted(item: Any, charge: TokenCharge) -> Any:
    """Settle ``charge`` with the usage a chunk reports (chat's ``message_end``, a completion
    chunk's ``usage``); return the chunk."""
    usage = getattr(item, "usage", None)
    if usage is not None:
        charge.settle(usage.prompt_tokens)
    return item


async def _events(
    opening: Awaitable[Response],
    parse: Callable[[SSEEvent], Any],
    redactor: Redactor,
    charge: TokenCharge | None = None,
) -> AsyncGenerator[Any, None]:
    """Open the response, yield ``_OPENED`` once the head is in, then one item per event;
    ``charge`` (the call's input tokens) is settled with the usage the stream reports, or at
    its estimate when the stream ends without one."""
    if charge is not None:
        original = parse

        def parse(event: SSEEvent) -> Any:
            return _counted(original(event), charge)

    try:
        response = await opening
        async with response:
            yield _OPENED
            decoder = SSEDecoder()
            try:
                async for chunk in response:
                    for event in decoder.feed(chunk):
                        if event.data == DONE:
                            return
                        if event.data:
                            yield parse(event)
                for event in decoder.close():
                    if event.data == DONE:
                        return
                    if event.data:
                        yield parse(event)
            except SSEError as exc:
                raise redactor.error(ResponseParseError(str(exc), path="$")) from None
            except PineconeError as exc:
                # Errors built from event data (an error event, a bad chunk) may quote a key
                # the server echoed: redacted like every error of the attempt loop.
                redactor.error(exc)
                raise
    finally:
        if charge is not None:
            charge.settle(None)


S = TypeVar("S", bound="_Stream[Any]")


async def open_stream(
    cls: type[S],
    opening: Awaitable[Response],
    parse: Callable[[SSEEvent], Any],
    redactor: Redactor,
    charge: TokenCharge | None = None,
) -> S:
    """Open ``opening`` (a streamed response) and return it as a ``cls`` stream of parsed events;
    errors of the request raise here; ``charge``: the call's input tokens (see ``_events``)."""
    gen = _events(opening, parse, redactor, charge)
    await gen.__anext__()
    return cls(gen)
