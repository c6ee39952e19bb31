"""The client's MCP helpers (``pc.assistants.mcp_endpoint`` / ``mcp_session`` / ``mcp_context``)
against the emulator's MCP endpoint, through the official ``mcp`` package."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from conftest import API_KEY
from tls_certs import TlsFiles

from aiopinecone import AsyncPinecone, PineconeError, ValidationError
from aiopinecone.emulator import Emulator

FAQ = b"Shipping takes 5 business days.\n\nReturns are free within 30 days.\n"


@pytest.fixture
async def pc(emulator: Emulator) -> AsyncIterator[AsyncPinecone]:
    emulator.store.create_assistant("docs")
    emulator.store.put_file("docs", name="faq.txt", content=FAQ)
    async with AsyncPinecone(api_key=API_KEY, host=emulator.url) as client:
        yield client


async def test_endpoint_url_and_headers(pc: AsyncPinecone, emulator: Emulator) -> None:
    endpoint = await pc.assistants.mcp_endpoint(assistant_name="docs")
    assert endpoint.url == f"{emulator.url}/mcp/assistants/docs"
    assert endpoint.headers["Authorization"] == f"Bearer {API_KEY}"
    assert "Api-Key" not in endpoint.headers
    assert API_KEY not in repr(endpoint)


async def test_mcp_context_calls_the_tool(pc: AsyncPinecone, emulator: Emulator) -> None:
    result = await pc.assistants.mcp_context(assistant_name="docs", query="shipping", top_k=1)
    snippets = [json.loads(block.text) for block in result.content]  # type: ignore[union-attr]
    assert len(snippets) == 1
    assert "Shipping takes 5 business days" in snippets[0]["content"]
    assert emulator.log.count(method="POST", path="/mcp/assistants/docs") >= 2


async def test_mcp_session_gives_the_sdk_session(pc: AsyncPinecone) -> None:
    async with pc.assistants.mcp_session(assistant_name="docs") as session:
        tools = await session.list_tools()
    assert [tool.name for tool in tools.tools] == ["assistant_context"]


async def test_tool_errors_raise(emulator: Emulator) -> None:
    async with Emulator(api_keys=(API_KEY,), ready_delay=60.0) as slow:
        slow.store.create_assistant("slow")
        async with AsyncPinecone(api_key=API_KEY, host=slow.url) as client:
            with pytest.raises(PineconeError, match="not ready"):
                await client.assistants.mcp_context(assistant_name="slow", query="x")


async def test_bad_arguments_are_refused_before_any_request(
    pc: AsyncPinecone, emulator: Emulator
) -> None:
    before = emulator.log.count()
    with pytest.raises(ValidationError):
        await pc.assistants.mcp_context(assistant_name="docs", query=" ")
    with pytest.raises(ValidationError):
        await pc.assistants.mcp_context(assistant_name="docs", query="x", top_k=0)
    assert emulator.log.count() == before


async def test_over_https_with_the_clients_ca(tls_emulator: Emulator, tls_files: TlsFiles) -> None:
    tls_emulator.store.create_assistant("docs")
    tls_emulator.store.put_file("docs", name="faq.txt", content=FAQ)
    async with AsyncPinecone(api_key=API_KEY, host=tls_emulator.url, ssl=tls_files.ca_pem) as pc:
        result = await pc.assistants.mcp_context(assistant_name="docs", query="returns")
    assert "Returns are free" in result.content[0].text  # type: ignore[union-attr]
