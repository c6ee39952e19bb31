"""Typed response models (frozen attrs classes carrying the wire field names).

The assistant models (the client path) load with the package; every other area's models load
on first use of one of their names (PEP 562 ``__getattr__``), and a model module registers its
own converter hooks when it is imported.
"""

import importlib
from typing import TYPE_CHECKING, Final

from .assistants import Assistant, AssistantList, AssistantStatus, Pagination, Region

if TYPE_CHECKING:  # what type checkers see; at runtime __getattr__ loads these on first use
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

_AREAS: Final = {
    "chat": (
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
    ),
    "context": (
        "ContentBlock",
        "ContextResponse",
        "Image",
        "MultimodalSnippet",
        "Snippet",
        "SnippetReference",
        "SnippetType",
        "TextSnippet",
        "UnknownSnippet",
    ),
    "evaluation": (
        "AlignmentMetrics",
        "AlignmentReasoning",
        "AlignmentResult",
        "Entailment",
        "EvaluatedFact",
        "Fact",
    ),
    "files": ("AssistantFile", "FileList", "FileStatus"),
    "operations": ("Operation", "OperationList", "OperationStatus", "OperationType"),
}

_LAZY: Final = {name: area for area, names in _AREAS.items() for name in names}
"""Public names loaded on first use: name -> the module of ``aiopinecone.models`` defining it."""


def __getattr__(name: str) -> object:
    """Load an area's models on first use of one of their names."""
    area = _LAZY.get(name)
    if area is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value: object = getattr(importlib.import_module(f"{__name__}.{area}"), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
