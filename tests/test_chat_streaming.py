"""Streaming over real sockets from a tiny scripted server: byte-sized network chunks, a 1 MB
event, early exits and cancellation (the server sees the connection go), read timeouts."""

from __future__ import annotations

import asyncio
import gc
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson
import pytest
from aiohttp import web

from aiopinecone import (
    AsyncPinecone,
    RequestTimeoutError,
    ResponseParseError,
    ServerError,
    TransportError,
)
from aiopinecone.models import (
    CitationChunk,
    ContentChunk,
    MessageEndChunk,
    MessageStartChunk,
    UnknownChunk,
)

Script = Callable[[web.StreamResponse], Awaitable[None]]


def event(payload: dict[str, Any], *, eol: bytes = b"\n", space: bool = True) -> bytes:
    return b"data:" + (b" " if space else b"") + orjson.dumps(payload) + eol + eol


def content(text: str) -> dict[str, Any]:
    return {"type": "content_chunk", "id": "r1", "model": "m", "delta": {"content": text}}


START = {"type": "message_start", "id": "r1", "model": "m", "role": "assistant"}
END = {
    "type": "message_end",
    "id": "r1",
    "model": "m",
    "finish_reason": "stop",
    "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
}


def citation(highlight: str) -> dict[str, Any]:
    return {
        "type": "citation",
        "id": "r1",
        "model": "m",
        "citation": {
            "position": 5,
            "references": [
                {
                    "file": {"id": "f1", "name": "faq.txt", "status": "Available"},
                    "pages": [1],
                    "highlight": {"type": "text", "content": highlight},
                }
            ],
        },
    }


class Server:
    """A control plane + data plane that streams whatever the current script writes."""

    def __init__(self) -> None:
        self.script: Script = self._default
        self.streams_opened = 0
        self.disconnected = asyncio.Event()
        self.url = ""
        self._runner: web.AppRunner | None = None

    @staticmethod
    async def _default(response: web.StreamResponse) -> None:
        await response.write(event(START) + event(content("hi")) + event(END))

    async def describe(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        return web.json_response({"name": name, "status": "Ready", "host": self.url})

    async def stream(self, request: web.Request) -> web.StreamResponse:
        await request.read()
        self.streams_opened += 1
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        try:
            await self.script(response)
            await response.write_eof()
        except (ConnectionResetError, asyncio.CancelledError):
            self.disconnected.set()
            raise
        return response

    async def __aenter__(self) -> Server:
        app = web.Application()
        app.router.add_get("/assistant/assistants/{name}", self.describe)
        app.router.add_post("/assistant/chat/{name}", self.stream)
        app.router.add_post("/assistant/chat/{name}/chat/completions", self.stream)
        self._runner = web.AppRunner(app, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    async with Server() as srv:
        yield srv


@pytest.fixture
async def pc(server: Server) -> AsyncIterator[AsyncPinecone]:
    async with AsyncPinecone(api_key="k", host=server.url, max_connections=1) as client:
        yield client


ASK = [{"content": "hi"}]


async def trickle(response: web.StreamResponse, data: bytes, sizes: Callable[[], int]) -> None:
    """Write ``data`` in pieces of ``sizes()`` bytes, yielding to the loop between writes."""
    i = 0
    while i < len(data):
        n = sizes()
        await response.write(data[i : i + n])
        await asyncio.sleep(0)
        i += n


async def test_one_byte_network_chunks(server: Server, pc: AsyncPinecone) -> None:
    stream = (
        b": hello\r\n\r\n"
        + event(START, eol=b"\r\n")
        + event(content("h\u00e9llo \u2713 "), space=False)
        + event(content("w\u00f6rld"), eol=b"\r")
        + event({"type": "tool_call", "id": "r1", "name": "x"})
        + event(citation("caf\u00e9"))
        + event(END)
    )

    async def script(response: web.StreamResponse) -> None:
        await trickle(response, stream, lambda: 1)

    server.script = script
    async with await pc.assistants.chat(assistant_name="a", messages=ASK, stream=True) as s:
        chunks = [chunk async for chunk in s]
    assert [type(c) for c in chunks] == [
        MessageStartChunk,
        ContentChunk,
        ContentChunk,
        UnknownChunk,
        CitationChunk,
        MessageEndChunk,
    ]
    assert (
        "".join(c.text for c in chunks if isinstance(c, ContentChunk))
        == "h\u00e9llo \u2713 w\u00f6rld"
    )
    unknown = chunks[3]
    assert isinstance(unknown, UnknownChunk)
    assert (unknown.type, unknown.data["name"]) == ("tool_call", "x")
    end = chunks[-1]
    assert isinstance(end, MessageEndChunk)
    assert end.usage is not None
    assert end.usage.total_tokens == 5


async def test_one_megabyte_citation_event(server: Server, pc: AsyncPinecone) -> None:
    big = "\u00e9" * (512 * 1024)  # 1 MiB of UTF-8, split at random places by the writes
    rng = random.Random(4)

    async def script(response: web.StreamResponse) -> None:
        await response.write(event(START))
        await trickle(response, event(citation(big)), lambda: rng.randint(1, 70_000))
        await response.write(event(END))

    server.script = script
    stream = await pc.assistants.chat(assistant_name="a", messages=ASK, stream=True)
    response = await stream.collect_response()
    [cited] = response.citations
    highlight = cited.references[0].highlight
    assert highlight is not None
    assert highlight.content == big
    assert response.finish_reason == "stop"


async def forever(response: web.StreamResponse) -> None:
    await response.write(event(START))
    while True:
        await response.write(event(content("x")))
        await asyncio.sleep(0.005)


async def follow_up_works(server: Server, pc: AsyncPinecone) -> None:
    """With a pool of one connection, another call only succeeds if the stream released it."""
    server.script = Server._default
    stream = await asyncio.wait_for(
        pc.assistants.chat(assistant_name="a", messages=ASK, stream=True), 10
    )
    assert await asyncio.wait_for(stream.collect(), 10) == "hi"


async def test_break_inside_async_with_releases_the_connection(
    server: Server, pc: AsyncPinecone
) -> None:
    server.script = forever
    async with await pc.assistants.chat(assistant_name="a", messages=ASK, stream=True) as s:
        seen = 0
        async for _chunk in s:
            seen += 1
            if seen == 3:
                break
    await asyncio.wait_for(server.disconnected.wait(), 10)
    await follow_up_works(server, pc)


async def test_break_without_async_with_releases_once_dropped(
    server: Server, pc: AsyncPinecone
) -> None:
    server.script = forever
    seen = 0
    async for _chunk in await pc.assistants.chat(assistant_name="a", messages=ASK, stream=True):
        seen += 1
        if seen == 3:
            break
    gc.collect()
    await asyncio.wait_for(server.disconnected.wait(), 10)
    await follow_up_works(server, pc)


async def test_aclose_releases_the_connection(server: Server, pc: AsyncPinecone) -> None:
    server.script = forever
    stream = await pc.assistants.chat(assistant_name="a", messages=ASK, stream=True)
    assert isinstance(await stream.__anext__(), MessageStartChunk)
    await stream.aclose()
    await stream.aclose()  # idempotent
    await asyncio.wait_for(server.disconnected.wait(), 10)
    with pytest.raises(StopAsyncIteration):
        await stream.__anext__()
    await follow_up_works(server, pc)


async def test_cancelling_the_reader_releases_the_connection(
    server: Server, pc: AsyncPinecone
) -> None:
    server.script = forever
    started = asyncio.Event()

    async def reader() -> None:
        stream = await pc.assistants.chat(assistant_name="a", messages=ASK, stream=True)
        async with stream:
            async for _chunk in stream:
                started.set()

    task = asyncio.create_task(reader())
    await asyncio.wait_for(started.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.wait_for(server.disconnected.wait(), 10)
    await follow_up_works(server, pc)


async def test_cancelling_while_opening_releases_the_connection(
    server: Server, pc: AsyncPinecone
) -> None:
    opened = asyncio.Event()

    async def slow_head(response: web.StreamResponse) -> None:
        opened.set()
        await asyncio.sleep(30)

    # The head is sent by prepare(); hold the first event back and cancel while iterating.
    server.script = slow_head
    stream = await pc.assistants.chat(assistant_name="a", messages=ASK, stream=True)
    task = asyncio.create_task(stream.__anext__())
    await asyncio.wait_for(opened.wait(), 10)
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.wait_for(server.disconnected.wait(), 10)
    await follow_up_works(server, pc)


async def test_read_timeout_is_separate_from_the_total(server: Server, pc: AsyncPinecone) -> None:
    async def stall(response: web.StreamResponse) -> None:
        await response.write(event(START))
        await asyncio.sleep(30)

    server.script = stall
    stream = await pc.assistants.chat(
        assistant_name="a", messages=ASK, stream=True, read_timeout=0.3
    )
    with pytest.raises(RequestTimeoutError):
        await stream.collect()
    await asyncio.wait_for(server.disconnected.wait(), 10)
    await follow_up_works(server, pc)


async def test_heartbeats_keep_a_slow_stream_alive(server: Server, pc: AsyncPinecone) -> None:
    async def heartbeats(response: web.StreamResponse) -> None:
        await response.write(event(START))
        for _ in range(20):
            await response.write(b": ping\n\n")
            await asyncio.sleep(0.02)
        await response.write(event(content("late")) + event(END))

    server.script = heartbeats
    stream = await pc.assistants.chat(
        assistant_name="a", messages=ASK, stream=True, read_timeout=2.0
    )
    assert await stream.collect() == "late"


async def test_error_event_inside_the_stream_is_typed(server: Server, pc: AsyncPinecone) -> None:
    async def failing(response: web.StreamResponse) -> None:
        await response.write(event(START) + event(content("par")))
        await response.write(
            event({"error": {"code": "INTERNAL", "message": "model crashed"}, "status": 500})
        )

    server.script = failing
    stream = await pc.assistants.chat(assistant_name="a", messages=ASK, stream=True)
    seen: list[Any] = []

    async def read_all() -> None:
        async with stream:
            async for chunk in stream:
                seen.append(chunk)

    with pytest.raises(ServerError, match="model crashed"):
        await read_all()
    assert len(seen) == 2


async def test_malformed_event_is_a_parse_error(server: Server, pc: AsyncPinecone) -> None:
    async def garbage(response: web.StreamResponse) -> None:
        await response.write(event(START) + b"data: {not json\n\n")

    server.script = garbage
    stream = await pc.assistants.chat(assistant_name="a", messages=ASK, stream=True)
    with pytest.raises(ResponseParseError, match="not JSON"):
        await stream.collect()


async def test_connection_lost_mid_stream_is_a_transport_error(
    server: Server, pc: AsyncPinecone
) -> None:
    async def cut(response: web.StreamResponse) -> None:
        await response.write(event(START) + b'data: {"type": "content_')
        await asyncio.sleep(0.05)
        assert response._req is not None
        transport = response._req.transport
        assert transport is not None
        transport.abort()

    server.script = cut
    stream = await pc.assistants.chat(assistant_name="a", messages=ASK, stream=True)
    with pytest.raises(TransportError):
        await stream.collect()
    await follow_up_works(server, pc)


async def test_stream_ending_without_message_end(server: Server, pc: AsyncPinecone) -> None:
    async def short(response: web.StreamResponse) -> None:
        await response.write(event(START) + event(content("only")))

    server.script = short
    stream = await pc.assistants.chat(assistant_name="a", messages=ASK, stream=True)
    assert await stream.collect() == "only"


def completion(text: str | None, finish: str | None = None) -> dict[str, Any]:
    delta = {} if text is None else {"content": text}
    return {
        "id": "c1",
        "model": "m",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


async def test_completions_stop_at_done_in_tiny_chunks(server: Server, pc: AsyncPinecone) -> None:
    body = (
        event(completion("Hel"))
        + event(completion("lo \u2713"))
        + event(completion(None, "stop"))
        + b"data: [DONE]\n\n"
        + b"data: {never read\n\n"
    )

    async def script(response: web.StreamResponse) -> None:
        await trickle(response, body, lambda: 2)

    server.script = script
    stream = await pc.assistants.chat_completions(assistant_name="a", messages=ASK, stream=True)
    assert await stream.collect() == "Hello \u2713"
    server.script = script
    again = await pc.assistants.chat_completions(assistant_name="a", messages=ASK, stream=True)
    async with again:
        chunks = [c async for c in again]
    assert chunks[-1].choices[0].finish_reason == "stop"
