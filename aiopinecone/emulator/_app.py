"""The aiohttp application: routes, and the middleware every request passes through."""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Sequence

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from . import _chat, _control, _evaluation, _files, _mcp
from ._errors import error_middleware, error_response
from ._paths import ADMIN_PREFIX
from ._state import STATE_KEY, EmulatorState, state_of
from ._versions import API_VERSION_KEY, HEADER, resolve_version


def _key_ok(given: str, accepted: Iterable[str]) -> bool:
    # Compare every key in constant time so the emulator is no worse an example than a server.
    # aiohttp decodes header bytes that are not UTF-8 as surrogate escapes: encode them back.
    raw = given.encode("utf-8", "surrogateescape")
    matched = False
    for key in accepted:
        matched |= hmac.compare_digest(raw, key.encode())
    return matched


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """``Api-Key`` check (401 UNAUTHENTICATED) and API version resolution (400 if unsupported).

    Admin routes under ``/__emulator/`` need neither.
    """
    if request.path.startswith(ADMIN_PREFIX):
        return await handler(request)
    keys = state_of(request).config.api_keys
    if request.path.startswith(_mcp.MCP_PREFIX):
        # MCP clients send the key as a Bearer token (the MCP authorization scheme).
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        given = token.strip() if scheme.lower() == "bearer" else ""
        if not given or (keys and not _key_ok(given, keys)):
            return error_response(
                401,
                "UNAUTHENTICATED",
                "Invalid API key.",
                headers={"WWW-Authenticate": 'Bearer realm="pinecone-assistant"'},
            )
    else:
        given = request.headers.get("Api-Key", "")
        if not given or (keys and not _key_ok(given, keys)):
            return error_response(401, "UNAUTHENTICATED", "Invalid API key.")
    request[API_VERSION_KEY] = resolve_version(request.headers.get(HEADER))
    return await handler(request)


def create_app(
    state: EmulatorState,
    *,
    outer: Sequence[Middleware] = (),
    before_auth: Sequence[Middleware] = (),
    after_auth: Sequence[Middleware] = (),
) -> web.Application:
    """Build the application.

    Middleware order, outermost first: ``outer`` (the request log), the error envelope,
    ``before_auth`` (fault injection), authentication + version, ``after_auth`` (rate limits).
    """
    middlewares: list[Middleware] = [
        *outer,
        error_middleware,
        *before_auth,
        auth_middleware,
        *after_auth,
    ]
    app = web.Application(middlewares=middlewares, client_max_size=state.config.max_body_size)
    app[STATE_KEY] = state
    _control.add_routes(app)
    _files.add_routes(app)
    _chat.add_routes(app)
    _evaluation.add_routes(app)
    _mcp.add_routes(app)
    return app
