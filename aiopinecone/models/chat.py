"""Chat models: messages, answers with citations, streaming chunks, OpenAI-style completions.

Streaming chunks are told apart by their ``type``; a ``type`` this version does not know is
yielded as an :class:`UnknownChunk` carrying the raw JSON, never an error.
"""

from __future__ import annotations

from typing import Any, Final, TypeAlias

import attrs

from .._convert import register_model_hooks, structure
from ..exceptions import ResponseParseError
from .files import AssistantFile

__all__ = [
    "ChatCompletion",
    "ChatCompletionChoice",
    "ChatCompletionChunk",
    "ChatCompletionChunkChoice",
    "ChatCompletionDelta",
    "ChatResponse",
    "ChatStreamChunk",
    "ChunkType",
    "Citation",
    "CitationChunk",
    "ContentChunk",
    "ContentDelta",
    "ContentFilterResults",
    "ContextOptions",
    "FinishReason",
    "Highlight",
    "Message",
    "MessageEndChunk",
    "MessageStartChunk",
    "Reference",
    "UnknownChunk",
    "Usage",
    "parse_chunk",
]


class ChunkType:
    """Known values of a streaming chunk's ``type`` (open set)."""

    MESSAGE_START: Final = "message_start"
    CONTENT_CHUNK: Final = "content_chunk"
    CITATION: Final = "citation"
    MESSAGE_END: Final = "message_end"


class FinishReason:
    """Known values of ``finish_reason`` (open set)."""

    STOP: Final = "stop"
    LENGTH: Final = "length"
    CONTENT_FILTER: Final = "content_filter"
    TOOL_CALLS: Final = "tool_calls"
    FUNCTION_CALL: Final = "function_call"


@attrs.frozen(kw_only=True)
class Message:
    """One chat message; ``role`` is ``"user"`` or ``"assistant"`` (``"system"`` on 2026-04)."""

    content: str
    role: str = "user"


@attrs.frozen(kw_only=True)
class ContextOptions:
    """How much retrieved context the model gets (``None`` leaves the server default).

    ``top_k`` snippets (default 16, at most 64) of up to ``snippet_size`` tokens (default 2048,
    512-8192); ``multimodal`` and ``include_binary_content`` exist from 2025-10.
    """

    top_k: int | None = None
    snippet_size: int | None = None
    multimodal: bool | None = None
    include_binary_content: bool | None = None


@attrs.frozen(kw_only=True)
class Usage:
    """Token counts of one interaction."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


@attrs.frozen(kw_only=True)
class Highlight:
    """The passage of a referenced document that supports the answer (``include_highlights``)."""

    content: str
    type: str = "text"


@attrs.frozen(kw_only=True)
class Reference:
    """A file (and pages, for paged documents) a citation points to."""

    file: AssistantFile
    pages: list[int] | None = None
    highlight: Highlight | None = None


@attrs.frozen(kw_only=True)
class Citation:
    """Sources for the answer text at character ``position``."""

    position: int
    references: list[Reference] = attrs.Factory(list)


@attrs.frozen(kw_only=True)
class ContentFilterResults:
    """Safety classifications by the model provider (2026-04); ``results`` is provider-specific."""

    spec: str | None = None
    results: Any = None


@attrs.frozen(kw_only=True)
class ChatResponse:
    """The answer of ``chat`` (non-streaming)."""

    message: Message
    citations: list[Citation] = attrs.Factory(list)
    id: str | None = None
    model: str | None = None
    finish_reason: str | None = None
    usage: Usage = attrs.Factory(Usage)
    context_snippet_count: int | None = None
    content_filter_results: ContentFilterResults | None = None


# -- streaming chunks of ``chat(stream=True)`` ------------------------------------------------


@attrs.frozen(kw_only=True)
class MessageStartChunk:
    """First chunk: who speaks, with which model, and how many context snippets were found."""

    type: str = ChunkType.MESSAGE_START
    id: str | None = None
    model: str | None = None
    role: str = "assistant"
    context_snippet_count: int | None = None
    content_filter_results: ContentFilterResults | None = None


@attrs.frozen(kw_only=True)
class ContentDelta:
    """A piece of the answer text."""

    content: str = ""


@attrs.frozen(kw_only=True)
class ContentChunk:
    """A piece of the answer: append ``delta.content`` to what came before."""

    delta: ContentDelta = attrs.Factory(ContentDelta)
    type: str = ChunkType.CONTENT_CHUNK
    id: str | None = None
    model: str | None = None
    content_filter_results: ContentFilterResults | None = None

    @property
    def text(self) -> str:
        """``delta.content``."""
        return self.delta.content


@attrs.frozen(kw_only=True)
class CitationChunk:
    """A citation for the text at ``citation.position`` of the accumulated answer."""

    citation: Citation
    type: str = ChunkType.CITATION
    id: str | None = None
    model: str | None = None


@attrs.frozen(kw_only=True)
class MessageEndChunk:
    """Last chunk: why generation stopped, and the token usage."""

    type: str = ChunkType.MESSAGE_END
    id: str | None = None
    model: str | None = None
    finish_reason: str | None = None
    usage: Usage | None = None
    content_filter_results: ContentFilterResults | None = None


@attrs.frozen(kw_only=True)
class UnknownChunk:
    """A chunk whose ``type`` this version does not know; ``data`` is its JSON object."""

    type: str
    data: dict[str, Any] = attrs.field(factory=dict, repr=False)


ChatStreamChunk: TypeAlias = (
    MessageStartChunk | ContentChunk | CitationChunk | MessageEndChunk | UnknownChunk
)
"""What iterating ``chat(stream=True)`` yields."""

CHUNK_TYPES: Final[dict[str, type[Any]]] = {
    ChunkType.MESSAGE_START: MessageStartChunk,
    ChunkType.CONTENT_CHUNK: ContentChunk,
    ChunkType.CITATION: CitationChunk,
    ChunkType.MESSAGE_END: MessageEndChunk,
}


# -- OpenAI-compatible ``chat_completions`` ---------------------------------------------------


@attrs.frozen(kw_only=True)
class ChatCompletionChoice:
    """One choice of a completion (there is one)."""

    message: Message
    index: int = 0
    finish_reason: str | None = None


@attrs.frozen(kw_only=True)
class ChatCompletion:
    """The answer of ``chat_completions`` (non-streaming); citations are inline in the text."""

    choices: list[ChatCompletionChoice] = attrs.Factory(list)
    id: str | None = None
    model: str | None = None
    usage: Usage | None = None

    @property
    def text(self) -> str:
        """The first choice's message text (``""`` when there is none)."""
        return self.choices[0].message.content if self.choices else ""


@attrs.frozen(kw_only=True)
class ChatCompletionDelta:
    """The new part of a streamed choice."""

    role: str | None = None
    content: str | None = None


@attrs.frozen(kw_only=True)
class ChatCompletionChunkChoice:
    """One choice of a streamed completion chunk."""

    delta: ChatCompletionDelta = attrs.Factory(ChatCompletionDelta)
    index: int = 0
    finish_reason: str | None = None


@attrs.frozen(kw_only=True)
class ChatCompletionChunk:
    """What iterating ``chat_completions(stream=True)`` yields (OpenAI's chunk shape)."""

    choices: list[ChatCompletionChunkChoice] = attrs.Factory(list)
    id: str | None = None
    model: str | None = None
    usage: Usage | None = None

    @property
    def text(self) -> str:
        """The text this chunk adds (first choice), ``""`` if none."""
        if self.choices and self.choices[0].delta.content:
            return self.choices[0].delta.content
        return ""


def parse_chunk(data: Any) -> ChatStreamChunk:
    """Turn one decoded stream event into its chunk class (unknown ``type`` -> UnknownChunk)."""
    if not isinstance(data, dict):
        raise ResponseParseError(
            f"expected a JSON object in the chat stream, got {type(data).__name__}", path="$"
        )
    kind = data.get("type")
    cls = CHUNK_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        return UnknownChunk(type=str(kind), data=data)
    chunk: ChatStreamChunk = structure(data, cls)
    return chunk


# The open union's hook, registered as soon as its classes exist (importing this module).
register_model_hooks({ChatStreamChunk: lambda value, _: parse_chunk(value)})
