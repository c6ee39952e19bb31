"""Chat, chat completions and context: retrieval-grounded answers, plain JSON or SSE streams."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import attrs
import orjson
from aiohttp import web

from ._errors import invalid
from ._filter import Predicate, compile_filter
from ._http import json_response, optional_bool, optional_int, read_json_object
from ._models import file_json, ready_assistant
from ._retrieval import Hit, best_sentences, reference_type, search, token_count
from ._state import EmulatorState, state_of
from ._store import FileRecord
from ._versions import is_2026, request_version

DEFAULT_MODEL = "gpt-4o"
_ROLES = ("user", "assistant", "system")
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


def _messages(body: Mapping[str, Any]) -> list[dict[str, str]]:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise invalid("Field 'messages' is required: a non-empty array of {role, content}.")
    out = []
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            raise invalid(f"messages[{index}] must be an object with 'role' and 'content'.")
        role = message.get("role", "user")
        content = message.get("content")
        if not isinstance(role, str) or role not in _ROLES:
            raise invalid(f"messages[{index}].role must be one of {', '.join(_ROLES)}.")
        if not isinstance(content, str):
            raise invalid(f"messages[{index}].content must be a string.")
        if not content.strip():
            raise invalid("Message content cannot be empty")
        out.append({"role": role, "content": content})
    return out


def _query_of(messages: Sequence[Mapping[str, str]]) -> str:
    for message in reversed(messages):
        if message["role"] == "user":
            return message["content"]
    return messages[-1]["content"]


def _filter_of(body: Mapping[str, Any]) -> Predicate | None:
    spec = body.get("filter")
    return None if spec is None else compile_filter(spec)


def _model_of(body: Mapping[str, Any]) -> str:
    model = body.get("model", DEFAULT_MODEL)
    if model is None:
        return DEFAULT_MODEL
    if not isinstance(model, str) or not model:
        raise invalid("Field 'model' must be a non-empty string.")
    return model


def _temperature(body: Mapping[str, Any]) -> None:
    value = body.get("temperature")
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise invalid("Field 'temperature' must be a number.")


def _files(state: EmulatorState, assistant: str, matches: Predicate | None) -> list[FileRecord]:
    files = state.store.available_files(assistant)
    return files if matches is None else [f for f in files if matches(f.metadata)]


def answer(query: str, files: Sequence[FileRecord], instructions: str | None, top_k: int) -> Answer:
    """A deterministic answer to ``query`` from the best-matching sentences of ``files``."""
    hits = search(query, files, top_k)
    picked = best_sentences(query, hits, _ANSWER_SENTENCES)
    prompt = token_count(query) + token_count(instructions or "")
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
    return stream, json_mode, highlights


async def chat(request: web.Request) -> web.StreamResponse:
    """``POST /assistant/chat/{assistant_name}``: a grounded answer with structured citations."""
    state = state_of(request)
    version = request_version(request)
    name = request.match_info["assistant_name"]
    body = await read_json_object(request)
    messages = _messages(body)
    model = _model_of(body)
    _temperature(body)
    stream, json_mode, highlights = _parse_chat(body)
    matches = _filter_of(body)
    assistant = ready_assistant(state, name)
    options = body.get("context_options") or {}
    top_k = options.get("top_k") or _CHAT_TOP_K
    result = answer(
        _query_of(messages), _files(state, name, matches), assistant.instructions, top_k
    )
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
    body = await read_json_object(request)
    messages = _messages(body)
    model = _model_of(body)
    _temperature(body)
    stream = optional_bool(body, "stream")
    matches = _filter_of(body)
    assistant = ready_assistant(state, name)
    result = answer(
        _query_of(messages), _files(state, name, matches), assistant.instructions, _CHAT_TOP_K
    )
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


async def context(request: web.Request) -> web.Response:
    """``POST /assistant/chat/{assistant_name}/context``: the snippets retrieval finds."""
    state = state_of(request)
    version = request_version(request)
    name = request.match_info["assistant_name"]
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
    else:
        text = _query_of(_messages(body))
    top_k = optional_int(body, "top_k", minimum=1, maximum=64) or 16
    snippet_size = optional_int(body, "snippet_size", minimum=512, maximum=8192) or 2048
    optional_bool(body, "multimodal", default=True)
    optional_bool(body, "include_binary_content", default=True)
    matches = _filter_of(body)
    ready_assistant(state, name)
    hits = search(text, _files(state, name, matches), top_k)
    snippets: list[dict[str, Any]] = []
    prompt = token_count(text)
    for hit in hits:
        words = hit.chunk.text.split(" ")
        content = " ".join(words[: max(1, snippet_size * 3 // 4)])
        prompt += token_count(content)
        kind = reference_type(hit.file.name)
        reference: dict[str, Any] = {"type": kind, "file": file_json(hit.file, state, version)}
        if kind in ("pdf", "doc_x"):
            reference["pages"] = [hit.chunk.page]
        snippets.append(
            {"type": "text", "content": content, "score": hit.score, "reference": reference}
        )
    return json_response(
        {
            "id": uuid.uuid4().hex,
            "snippets": snippets,
            "usage": {"prompt_tokens": prompt, "completion_tokens": 0, "total_tokens": prompt},
        }
    )


def add_routes(app: web.Application) -> None:
    """Register the chat, chat completions and context routes."""
    base = "/assistant/chat/{assistant_name}"
    app.router.add_post(base, chat)
    app.router.add_post(base + "/chat/completions", chat_completions)
    app.router.add_post(base + "/context", context)
