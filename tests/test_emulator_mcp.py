"""The emulator's MCP endpoint (``/mcp/assistants/{name}``), driven by the official ``mcp``
client library over real sockets (plain http and https with a throwaway CA), and raw JSON-RPC
for the protocol's error answers."""

from __future__ import annotations

import json
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import httpx2
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from tls_certs import TlsFiles

from aiopinecone.emulator import Emulator

KEY = "test-key"
FAQ = b"Shipping takes 5 business days.\n\nReturns are free within 30 days.\n"


def _seed(emu: Emulator) -> None:
    emu.store.create_assistant("docs")
    emu.store.put_file("docs", name="faq.txt", content=FAQ, metadata={"kind": "faq"})
    emu.store.create_assistant("empty")


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(api_keys=(KEY,), delete_delay=0.0) as emulator:
        _seed(emulator)
        yield emulator


@asynccontextmanager
async def mcp_session(
    url: str, key: str = KEY, verify: ssl.SSLContext | bool = True
) -> AsyncIterator[ClientSession]:
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, verify=verify) as http,
        streamable_http_client(url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


def _snippets(result: Any) -> list[dict[str, Any]]:
    return [json.loads(block.text) for block in result.content]


def _text(result: Any) -> str:
    text: str = result.content[0].text
    return text


async def test_official_client_lists_and_calls_assistant_context(emu: Emulator) -> None:
    async with mcp_session(emu.url + "/mcp/assistants/docs") as session:
        tools = await session.list_tools()
        assert [tool.name for tool in tools.tools] == ["assistant_context"]
        assert tools.tools[0].input_schema["required"] == ["query"]
        result = await session.call_tool("assistant_context", {"query": "shipping days"})
    assert not result.is_error
    snippets = _snippets(result)
    assert snippets
    assert "Shipping takes 5 business days" in snippets[0]["content"]
    assert snippets[0]["reference"]["file"]["name"] == "faq.txt"
    posts = [e for e in emu.log.entries if e.path == "/mcp/assistants/docs"]
    assert posts
    assert all(e.method == "POST" for e in posts)


async def test_top_k_limits_the_snippets(emu: Emulator) -> None:
    async with mcp_session(emu.url + "/mcp/assistants/docs") as session:
        arguments = {"query": "shipping returns", "top_k": 1}
        result = await session.call_tool("assistant_context", arguments)
    assert len(_snippets(result)) == 1


async def test_over_https_with_the_throwaway_ca(tls_files: TlsFiles) -> None:
    async with Emulator(
        api_keys=(KEY,), tls_cert=str(tls_files.cert_pem), tls_key=str(tls_files.key_pem)
    ) as emulator:
        _seed(emulator)
        assert emulator.url.startswith("https://127.0.0.1:")
        trusted = ssl.create_default_context(cafile=str(tls_files.ca_pem))
        async with mcp_session(emulator.url + "/mcp/assistants/docs", verify=trusted) as session:
            result = await session.call_tool("assistant_context", {"query": "returns"})
        assert "Returns are free" in _snippets(result)[0]["content"]


async def test_unknown_tool_is_an_mcp_error(emu: Emulator) -> None:
    async with mcp_session(emu.url + "/mcp/assistants/docs") as session:
        with pytest.raises(MCPError) as caught:
            await session.call_tool("no_such_tool", {"query": "x"})
    assert caught.value.error.code == -32602
    assert "Unknown tool" in caught.value.error.message


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({}, "'query' is required"),
        ({"query": "   "}, "'query' is required"),
        ({"query": 5}, "'query' is required"),
        ({"query": "shipping", "top_k": 0}, "'top_k' must be"),
        ({"query": "shipping", "top_k": "3"}, "'top_k' must be"),
    ],
)
async def test_bad_arguments_are_tool_errors(
    emu: Emulator, arguments: dict[str, Any], expected: str
) -> None:
    async with mcp_session(emu.url + "/mcp/assistants/docs") as session:
        result = await session.call_tool("assistant_context", arguments)
    assert result.is_error
    assert expected in _text(result)


async def test_an_assistant_not_ready_is_a_tool_error() -> None:
    async with Emulator(api_keys=(KEY,), ready_delay=60.0) as emulator:
        emulator.store.create_assistant("slow")
        async with mcp_session(emulator.url + "/mcp/assistants/slow") as session:
            result = await session.call_tool("assistant_context", {"query": "x"})
    assert result.is_error
    assert "not ready" in _text(result)


async def test_wrong_key_is_refused(emu: Emulator) -> None:
    with pytest.raises(Exception) as caught:  # noqa: PT011 - the SDK's error type varies
        async with mcp_session(emu.url + "/mcp/assistants/docs", key="wrong"):
            pass
    assert "wrong" not in repr(caught.value)
    assert any(e.path == "/mcp/assistants/docs" and e.status == 401 for e in emu.log.entries)


async def _raw(
    url: str, body: bytes, *, key: str | None = KEY, method: str = "POST"
) -> tuple[int, dict[str, str], bytes]:
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, url, data=body, headers=headers) as response,
    ):
        return response.status, dict(response.headers), await response.read()


async def test_raw_protocol_errors(emu: Emulator) -> None:
    url = emu.url + "/mcp/assistants/docs"
    status, _, body = await _raw(url, b"{not json")
    assert status == 400
    assert json.loads(body)["error"]["code"] == -32700
    status, _, body = await _raw(url, b"[1, 2]")
    assert json.loads(body)["error"]["code"] == -32600
    request = {"jsonrpc": "2.0", "id": 7, "method": "resources/list"}
    status, _, body = await _raw(url, json.dumps(request).encode())
    assert (status, json.loads(body)["error"]["code"], json.loads(body)["id"]) == (200, -32601, 7)
    call = {"jsonrpc": "2.0", "id": 8, "method": "tools/call", "params": {"name": 3}}
    status, _, body = await _raw(url, json.dumps(call).encode())
    assert json.loads(body)["error"]["code"] == -32602
    note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    status, _, body = await _raw(url, json.dumps(note).encode())
    assert (status, body) == (202, b"")
    status, headers, _ = await _raw(url, b"", method="GET")
    assert (status, headers.get("Allow")) == (405, "POST")


async def test_raw_auth_and_unknown_assistant(emu: Emulator) -> None:
    ping = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ping"}).encode()
    status, headers, _ = await _raw(emu.url + "/mcp/assistants/docs", ping, key=None)
    assert status == 401
    assert headers["WWW-Authenticate"].startswith("Bearer")
    status, _, body = await _raw(emu.url + "/mcp/assistants/docs", ping)
    assert (status, json.loads(body)) == (200, {"jsonrpc": "2.0", "id": 1, "result": {}})
    status, _, body = await _raw(emu.url + "/mcp/assistants/nope", ping)
    assert status == 404
    assert json.loads(body)["error"]["code"] == "NOT_FOUND"
