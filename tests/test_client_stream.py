"""Streamed responses (the core's streaming path, reached through ``chat(stream=True)``):
whole bodies, released connections, errors before the head, retries before the head only."""

from __future__ import annotations

import asyncio

import pytest

from aiopinecone import AsyncPinecone, NotFoundError, RetryPolicy, ServerError
from aiopinecone.emulator import Emulator
from aiopinecone.emulator.faults import Fault
from aiopinecone.models import ContentChunk, MessageEndChunk, MessageStartChunk

CHAT = "/assistant/chat/{name}"
BODY = {"messages": [{"role": "user", "content": "hello"}], "stream": True}
MESSAGES = [{"role": "user", "content": "hello"}]


def acquired(pc: AsyncPinecone) -> int:
    connector = pc.connector
    return len(getattr(connector, "_acquired", ()))


async def test_stream_reads_the_whole_body(client: AsyncPinecone, emulator: Emulator) -> None:
    emulator.store.create_assistant("talk")
    stream = await client.assistants.chat(assistant_name="talk", messages=MESSAGES, stream=True)
    async with stream:
        chunks = [chunk async for chunk in stream]
    assert emulator.log.count(method="POST", path="/assistant/chat/talk", status=200) == 1
    assert len(chunks) >= 3
    assert isinstance(chunks[0], MessageStartChunk)
    assert any(isinstance(chunk, ContentChunk) for chunk in chunks)
    assert isinstance(chunks[-1], MessageEndChunk)
    assert acquired(client) == 0


async def test_breaking_out_releases_the_connection(
    client: AsyncPinecone, emulator: Emulator
) -> None:
    emulator.store.create_assistant("talk")
    stream = await client.assistants.chat(assistant_name="talk", messages=MESSAGES, stream=True)
    async with stream:
        async for _chunk in stream:
            break
    assert acquired(client) == 0
    # the pool still works
    assert (await client.assistants.describe(name="talk")).name == "talk"


async def test_cancelling_a_reader_releases_the_connection(
    client: AsyncPinecone, emulator: Emulator
) -> None:
    emulator.store.create_assistant("talk")
    emulator.faults.script("POST", CHAT, [Fault.delay(5.0)])
    # Resolve the data-plane host first: otherwise the connection seen below may be the shared
    # host lookup's (a describe), which cancelling the reader leaves running by design (other
    # callers may wait on it; _hosts.py) and which holds its connection until it is answered.
    await client.assistants.describe(name="talk")
    assert acquired(client) == 0

    async def read() -> None:
        stream = await client.assistants.chat(assistant_name="talk", messages=MESSAGES, stream=True)
        async with stream:
            async for _chunk in stream:
                pass

    task = asyncio.create_task(read())
    for _ in range(200):  # bounded: until the request is in flight
        await asyncio.sleep(0.01)
        if acquired(client) == 1:
            break
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert acquired(client) == 0


async def test_error_status_is_raised_before_the_body(
    client: AsyncPinecone, emulator: Emulator
) -> None:
    emulator.store.create_assistant("talk")
    emulator.faults.script("POST", CHAT, [Fault.status(404)])
    with pytest.raises(NotFoundError):  # at the await: no stream, no block to run
        await client.assistants.chat(assistant_name="talk", messages=MESSAGES, stream=True)
    assert emulator.log.count(method="POST", status=404) == 1
    assert acquired(client) == 0


async def test_retries_happen_before_the_head_only(
    client: AsyncPinecone, emulator: Emulator, instant_retries: None
) -> None:
    emulator.store.create_assistant("talk")
    emulator.faults.script("POST", CHAT, [Fault.status(503), Fault.status(429)])
    stream = await client.assistants.chat(assistant_name="talk", messages=MESSAGES, stream=True)
    async with stream:
        chunks = [chunk async for chunk in stream]
    assert isinstance(chunks[-1], MessageEndChunk)
    assert emulator.log.count(method="POST") == 3
    url = f"{emulator.url}/assistant/chat/talk"
    emulator.faults.script("POST", CHAT, [Fault.status(503)])
    with pytest.raises(ServerError) as info:
        async with await client._core.stream(
            "POST", url, op="chat", json=BODY, retry=RetryPolicy()
        ):
            pass
    assert info.value.attempts == 1  # a non-idempotent POST is not retried on 5xx
