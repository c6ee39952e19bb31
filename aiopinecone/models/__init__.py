"""Typed response models (frozen attrs classes carrying the wire field names)."""

from .._convert import register_model_hooks
from . import chat as _chat
from . import context as _context
from .assistants import Assistant, AssistantList, AssistantStatus, Pagination, Region
from .chat import (
    ChatCompletion,
    ChatCompletionChoice,
    ChatCompletionChunk,
    ChatCompletionChunkChoice,
    ChatCompletionDelta,
    ChatResponse,
    ChatStreamChunk,
    ChunkType,
    Citation,
    CitationChunk,
    ContentChunk,
    ContentDelta,
    ContentFilterResults,
    ContextOptions,
    FinishReason,
    Highlight,
    Message,
    MessageEndChunk,
    MessageStartChunk,
    Reference,
    UnknownChunk,
    Usage,
)
from .context import (
    ContentBlock,
    ContextResponse,
    Image,
    MultimodalSnippet,
    Snippet,
    SnippetReference,
    SnippetType,
    TextSnippet,
    UnknownSnippet,
)
from .evaluation import (
    AlignmentMetrics,
    AlignmentReasoning,
    AlignmentResult,
    Entailment,
    EvaluatedFact,
    Fact,
)
from .files import AssistantFile, FileList, FileStatus
from .operations import Operation, OperationList, OperationStatus, OperationType

__all__ = [
    "AlignmentMetrics",
    "AlignmentReasoning",
    "AlignmentResult",
    "Assistant",
    "AssistantFile",
    "AssistantList",
    "AssistantStatus",
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
    "ContentBlock",
    "ContentChunk",
    "ContentDelta",
    "ContentFilterResults",
    "ContextOptions",
    "ContextResponse",
    "Entailment",
    "EvaluatedFact",
    "Fact",
    "FileList",
    "FileStatus",
    "FinishReason",
    "Highlight",
    "Image",
    "Message",
    "MessageEndChunk",
    "MessageStartChunk",
    "MultimodalSnippet",
    "Operation",
    "OperationList",
    "OperationStatus",
    "OperationType",
    "Pagination",
    "Reference",
    "Region",
    "Snippet",
    "SnippetReference",
    "SnippetType",
    "TextSnippet",
    "UnknownChunk",
    "UnknownSnippet",
    "Usage",
]

register_model_hooks(
    {
        ChatStreamChunk: lambda value, _: _chat.parse_chunk(value),
        Snippet: _context.structure_snippet,
    }
)
