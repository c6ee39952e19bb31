"""``/mcp/assistants/{assistant_name}``: an assistant's MCP server (streamable HTTP, JSON answers).

The Model Context Protocol over streamable HTTP: the client POSTs one JSON-RPC message per
request; a request is answered with one JSON-RPC response (``application/json``, which the
transport allows in place of an SSE stream), a notification or a response with ``202
Accepted``. The server is stateless (no ``Mcp-Session-Id``), so ``GET`` (a server-to-client
stream) and ``DELETE`` (ending a session) are ``405``. Authentication is the API key as
``Authorization: Bearer`` (checked by the application's auth middleware).

One tool, ``assistant_context``: the snippets the assistant's retrieval finds for ``query``
(``top_k`` of them at most), each a text content block holding the snippet as JSON. Protocol
mistakes are JSON-RPC errors (parse error, invalid request, unknown method, unknown tool or
malformed ``tools/call`` parameters: ``-32602``); bad tool arguments and an assistant that is not
ready are tool errors (``isError: true``), as the protocol asks, so that a model can correct them.

Written on the protocol directly (no ``mcp`` SDK): the SDK's server transport is an ASGI app
and the emulator is aiohttp, and the emulator must run without optional packages.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import orjson
from aiohttp import web

from ._errors import ApiError
from ._models import assistant_or_404, file_json, ready_assistant
from ._requests import files_matching
from ._retrieval import reference_type, search
from ._state import state_of
from ._versions import request_version

MCP_PREFIX: Final = "/mcp/"
TOOL_NAME: Final = "assistant_context"
PROTOCOL_VERSIONS: Final = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")
"""Handshake versions answered; a client asking for another gets the newest (its choice then)."""
DEFAULT_TOP_K: Final = 16
MAX_TOP_K: Final = 64

PARSE_ERROR: Final = -32700
INVALID_REQUEST: Final = -32600
METHOD_NOT_FOUND: Final = -32601
INVALID_PARAMS: Final = -32602

TOOL: Final[dict[str, Any]] = {
    "name": TOOL_NAME,
    "description": (
        "Retrieves the snippets of the assistant's knowledge base most relevant to a query. "
        "Each result is a snippet of an uploaded file with its score and a reference to the file."
    ),
    "inputSchema": {
        "type": "object",
        "properties": {
            "query": {"type": "string", "description": "What to look for."},
            "top_k": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_TOP_K,
                "description": f"Most snippets to return (default {DEFAULT_TOP_K}).",
            },
        },
        "required": ["query"],
    },
}


def _answer(message_id: Any, result: Mapping[str, Any]) -> web.Response:
    body = {"jsonrpc": "2.0", "id": message_id, "result": result}
    return web.Response(body=orjson.dumps(body), content_type="application/json")


def _error(message_id: Any, code: int, message: str, *, status: int = 200) -> web.Response:
    body = {"jsonrpc": "2.0", "id": message_id, "error": {"code": code, "message": message}}
    return web.Response(status=status, body=orjson.dumps(body), content_type="application/json")


def _tool_error(text: str) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": text}], "isError": True}


async def post(request: web.Request) -> web.Response:
    """One JSON-RPC message from the client."""
    name = request.match_info["assistant_name"]
    assistant_or_404(state_of(request), name)  # the usual 404 envelope for an unknown assistant
    raw = await request.read()
    try:
        message = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _error(None, PARSE_ERROR, "Parse error: the body is not JSON", status=400)
    if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
        return _error(None, INVALID_REQUEST, "Invalid Request: one JSON-RPC 2.0 object", status=400)
    method = message.get("method")
    if "id" not in message or method is None:
        return web.Response(status=202)  # a notification, or a response to us: nothing to say
    message_id = message["id"]
    if not isinstance(method, str) or not isinstance(message_id, str | int):
        return _error(None, INVALID_REQUEST, "Invalid Request: bad 'method' or 'id'", status=400)
    params = message.get("params")
    if params is None:
        params = {}
    if not isinstance(params, dict):
        return _error(message_id, INVALID_PARAMS, "Invalid params: 'params' must be an object")
    if method == "initialize":
        return _answer(message_id, _initialize(params, name))
    if method == "ping":
        return _answer(message_id, {})
    if method == "tools/list":
        return _answer(message_id, {"tools": [TOOL]})
    if method == "tools/call":
        return _call_tool(request, message_id, params, name)
    return _error(message_id, METHOD_NOT_FOUND, f"Method not found: {method[:100]}")


def _initialize(params: Mapping[str, Any], name: str) -> dict[str, Any]:
    asked = params.get("protocolVersion")
    version = asked if asked in PROTOCOL_VERSIONS else PROTOCOL_VERSIONS[-1]
    return {
        "protocolVersion": version,
        "capabilities": {"tools": {"listChanged": False}},
        "serverInfo": {"name": "pinecone-assistant-emulator", "version": "1.0.0"},
        "instructions": f"Use {TOOL_NAME} to retrieve context from the assistant {name!r}.",
    }


def _call_tool(
    request: web.Request, message_id: Any, params: Mapping[str, Any], name: str
) -> web.Response:
    tool = params.get("name")
    if not isinstance(tool, str):
        return _error(message_id, INVALID_PARAMS, "Invalid params: 'name' must be a string")
    if tool != TOOL_NAME:
        return _error(message_id, INVALID_PARAMS, f"Unknown tool: {tool[:100]}")
    arguments = params.get("arguments")
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, dict):
        return _error(message_id, INVALID_PARAMS, "Invalid params: 'arguments' must be an object")
    query = arguments.get("query")
    if not isinstance(query, str) or not query.strip():
        return _answer(message_id, _tool_error("'query' is required: a non-empty string."))
    top_k = arguments.get("top_k", DEFAULT_TOP_K)
    if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= MAX_TOP_K:
        return _answer(
            message_id, _tool_error(f"'top_k' must be an integer from 1 to {MAX_TOP_K}.")
        )
    state = state_of(request)
    try:
        ready_assistant(state, name)
    except ApiError as exc:
        return _answer(message_id, _tool_error(exc.message))
    version = request_version(request)
    content = []
    for hit in search(query, files_matching(state, name, None), top_k):
        kind = reference_type(hit.file.name)
        reference: dict[str, Any] = {"type": kind, "file": file_json(hit.file, state, version)}
        if kind in ("pdf", "doc_x"):
            reference["pages"] = [hit.chunk.page]
        snippet = {
            "type": "text",
            "content": hit.chunk.text,
            "score": hit.score,
            "reference": reference,
        }
        content.append({"type": "text", "text": orjson.dumps(snippet).decode()})
    return _answer(message_id, {"content": content, "isError": False})


async def not_allowed(request: web.Request) -> web.Response:
    """``GET``/``DELETE``: this server offers no stream and keeps no session."""
    return web.Response(status=405, headers={"Allow": "POST"})


def add_routes(app: web.Application) -> None:
    """Register the MCP endpoint of every assistant."""
    path = MCP_PREFIX + "assistants/{assistant_name}"
    app.router.add_post(path, post)
    app.router.add_get(path, not_allowed)
    app.router.add_delete(path, not_allowed)
