"""``Core.stream``: the streaming entry point the data plane builds SSE on."""

from __future__ import annotations

import asyncio

import pytest

from aiopinecone import AsyncPinecone, NotFoundError, RetryPolicy, ServerError
from aiopinecone.emulator import Emulator
from aiopinecone.emulator.faults import Fault

CHAT = "/assistant/chat/{name}"
BODY = {"messages": [{"role": "user", "content": "hello"}], "stream": True}


def acquired(pc: AsyncPinecone) -> int:
    connector = pc._core.transport.connector
    return len(getattr(connector, "_acquired", ()))


async def test_stream_reads_the_whole_body(client: AsyncPinecone, emulator: Emulator) -> None:
    emulator.store.create_assistant("talk")
    url = f"{emulator.url}/assistant/chat/talk"
    chunks: list[bytes] = []
    async with await client._core.stream("POST", url, op="chat", json=BODY) as body:
        assert body.status == 200
        assert body.headers["Content-Type"].startswith("text/event-stream")
        async for chunk in body:
            chunks.append(chunk)
    text = b"".join(chunks).decode()
    assert text.count("data:") >= 3
    assert '"message_start"' in text
    assert '"message_end"' in text
    assert acquired(client) == 0


async def test_breaking_out_releases_the_connection(
    client: AsyncPinecone, emulator: Emulator
) -> None:
    emulator.store.create_assistant("talk")
    url = f"{emulator.url}/assistant/chat/talk"
    async with await client._core.stream("POST", url, op="chat", json=BODY) as body:
        async for _chunk in body:
            break
    assert acquired(client) == 0
    # the pool still works
    assert (await client.assistants.describe(name="talk")).name == "talk"


async def test_cancelling_a_reader_releases_the_connection(
    client: AsyncPinecone, emulator: Emulator
) -> None:
    emulator.store.create_assistant("talk")
    emulator.faults.script("POST", CHAT, [Fault.delay(5.0)])
    url = f"{emulator.url}/assistant/chat/talk"

    async def read() -> None:
        async with await client._core.stream("POST", url, op="chat", json=BODY) as body:
            async for _chunk in body:
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
    url = f"{emulator.url}/assistant/chat/nobody"
    with pytest.raises(NotFoundError):
        async with await client._core.stream("POST", url, op="chat", json=BODY):
            pytest.fail("the block must not run for an error status")
    assert acquired(client) == 0


async def test_retries_happen_before_the_head_only(
    client: AsyncPinecone, emulator: Emulator, instant_retries: None
) -> None:
    emulator.store.create_assistant("talk")
    emulator.faults.script("POST", CHAT, [Fault.status(503), Fault.status(429)])
    url = f"{emulator.url}/assistant/chat/talk"
    async with await client._core.stream(
        "POST", url, op="chat", json=BODY, idempotent=True
    ) as body:
        data = await body.read()
    assert b"message_end" in data
    assert emulator.log.count(method="POST") == 3
    emulator.faults.script("POST", CHAT, [Fault.status(503)])
    with pytest.raises(ServerError) as info:
        async with await client._core.stream(
            "POST", url, op="chat", json=BODY, retry=RetryPolicy()
        ):
            pass
    assert info.value.attempts == 1  # a non-idempotent POST is not retried on 5xx
