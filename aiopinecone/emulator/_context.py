"""``POST /assistant/chat/{assistant_name}/context``: the snippets retrieval finds.

Snippets of multimodal PDFs (uploaded with ``multimodal=true``) on pages with images are
``multimodal`` snippets: a text block, then one image block per image (caption, and the base64
image when ``include_binary_content``).
"""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web

from ._errors import invalid
from ._http import json_response, optional_int, read_json_object
from ._models import assistant_or_404, file_json, ready_assistant
from ._requests import files_matching, filter_of, messages_of, multimodal_options, query_of
from ._retrieval import page_images, reference_type, search, token_count
from ._state import state_of
from ._tokenlimit import charge_tokens
from ._versions import request_version


async def context(request: web.Request) -> web.Response:
    """``POST /assistant/chat/{assistant_name}/context``: the snippets retrieval finds."""
    state = state_of(request)
    version = request_version(request)
    name = request.match_info["assistant_name"]
    assistant_or_404(state, name)
    body = await read_json_object(request)
    query = body.get("query")
    has_messages = body.get("messages") is not None
    if (query is None) == (not has_messages):
        raise invalid("Exactly one of 'query' or 'messages' must be provided.")
    if query is not None:
        if not isinstance(query, str):
            raise invalid("Field 'query' must be a string.")
        if not query.strip():
            raise invalid("Field 'query' cannot be empty.")
        text = query
        prompt = token_count(query)
    else:
        messages = messages_of(body)
        text = query_of(messages)
        prompt = sum(token_count(m["content"]) for m in messages)  # the whole conversation
    top_k = optional_int(body, "top_k", minimum=1, maximum=64) or 16
    snippet_size = optional_int(body, "snippet_size", minimum=512, maximum=8192) or 2048
    multimodal, binary = multimodal_options(body)
    matches = filter_of(body)
    ready_assistant(state, name)
    hits = search(text, files_matching(state, name, matches), top_k)
    snippets: list[dict[str, Any]] = []
    for hit in hits:
        words = hit.chunk.text.split(" ")
        content = " ".join(words[: max(1, snippet_size * 3 // 4)])
        prompt += token_count(content)
        kind = reference_type(hit.file.name)
        reference: dict[str, Any] = {"type": kind, "file": file_json(hit.file, state, version)}
        if kind in ("pdf", "doc_x"):
            reference["pages"] = [hit.chunk.page]
        images = page_images(hit) if multimodal and hit.file.multimodal else ()
        if images:
            blocks: list[dict[str, Any]] = [{"type": "text", "text": content}]
            for image in images:
                data = {"type": "base64", "mime_type": image.mime_type, "data": image.data}
                blocks.append(
                    {"type": "image", "caption": image.caption, "image": data if binary else None}
                )
            snippets.append(
                {
                    "type": "multimodal",
                    "content": blocks,
                    "score": hit.score,
                    "reference": reference,
                }
            )
            continue
        snippets.append(
            {"type": "text", "content": content, "score": hit.score, "reference": reference}
        )
    charge_tokens(request, "context", prompt)
    return json_response(
        {
            "id": uuid.uuid4().hex,
            "snippets": snippets,
            "usage": {"prompt_tokens": prompt, "completion_tokens": 0, "total_tokens": prompt},
        }
    )
