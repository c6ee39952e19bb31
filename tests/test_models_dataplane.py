"""Data-plane models: spec examples parse, open enums and unknown kinds are kept, errors name
the field, secrets stay out of repr, and models survive a JSON round trip."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aiopinecone import ResponseParseError
from aiopinecone._convert import dumps, parse, structure
from aiopinecone.models import (
    AlignmentResult,
    AssistantFile,
    ChatCompletionChunk,
    ChatResponse,
    CitationChunk,
    ContentChunk,
    ContextResponse,
    FileList,
    MessageEndChunk,
    MessageStartChunk,
    MultimodalSnippet,
    Operation,
    OperationList,
    TextSnippet,
    UnknownChunk,
    UnknownSnippet,
)
from aiopinecone.models.chat import parse_chunk

FILE_2025 = {
    "name": "a.pdf",
    "id": "3c90c3cc-0d44-4b50-8888-8dd25736052a",
    "metadata": {"team": "x"},
    "created_on": "2025-01-02T03:04:05.123456Z",
    "updated_on": "2025-01-02T03:04:06Z",
    "status": "Processing",
    "percent_done": 0.5,
    "signed_url": None,
    "error_message": None,
}
FILE_2026 = {
    "name": "a.pdf",
    "id": "my-file-id-123",
    "size": 1048576,
    "metadata": None,
    "created_on": "2025-10-01T12:30:00Z",
    "updated_on": "2025-10-01T12:45:00+00:00",
    "status": "Available",
    "signed_url": "https://storage.googleapis.com/bucket/file.pdf?sig=secret",
    "multimodal": False,
    "crc32c_hash": "abc",  # a field from a later API version: ignored
}


def test_file_models_of_both_eras() -> None:
    old = structure(FILE_2025, AssistantFile)
    assert old.created_on == datetime(2025, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    assert (old.status, old.percent_done, old.is_available) == ("Processing", 0.5, False)
    new = structure(FILE_2026, AssistantFile)
    assert (new.size, new.multimodal, new.is_available) == (1048576, False, True)
    assert "secret" not in repr(new)
    assert new.signed_url is not None


def test_unknown_file_status_is_kept() -> None:
    f = structure({**FILE_2025, "status": "Quarantined"}, AssistantFile)
    assert f.status == "Quarantined"
    assert not f.is_available
    assert not f.is_failed


def test_failed_file() -> None:
    f = structure(
        {**FILE_2025, "status": "ProcessingFailed", "error_message": "bad"}, AssistantFile
    )
    assert f.is_failed
    assert f.error_message == "bad"


def test_wrong_type_names_the_field() -> None:
    with pytest.raises(ResponseParseError) as info:
        parse(orjson.dumps({"files": [FILE_2025, {**FILE_2025, "id": 7}]}), FileList)
    assert info.value.path == "$.files[1].id"
    with pytest.raises(ResponseParseError) as info:
        parse(orjson.dumps({"files": [{**FILE_2025, "created_on": "yesterday"}]}), FileList)
    assert info.value.path == "$.files[0].created_on"


def test_operation_examples_from_the_spec() -> None:
    listing = {
        "operations": [
            {
                "created_on": "2025-10-01T12:30:00Z",
                "file_id": "my-report-2025",
                "id": "op-1234-abcd-5678",
                "operation_type": "upload_file",
                "percent_complete": 42,
                "status": "Processing",
            },
            {
                "completed_on": "2025-10-01T11:32:00Z",
                "created_on": "2025-10-01T11:30:00Z",
                "error_message": "File processing failed: unsupported file format.",
                "file_id": "invalid-file",
                "id": "op-5555-eeee-9999",
                "operation_type": "upload_file",
                "percent_complete": 15,
                "status": "Failed",
                "ingestion_units": None,
            },
        ],
        "pagination": {"next": "dXNlcl9pZD11c2VyXzE="},
    }
    ops = structure(listing, OperationList)
    assert [o.is_done for o in ops.operations] == [False, True]
    assert ops.operations[1].error_message == "File processing failed: unsupported file format."
    assert ops.pagination is not None
    assert ops.pagination.next == "dXNlcl9pZD11c2VyXzE="
    odd = structure({"id": "o", "status": "Paused", "operation_type": "reindex"}, Operation)
    assert (odd.status, odd.operation_type, odd.is_done) == ("Paused", "reindex", False)


def test_chat_response_2026() -> None:
    body = {
        "id": "r",
        "finish_reason": "tool_calls",
        "message": {"role": "assistant", "content": "Hi"},
        "model": "gpt-4o-2024-11-20",
        "citations": [
            {
                "position": 2,
                "references": [
                    {"file": FILE_2026, "pages": [1, 2], "highlight": None},
                    {"file": FILE_2025, "highlight": {"type": "text", "content": "quote"}},
                ],
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
        "context_snippet_count": 0,
        "content_filter_results": {"spec": "openai", "results": {"hate": {"filtered": False}}},
    }
    r = structure(body, ChatResponse)
    assert r.finish_reason == "tool_calls"
    assert r.citations[0].references[0].pages == [1, 2]
    highlight = r.citations[0].references[1].highlight
    assert highlight is not None
    assert highlight.content == "quote"
    assert r.content_filter_results is not None
    assert r.content_filter_results.results == {"hate": {"filtered": False}}


@pytest.mark.parametrize(
    ("data", "cls"),
    [
        (
            {"type": "message_start", "id": "r", "model": "m", "role": "assistant"},
            MessageStartChunk,
        ),
        (
            {"type": "content_chunk", "id": "r", "model": "m", "delta": {"content": "x"}},
            ContentChunk,
        ),
        (
            {"type": "citation", "id": "r", "model": "m", "citation": {"position": 1}},
            CitationChunk,
        ),
        (
            {"type": "message_end", "id": "r", "model": "m", "finish_reason": "stop"},
            MessageEndChunk,
        ),
        ({"type": "reasoning", "id": "r", "text": "hmm"}, UnknownChunk),
        ({"id": "r"}, UnknownChunk),
    ],
)
def test_chunk_dispatch(data: dict[str, Any], cls: type[Any]) -> None:
    chunk = parse_chunk(data)
    assert type(chunk) is cls
    if isinstance(chunk, UnknownChunk):
        assert chunk.data == data


def test_bad_known_chunk_is_a_parse_error() -> None:
    with pytest.raises(ResponseParseError, match="position"):
        parse_chunk({"type": "citation", "citation": {"position": "first"}})
    with pytest.raises(ResponseParseError):
        parse_chunk(["not", "an", "object"])


def test_completion_chunk() -> None:
    chunk = structure(
        {
            "id": "c",
            "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}],
        },
        ChatCompletionChunk,
    )
    assert chunk.text == ""
    assert chunk.choices[0].delta.role == "assistant"


def test_context_snippets_of_every_kind() -> None:
    body = {
        "id": "x",
        "snippets": [
            {
                "type": "text",
                "content": "t",
                "score": 0.9,
                "reference": {"type": "doc_x", "file": FILE_2026, "pages": [3]},
            },
            {  # 2025-04 snippets may leave out ``type``
                "content": "u",
                "score": 0.8,
                "reference": {"type": "markdown", "file": FILE_2025},
            },
            {
                "type": "multimodal",
                "content": [
                    {"type": "text", "text": "chart"},
                    {
                        "type": "image",
                        "caption": "a chart",
                        "image": {"type": "base64", "mime_type": "image/png", "data": "QUJD"},
                    },
                ],
                "score": 0.5,
                "reference": {"type": "pdf", "file": FILE_2026, "pages": [1]},
            },
            {"type": "audio", "score": 0.1},
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 0, "total_tokens": 5},
    }
    r = structure(body, ContextResponse)
    kinds = [type(s) for s in r.snippets]
    assert kinds == [TextSnippet, TextSnippet, MultimodalSnippet, UnknownSnippet]
    multimodal = r.snippets[2]
    assert isinstance(multimodal, MultimodalSnippet)
    image = multimodal.content[1].image
    assert image is not None
    assert image.mime_type == "image/png"
    assert "QUJD" not in repr(image)


def test_alignment_result() -> None:
    body = {
        "metrics": {"correctness": 1, "completeness": 0.5, "alignment": 0.667},
        "reasoning": {
            "evaluated_facts": [
                {"fact": {"content": "Madrid"}, "entailment": "entailed"},
                {"fact": {"content": "Spain"}, "entailment": "unclear"},
            ]
        },
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
    r = structure(body, AlignmentResult)
    assert r.metrics.correctness == 1.0
    assert [f.entailment for f in r.reasoning.evaluated_facts] == ["entailed", "unclear"]


_text = st.text(max_size=20)
_when = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
_json_scalar = st.one_of(st.none(), st.booleans(), st.integers(-(2**53), 2**53), _text)
_files = st.builds(
    AssistantFile,
    id=_text,
    name=_text,
    status=st.one_of(st.none(), st.sampled_from(["Processing", "Available", "Whatever"])),
    metadata=st.one_of(st.none(), st.dictionaries(_text, _json_scalar, max_size=3)),
    percent_done=st.one_of(st.none(), st.floats(0, 1)),
    error_message=st.one_of(st.none(), _text),
    multimodal=st.one_of(st.none(), st.booleans()),
    size=st.one_of(st.none(), st.integers(0, 2**40)),
    created_on=st.one_of(st.none(), _when),
    updated_on=st.one_of(st.none(), _when),
    signed_url=st.one_of(st.none(), _text),
)
_operations = st.builds(
    Operation,
    id=_text,
    status=_text,
    operation_type=st.one_of(st.none(), _text),
    file_id=st.one_of(st.none(), _text),
    percent_complete=st.one_of(st.none(), st.integers(0, 100)),
    error_message=st.one_of(st.none(), _text),
    ingestion_units=st.one_of(st.none(), st.floats(0, 1e6)),
    created_on=st.one_of(st.none(), _when),
    completed_on=st.one_of(st.none(), _when),
)


@settings(max_examples=100, deadline=None)
@given(f=_files)
def test_file_round_trip(f: AssistantFile) -> None:
    assert parse(dumps(f), AssistantFile) == f


@settings(max_examples=100, deadline=None)
@given(op=_operations)
def test_operation_round_trip(op: Operation) -> None:
    assert parse(dumps(op), Operation) == op
