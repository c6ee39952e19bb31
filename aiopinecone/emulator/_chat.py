"""Chat and chat completions: retrieval-grounded answers, plain JSON or SSE streams.

(Context, the third route under ``/assistant/chat/``, lives in ``_context``.)
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import attrs
import orjson
from aiohttp import web

from . import _context
from ._errors import invalid
from ._http import json_response, optional_bool, optional_int, read_json_object
from ._models import assistant_or_404, file_json, ready_assistant
from ._records import FileRecord
from ._requests import (
    check_sampling,
    files_matching,
    filter_of,
    messages_of,
    model_of,
    multimodal_options,
    query_of,
)
from ._retrieval import Hit, best_sentences, search, token_count
from ._state import EmulatorState, state_of
from ._tokenlimit import charge_tokens
from ._versions import is_2026, request_version

_ANSWER_SENTENCES = 3
_CHAT_TOP_K = 16
_WORDS_PER_CHUNK = 4
NO_ANSWER = "I could not find information about that in the uploaded files."


@attrs.frozen
class Sentence:
    """One sentence of an answer and the hit that supports it (None for framing text)."""

    text: str
    hit: Hit | None


@attrs.frozen
class Answer:
    """A generated answer: its sentences, the snippets behind it, and token usage."""

    sentences: tuple[Sentence, ...]
    snippet_count: int
    prompt_tokens: int

    @property
    def text(self) -> str:
        """The answer as one string."""
        return " ".join(s.text for s in self.sentences)

    def usage(self) -> dict[str, int]:
        """The ``usage`` object."""
        completion = token_count(self.text)
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": completion,
            "total_tokens": self.prompt_tokens + completion,
        }


def answer(
    messages: Sequence[Mapping[str, str]],
    files: Sequence[FileRecord],
    instructions: str | None,
    top_k: int,
) -> Answer:
    """A deterministic answer to the conversation's question from the best-matching sentences
    of ``files``. Its input tokens, as the service counts them: every message (the history
    too), the instructions and the retrieved snippets."""
    query = query_of(messages)
    hits = search(query, files, top_k)
    picked = best_sentences(query, hits, _ANSWER_SENTENCES)
    prompt = sum(token_count(m["content"]) for m in messages) + token_count(instructions or "")
    prompt += sum(token_count(h.chunk.text) for h in hits)
    if not picked:
        return Answer(
            sentences=(Sentence(NO_ANSWER, None),), snippet_count=len(hits), prompt_tokens=prompt
        )
    sentences = tuple(Sentence(text, hit) for text, hit in picked)
    return Answer(sentences=sentences, snippet_count=len(hits), prompt_tokens=prompt)


def _reference(
    hit: Hit, state: EmulatorState, version: str, highlights: bool, sentence: str
) -> dict[str, Any]:
    ref: dict[str, Any] = {
        "file": file_json(hit.file, state, version),
        "pages": [hit.chunk.page],
    }
    if highlights:
        ref["highlight"] = {"type": "text", "content": sentence}
    elif is_2026(version):
        ref["highlight"] = None
    return ref


def _citations(
    result: Answer, state: EmulatorState, version: str, highlights: bool
) -> list[dict[str, Any]]:
    """Citations positioned just after each supported sentence in the answer text."""
    citations = []
    position = 0
    for index, sentence in enumerate(result.sentences):
        position += len(sentence.text) + (1 if index else 0)
        if sentence.hit is not None:
            citations.append(
                {
                    "position": position,
                    "references": [
                        _reference(sentence.hit, state, version, highlights, sentence.text)
                    ],
                }
            )
    return citations


def _pieces(text: str) -> Iterator[tuple[str, int]]:
    """The answer in stream-sized pieces, with the text length reached after each."""
    words = text.split(" ")
    sent = 0
    for start in range(0, len(words), _WORDS_PER_CHUNK):
        piece = " ".join(words[start : start + _WORDS_PER_CHUNK])
        if start:
            piece = " " + piece
        sent += len(piece)
        yield piece, sent


def _sse(payload: Mapping[str, Any]) -> bytes:
    return b"data:" + orjson.dumps(payload) + b"\n\n"


async def _open_stream(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(
        status=200,
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"},
    )
    await response.prepare(request)
    return response


def _parse_chat(body: Mapping[str, Any]) -> tuple[bool, bool, bool]:
    stream = optional_bool(body, "stream")
    json_mode = optional_bool(body, "json_response")
    highlights = optional_bool(body, "include_highlights")
    if stream and json_mode:
        raise invalid("json_response cannot be used together with stream=true.")
    options = body.get("context_options")
    if options is not None:
        if not isinstance(options, dict):
            raise invalid("Field 'context_options' must be an object.")
        optional_int(options, "top_k", minimum=1, maximum=64)
        optional_int(options, "snippet_size", minimum=512, maximum=8192)
        multimodal_options(options)
    return stream, json_mode, highlights


async def chat(request: web.Request) -> web.StreamResponse:
    """``POST /assistant/chat/{assistant_name}``: a grounded answer with structured citations."""
    state = state_of(request)
    version = request_version(request)
    name = request.match_info["assistant_name"]
    assistant_or_404(state, name)  # the service checks the assistant before the body
    body = await read_json_object(request)
    messages = messages_of(body)
    model = model_of(body)
    check_sampling(body)
    stream, json_mode, highlights = _parse_chat(body)
    matches = filter_of(body)
    assistant = ready_assistant(state, name)
    options = body.get("context_options") or {}
    top_k = options.get("top_k") or _CHAT_TOP_K
    result = answer(messages, files_matching(state, name, matches), assistant.instructions, top_k)
    charge_tokens(request, "chat", result.prompt_tokens)
    response_id = uuid.uuid4().hex
    citations = _citations(result, state, version, highlights)
    if not stream:
        content = result.text
        if json_mode:
            content = orjson.dumps(
                {
                    "answer": result.text,
                    "sources": sorted({c["references"][0]["file"]["name"] for c in citations}),
                }
            ).decode()
        payload: dict[str, Any] = {
            "id": response_id,
            "model": model,
            "finish_reason": "stop",
            "message": {"role": "assistant", "content": content},
            "citations": citations,
            "usage": result.usage(),
        }
        if is_2026(version):
            payload["context_snippet_count"] = result.snippet_count
        return json_response(payload)

    response = await _open_stream(request)
    start: dict[str, Any] = {
        "type": "message_start",
        "id": response_id,
        "model": model,
        "role": "assistant",
    }
    if is_2026(version):
        start["context_snippet_count"] = result.snippet_count
    await response.write(_sse(start))
    pending = list(citations)
    for piece, reached in _pieces(result.text):
        await response.write(
            _sse(
                {
                    "type": "content_chunk",
                    "id": response_id,
                    "model": model,
                    "delta": {"content": piece},
                }
            )
        )
        while pending and pending[0]["position"] <= reached:
            await response.write(
                _sse(
                    {
                        "type": "citation",
                        "id": response_id,
                        "model": model,
                        "citation": pending.pop(0),
                    }
                )
            )
    for citation in pending:
        await response.write(
            _sse({"type": "citation", "id": response_id, "model": model, "citation": citation})
        )
    await response.write(
        _sse(
            {
                "type": "message_end",
                "id": response_id,
                "model": model,
                "finish_reason": "stop",
                "usage": result.usage(),
            }
        )
    )
    await response.write_eof()
    return response


def _completion_text(result: Answer) -> str:
    """The answer with inline ``[n]`` markers and a list of the files they point at."""
    files: list[str] = []
    parts = []
    for sentence in result.sentences:
        if sentence.hit is None:
            parts.append(sentence.text)
            continue
        label = f"{sentence.hit.file.name}, page {sentence.hit.chunk.page}"
        if label not in files:
            files.append(label)
        parts.append(f"{sentence.text} [{files.index(label) + 1}]")
    text = " ".join(parts)
    if files:
        text += "\n\nReferences:\n" + "\n".join(f"[{i}] {f}" for i, f in enumerate(files, 1))
    return text


async def chat_completions(request: web.Request) -> web.StreamResponse:
    """``POST /assistant/chat/{assistant_name}/chat/completions``: OpenAI-shaped answer."""
    state = state_of(request)
    name = request.match_info["assistant_name"]
    assistant_or_404(state, name)
    body = await read_json_object(request)
    messages = messages_of(body)
    model = model_of(body)
    check_sampling(body)
    stream = optional_bool(body, "stream")
    matches = filter_of(body)
    assistant = ready_assistant(state, name)
    result = answer(
        messages, files_matching(state, name, matches), assistant.instructions, _CHAT_TOP_K
    )
    charge_tokens(request, "chat", result.prompt_tokens)
    text = _completion_text(result)
    response_id = uuid.uuid4().hex
    if not stream:
        return json_response(
            {
                "id": response_id,
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text},
                        "finish_reason": "stop",
                    }
                ],
                "usage": result.usage(),
            }
        )
    response = await _open_stream(request)
    created = int(time.time())

    def chunk(delta: dict[str, str], finish: str | None) -> bytes:
        return _sse(
            {
                "id": response_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
        )

    await response.write(chunk({"role": "assistant", "content": ""}, None))
    for piece, _ in _pieces(text):
        await response.write(chunk({"content": piece}, None))
    await response.write(chunk({}, "stop"))
    await response.write_eof()
    return response


def add_routes(app: web.Application) -> None:
    """Register the chat, chat completions and context routes."""
    base = "/assistant/chat/{assistant_name}"
    app.router.add_post(base, chat)
    app.router.add_post(base + "/chat/completions", chat_completions)
    app.router.add_post(base + "/context", _context.context)
