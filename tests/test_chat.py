"""chat and chat_completions against the emulator, in every API version."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from aiopinecone import (
    AsyncPinecone,
    BadRequestError,
    ChatCompletionStream,
    ChatStream,
    ContextOptions,
    Message,
    NotFoundError,
    ServerError,
    ValidationError,
)
from aiopinecone.emulator import Emulator
from aiopinecone.emulator.faults import Fault
from aiopinecone.models import (
    ChatCompletionChunk,
    CitationChunk,
    ContentChunk,
    MessageEndChunk,
    MessageStartChunk,
)

KEY = "test-key"
ALL = ("2025-04", "2025-10", "2026-04")
FAQ = b"Returns are accepted within 30 days.\n\nShipping takes 5 business days.\n"
POLICY = b"Refunds are paid to the original card within 10 days.\n"
ASK = [{"role": "user", "content": "How long does shipping take?"}]


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(api_keys=(KEY,)) as emulator:
        emulator.store.create_assistant("docs")
        emulator.store.put_file("docs", name="faq.txt", content=FAQ, metadata={"kind": "faq"})
        emulator.store.put_file(
            "docs", name="policy.txt", content=POLICY, metadata={"kind": "policy"}
        )
        yield emulator


@pytest.fixture(params=ALL)
async def pc(request: pytest.FixtureRequest, emu: Emulator) -> AsyncIterator[AsyncPinecone]:
    async with AsyncPinecone(api_key=KEY, host=emu.url, api_version=request.param) as client:
        yield client


async def test_chat(pc: AsyncPinecone) -> None:
    r = await pc.assistants.chat(
        assistant_name="docs",
        messages=[Message(content="How long does shipping take?")],
        model="gpt-4.1",
        temperature=0.2,
        include_highlights=True,
        context_options=ContextOptions(top_k=4, snippet_size=1024),
    )
    assert "5 business days" in r.message.content
    assert r.message.role == "assistant"
    assert r.model == "gpt-4.1"
    assert r.finish_reason == "stop"
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens > 0
    [citation] = r.citations
    [ref] = citation.references
    assert ref.file.name == "faq.txt"
    assert ref.highlight is not None
    assert "5 business days" in ref.highlight.content
    if pc.api_version == "2026-04":
        assert r.context_snippet_count is not None


async def test_chat_filter_restricts_the_files_used(pc: AsyncPinecone) -> None:
    r = await pc.assistants.chat(
        assistant_name="docs",
        messages=[{"content": "How are refunds paid and how long does shipping take?"}],
        filter={"kind": {"$eq": "policy"}},
    )
    assert {ref.file.name for c in r.citations for ref in c.references} == {"policy.txt"}


async def test_chat_json_response(pc: AsyncPinecone) -> None:
    r = await pc.assistants.chat(assistant_name="docs", messages=ASK, json_response=True)
    assert r.message.content.startswith("{")


async def test_chat_stream(pc: AsyncPinecone) -> None:
    stream = await pc.assistants.chat(assistant_name="docs", messages=ASK, stream=True)
    assert isinstance(stream, ChatStream)
    async with stream:
        chunks = [chunk async for chunk in stream]
    assert isinstance(chunks[0], MessageStartChunk)
    assert isinstance(chunks[-1], MessageEndChunk)
    assert chunks[-1].finish_reason == "stop"
    text = "".join(c.text for c in chunks if isinstance(c, ContentChunk))
    assert "5 business days" in text
    citations = [c for c in chunks if isinstance(c, CitationChunk)]
    assert citations
    assert citations[0].citation.references[0].file.name == "faq.txt"


async def test_chat_stream_collect_and_response(pc: AsyncPinecone) -> None:
    whole = await pc.assistants.chat(assistant_name="docs", messages=ASK)
    stream = await pc.assistants.chat(assistant_name="docs", messages=ASK, stream=True)
    text = await stream.collect()
    assert text == whole.message.content
    again = await pc.assistants.chat(assistant_name="docs", messages=ASK, stream=True)
    rebuilt = await again.collect_response()
    assert rebuilt.message == whole.message
    assert [c.position for c in rebuilt.citations] == [c.position for c in whole.citations]
    assert rebuilt.finish_reason == "stop"
    assert rebuilt.usage.total_tokens > 0


async def test_chat_stream_text(pc: AsyncPinecone) -> None:
    stream = await pc.assistants.chat(assistant_name="docs", messages=ASK, stream=True)
    pieces = [piece async for piece in stream.text()]
    assert len(pieces) >= 1
    assert "5 business days" in "".join(pieces)


async def test_chat_completions(pc: AsyncPinecone) -> None:
    r = await pc.assistants.chat_completions(assistant_name="docs", messages=ASK)
    assert "5 business days" in r.text
    assert r.choices[0].message.role == "assistant"
    assert r.choices[0].finish_reason == "stop"


async def test_chat_completions_stream(pc: AsyncPinecone) -> None:
    whole = await pc.assistants.chat_completions(assistant_name="docs", messages=ASK)
    stream = await pc.assistants.chat_completions(assistant_name="docs", messages=ASK, stream=True)
    assert isinstance(stream, ChatCompletionStream)
    async with stream:
        chunks = [chunk async for chunk in stream]
    assert all(isinstance(c, ChatCompletionChunk) for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert "".join(c.text for c in chunks) == whole.text
    again = await pc.assistants.chat_completions(assistant_name="docs", messages=ASK, stream=True)
    assert await again.collect() == whole.text


async def test_stream_errors_raise_at_the_call(pc: AsyncPinecone) -> None:
    with pytest.raises(NotFoundError):
        await pc.assistants.chat(assistant_name="missing", messages=ASK, stream=True)
    with pytest.raises(NotFoundError):
        await pc.assistants.chat_completions(assistant_name="missing", messages=ASK, stream=True)


async def test_stream_retried_before_the_head(
    pc: AsyncPinecone, emu: Emulator, instant_retries: None
) -> None:
    emu.faults.script("POST", "/assistant/chat/docs", [Fault.status(503), Fault.drop_before()])
    stream = await pc.assistants.chat(assistant_name="docs", messages=ASK, stream=True)
    assert "5 business days" in await stream.collect()
    assert emu.log.count(method="POST", path="/assistant/chat/docs") == 3


async def test_chat_gives_up_after_the_policy(
    pc: AsyncPinecone, emu: Emulator, instant_retries: None
) -> None:
    emu.faults.script("POST", "/assistant/chat/docs", [Fault.status(500)], repeat=True)
    with pytest.raises(ServerError) as info:
        await pc.assistants.chat(assistant_name="docs", messages=ASK)
    assert info.value.attempts == 4


async def test_server_rejection_is_typed(pc: AsyncPinecone, emu: Emulator) -> None:
    emu.faults.script("POST", "/assistant/chat/docs", [Fault.status(400, message="nope")])
    with pytest.raises(BadRequestError, match="nope"):
        await pc.assistants.chat(assistant_name="docs", messages=ASK)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"messages": []}, "must not be empty"),
        ({"messages": "hi"}, "list of messages"),
        ({"messages": [{"content": ""}]}, "non-empty string"),
        ({"messages": [{"content": 3}]}, "non-empty string"),
        ({"messages": [{"role": "robot", "content": "x"}]}, "role must be one of"),
        ({"messages": [{"content": "x", "name": "y"}]}, "unknown keys"),
        ({"messages": [42]}, "Message or a mapping"),
        ({"model": ""}, "model"),
        ({"temperature": "hot"}, "temperature"),
        ({"temperature": -1}, "temperature"),
        ({"filter": ["x"]}, "filter"),
        ({"json_response": "yes"}, "json_response"),
        ({"json_response": True, "stream": True}, "cannot be combined"),
        ({"include_highlights": 1}, "include_highlights"),
        ({"context_options": {"top_k": 65}}, "between 1 and 64"),
        ({"context_options": {"snippet_size": 100}}, "between 512 and 8192"),
        ({"context_options": {"nope": 1}}, "unknown keys"),
        ({"context_options": 5}, "ContextOptions or a mapping"),
        ({"stream": "yes"}, "stream"),
        ({"stream": True, "read_timeout": 0}, "read_timeout"),
        ({"assistant_name": "Bad Name"}, "assistant_name"),
    ],
)
async def test_bad_chat_input_is_rejected_before_any_request(
    pc: AsyncPinecone, emu: Emulator, kwargs: dict[str, Any], message: str
) -> None:
    args: dict[str, Any] = {"assistant_name": "docs", "messages": ASK, **kwargs}
    with pytest.raises(ValidationError, match=message):
        await pc.assistants.chat(**args)
    assert emu.log.count() == 0


async def test_version_specific_chat_options(pc: AsyncPinecone) -> None:
    options = {"multimodal": False, "include_binary_content": False}
    if pc.api_version == "2025-04":
        with pytest.raises(ValidationError, match="2025-10"):
            await pc.assistants.chat(assistant_name="docs", messages=ASK, context_options=options)
    else:
        r = await pc.assistants.chat(assistant_name="docs", messages=ASK, context_options=options)
        assert r.message.content
    system = [{"role": "system", "content": "Be brief."}, *ASK]
    if pc.api_version == "2026-04":
        r = await pc.assistants.chat(assistant_name="docs", messages=system)
        assert "5 business days" in r.message.content
    else:
        with pytest.raises(ValidationError, match="role"):
            await pc.assistants.chat(assistant_name="docs", messages=system)


async def test_include_binary_content_needs_multimodal(pc: AsyncPinecone) -> None:
    # 2025-04 has no multimodal options at all: refused for that reason instead.
    expected = "2025-10" if pc.api_version == "2025-04" else "needs multimodal"
    with pytest.raises(ValidationError, match=expected):
        await pc.assistants.chat(
            assistant_name="docs",
            messages=ASK,
            context_options={"multimodal": False, "include_binary_content": True},
        )
