"""``source_tag=`` and ``headers=`` on the wire, read by a small real server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from aiopinecone import AsyncPinecone, ValidationError, __version__

KEY = "header-key"


@pytest.fixture
async def echo() -> AsyncIterator[tuple[str, list[dict[str, str]]]]:
    seen: list[dict[str, str]] = []

    async def assistants(request: web.Request) -> web.Response:
        seen.append(dict(request.headers))
        return web.json_response({"assistants": []})

    app = web.Application()
    app.router.add_get("/assistant/assistants", assistants)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}", seen
    finally:
        await runner.cleanup()


@pytest.mark.parametrize(
    ("tag", "field"),
    [
        ("my_app", "source_tag=my_app"),
        ("  My App:  Search Team!  ", "source_tag=my_app:_search_team"),
    ],
)
async def test_source_tag_and_extra_headers(
    echo: tuple[str, list[dict[str, str]]], tag: str, field: str
) -> None:
    url, seen = echo
    async with AsyncPinecone(
        api_key=KEY, host=url, source_tag=tag, headers={"X-Team": "search"}
    ) as pc:
        await pc.assistants.list()
    (headers,) = seen
    assert headers["User-Agent"].startswith(f"aiopinecone/{__version__} aiohttp/")
    assert headers["User-Agent"].endswith(f"; {field}")
    assert headers["X-Team"] == "search"
    assert headers["Api-Key"] == KEY


def test_bad_tags_and_headers_are_refused() -> None:
    with pytest.raises(ValidationError, match="source_tag"):
        AsyncPinecone(api_key=KEY, source_tag="!!!")
    with pytest.raises(ValidationError, match="set by the client"):
        AsyncPinecone(api_key=KEY, headers={"Api-Key": "other"})
    with pytest.raises(ValidationError, match="line break"):
        AsyncPinecone(api_key=KEY, headers={"X-Evil": "a\r\nInjected: 1"})
