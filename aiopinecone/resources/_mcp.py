"""An assistant's MCP endpoint: its URL and headers, and a session through the official SDK.

Every assistant serves the Model Context Protocol at ``{assistant host}/mcp/assistants/{name}``
(streamable HTTP, the API key as ``Authorization: Bearer``) with one tool, ``assistant_context``.
:meth:`McpMixin.mcp_endpoint` needs nothing beyond the client; :meth:`McpMixin.mcp_session` and
:meth:`McpMixin.mcp_context` use the official ``mcp`` package (``pip install 'aiopinecone[mcp]'``),
imported when first called, never by ``import aiopinecone``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Final

import attrs

from ..exceptions import PineconeError, ValidationError
from ._common import Resource, quote_id

if TYPE_CHECKING:
    from mcp import ClientSession
    from mcp.types import CallToolResult

__all__ = ["MCPEndpoint", "McpMixin"]

CONTEXT_TOOL: Final = "assistant_context"
_INSTALL_HINT: Final = (
    "the MCP helpers need the official mcp package: pip install 'aiopinecone[mcp]'"
)


@attrs.frozen(kw_only=True)
class MCPEndpoint:
    """Where an assistant's MCP server is and how to authenticate to it.

    ``headers`` carries the API key (``Authorization: Bearer ...``): it is left out of
    ``repr``; hand it to the MCP client of your agent framework, never to a log.
    """

    url: str
    headers: Mapping[str, str] = attrs.field(repr=False)


def _import_mcp() -> tuple[Any, Any, Any]:
    try:
        import httpx2
        from mcp import ClientSession
        from mcp.client.streamable_http import streamable_http_client
    except ImportError as exc:
        raise ModuleNotFoundError(f"{_INSTALL_HINT} ({exc})") from None
    return ClientSession, streamable_http_client, httpx2


class McpMixin(Resource):
    """``pc.assistants.mcp_endpoint`` / ``mcp_session`` / ``mcp_context``."""

    async def mcp_endpoint(self, *, assistant_name: str) -> MCPEndpoint:
        """The URL and headers of ``assistant_name``'s MCP server.

        The assistant's host is looked up like any data-plane call (cached; one ``describe``
        the first time), under the same https rule: the key is never sent in clear text to a
        host that is not loopback unless the client allows insecure http.
        """
        self._check_name(assistant_name)
        base = await self._router.base_url(assistant_name)
        origin = base.removesuffix("/assistant")
        url = f"{origin}/mcp/assistants/{quote_id(assistant_name, 'assistant_name')}"
        return MCPEndpoint(url=url, headers=self._core.bearer_headers())

    @asynccontextmanager
    async def mcp_session(
        self, *, assistant_name: str, timeout: float = 30.0
    ) -> AsyncIterator[ClientSession]:
        """An initialized ``mcp.ClientSession`` on the assistant's MCP server.

        ``async with pc.assistants.mcp_session(assistant_name="x") as session:`` then any call of
        the SDK (``list_tools``, ``call_tool``). The connection honours the client's ``ssl=``
        setting (CA bundle, verification) and ``proxy=``. Needs ``aiopinecone[mcp]``.
        """
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise ValidationError(f"timeout must be a positive number of seconds, got {timeout!r}")
        client_session, open_transport, httpx2 = _import_mcp()
        endpoint = await self.mcp_endpoint(assistant_name=assistant_name)
        network = self._core.transport.network
        options: dict[str, Any] = {
            "headers": dict(endpoint.headers),
            "timeout": httpx2.Timeout(timeout, read=max(timeout, 300.0)),
            "follow_redirects": False,
            # Like the client: the environment's proxies only with trust_env=True.
            "trust_env": network is not None and network.trust_env,
        }
        if network is not None:
            verify = network.verify_setting()
            if verify is not None:
                options["verify"] = verify
            if network.proxy is not None:
                options["proxy"] = network.proxy_url_with_credentials()
        async with (
            httpx2.AsyncClient(**options) as http,
            open_transport(endpoint.url, http_client=http, terminate_on_close=False) as streams,
            client_session(streams[0], streams[1]) as session,
        ):
            await session.initialize()
            yield session

    async def mcp_context(
        self, *, assistant_name: str, query: str, top_k: int | None = None, timeout: float = 30.0
    ) -> CallToolResult:
        """Call the ``assistant_context`` tool of the assistant's MCP server once.

        Returns the SDK's ``CallToolResult`` (``.content``: text blocks, one JSON snippet each).
        A tool error (``isError``) raises :class:`~aiopinecone.PineconeError` with its text.
        Needs ``aiopinecone[mcp]``.
        """
        if not isinstance(query, str) or not query.strip():
            raise ValidationError(f"query must be a non-empty string, got {query!r}")
        arguments: dict[str, Any] = {"query": query}
        if top_k is not None:
            if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
                raise ValidationError(f"top_k must be a positive integer, got {top_k!r}")
            arguments["top_k"] = top_k
        async with self.mcp_session(assistant_name=assistant_name, timeout=timeout) as session:
            result = await session.call_tool(CONTEXT_TOOL, arguments)
        if result.is_error:
            text = " ".join(getattr(block, "text", "") for block in result.content).strip()
            raise PineconeError(f"{CONTEXT_TOOL} failed: {text or 'no details'}")
        return result
