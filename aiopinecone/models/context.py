"""Context models: the snippets an assistant retrieves for a query, and their references.

Snippets are told apart by ``type`` (``text``; ``multimodal`` from 2025-10); an unknown type is
kept as an :class:`UnknownSnippet`. References (``text``, ``json``, ``markdown``, ``pdf``,
``doc_x``...) share one class whose ``type`` is an open set.
"""

from __future__ import annotations

from typing import Any, Final, TypeAlias

import attrs

from .._convert import hook_for, register_model_hooks
from .chat import Usage
from .files import AssistantFile

__all__ = [
    "ContentBlock",
    "ContextResponse",
    "Image",
    "MultimodalSnippet",
    "Snippet",
    "SnippetReference",
    "SnippetType",
    "TextSnippet",
    "UnknownSnippet",
]


class SnippetType:
    """Known values of a snippet's ``type`` (open set)."""

    TEXT: Final = "text"
    MULTIMODAL: Final = "multimodal"


@attrs.frozen(kw_only=True)
class SnippetReference:
    """Where a snippet comes from: ``type`` is the document kind (``pdf``, ``text``, ...)."""

    file: AssistantFile
    type: str | None = None
    pages: list[int] | None = None


@attrs.frozen(kw_only=True)
class Image:
    """Image data of a multimodal block (``type`` is ``base64``)."""

    mime_type: str
    data: str = attrs.field(repr=False)
    type: str = "base64"


@attrs.frozen(kw_only=True)
class ContentBlock:
    """A block of a multimodal snippet: ``text`` for ``type == "text"``; ``caption`` and
    ``image`` (``None`` without ``include_binary_content``) for ``type == "image"``."""

    type: str
    text: str | None = None
    caption: str | None = None
    image: Image | None = None


@attrs.frozen(kw_only=True)
class TextSnippet:
    """A passage of text relevant to the query."""

    content: str
    score: float
    reference: SnippetReference
    type: str = SnippetType.TEXT


@attrs.frozen(kw_only=True)
class MultimodalSnippet:
    """Text and image blocks relevant to the query (multimodal PDFs)."""

    content: list[ContentBlock]
    score: float
    reference: SnippetReference
    type: str = SnippetType.MULTIMODAL


@attrs.frozen(kw_only=True)
class UnknownSnippet:
    """A snippet of a ``type`` this version does not know; ``data`` is its JSON object."""

    type: str
    data: dict[str, Any] = attrs.field(factory=dict, repr=False)


Snippet: TypeAlias = TextSnippet | MultimodalSnippet | UnknownSnippet

SNIPPET_TYPES: Final[dict[str, type[Any]]] = {
    SnippetType.TEXT: TextSnippet,
    SnippetType.MULTIMODAL: MultimodalSnippet,
}


@attrs.frozen(kw_only=True)
class ContextResponse:
    """The answer of ``context``: snippets, best first."""

    snippets: list[Snippet] = attrs.Factory(list)
    usage: Usage = attrs.Factory(Usage)
    id: str | None = None


def structure_snippet(value: Any, _: Any) -> Snippet:
    """The snippet class ``value`` names by its ``type`` (unknown -> ``UnknownSnippet``)."""
    if not isinstance(value, dict):
        raise TypeError(f"expected a snippet object, got {type(value).__name__}")
    kind = value.get("type", SnippetType.TEXT)  # 2025-04 servers may leave ``type`` out
    cls = SNIPPET_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        return UnknownSnippet(type=str(kind), data=value)
    snippet: Snippet = hook_for(cls)(value, cls)
    return snippet


# The open union's hook, registered as soon as its classes exist (importing this module).
register_model_hooks({Snippet: structure_snippet})
