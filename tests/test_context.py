"""context() against the emulator in every API version."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from pdfgen import make_pdf

from aiopinecone import AsyncPinecone, ContextResponse, Message, NotFoundError, ValidationError
from aiopinecone.emulator import Emulator
from aiopinecone.models import TextSnippet

KEY = "test-key"
ALL = ("2025-04", "2025-10", "2026-04")


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(api_keys=(KEY,)) as emulator:
        emulator.store.create_assistant("docs")
        emulator.store.put_file(
            "docs",
            name="faq.txt",
            content=b"Shipping takes 5 business days.\n\nReturns are free.\n",
            metadata={"kind": "faq"},
        )
        emulator.store.put_file(
            "docs", name="guide.pdf", content=make_pdf(["Shipping labels are printed at the desk."])
        )
        yield emulator


@pytest.fixture(params=ALL)
async def pc(request: pytest.FixtureRequest, emu: Emulator) -> AsyncIterator[AsyncPinecone]:
    async with AsyncPinecone(api_key=KEY, host=emu.url, api_version=request.param) as client:
        yield client


async def test_context_by_query(pc: AsyncPinecone) -> None:
    r = await pc.assistants.context(assistant_name="docs", query="shipping", top_k=5)
    assert isinstance(r, ContextResponse)
    assert r.snippets
    assert all(isinstance(s, TextSnippet) for s in r.snippets)
    names = {s.reference.file.name for s in r.snippets if isinstance(s, TextSnippet)}
    assert names == {"faq.txt", "guide.pdf"}
    pdf = next(
        s for s in r.snippets if isinstance(s, TextSnippet) and s.reference.file.name == "guide.pdf"
    )
    assert pdf.reference.type == "pdf"
    assert pdf.reference.pages == [1]
    assert r.usage.prompt_tokens > 0
    assert r.usage.completion_tokens == 0


async def test_context_by_messages_with_filter(pc: AsyncPinecone) -> None:
    r = await pc.assistants.context(
        assistant_name="docs",
        messages=[Message(content="shipping"), {"role": "assistant", "content": "Which?"}],
        filter={"kind": "faq"},
        snippet_size=512,
    )
    assert {s.reference.file.name for s in r.snippets if isinstance(s, TextSnippet)} == {"faq.txt"}


async def test_multimodal_options_per_version(pc: AsyncPinecone, emu: Emulator) -> None:
    if pc.api_version == "2025-04":
        with pytest.raises(ValidationError, match="2025-10"):
            await pc.assistants.context(assistant_name="docs", query="shipping", multimodal=True)
        assert emu.log.count() == 0
    else:
        r = await pc.assistants.context(
            assistant_name="docs", query="shipping", multimodal=True, include_binary_content=False
        )
        assert r.snippets


async def test_context_of_missing_assistant(pc: AsyncPinecone) -> None:
    with pytest.raises(NotFoundError):
        await pc.assistants.context(assistant_name="missing", query="x")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one"),
        ({"query": "x", "messages": [{"content": "x"}]}, "exactly one"),
        ({"query": ""}, "non-empty"),
        ({"query": 3}, "non-empty"),
        ({"messages": []}, "must not be empty"),
        ({"query": "x", "top_k": 0}, "between 1 and 64"),
        ({"query": "x", "top_k": True}, "integer"),
        ({"query": "x", "snippet_size": 9000}, "between 512 and 8192"),
        ({"query": "x", "filter": 1}, "filter"),
    ],
)
async def test_bad_context_input(
    pc: AsyncPinecone, emu: Emulator, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        await pc.assistants.context(assistant_name="docs", **kwargs)
    assert emu.log.count() == 0
