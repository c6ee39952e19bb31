"""The admission seam (``_admission.py``): one permit per attempt, settled exactly once.

The rate governor plugs in here; these tests hold the core to the contract with a recording
admission (no governor involved).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from aiopinecone import AsyncPinecone, NotFoundError, RetryPolicy, TransportError
from aiopinecone._admission import TokenCharge
from aiopinecone.emulator import Emulator, Fault

LIST = "/assistant/assistants"


class Recorder:
    """Grants every permit at once and records what the core tells it."""

    def __init__(self) -> None:
        self.acquired: list[tuple[str, float, float | None]] = []
        self.settled: list[tuple[int, int | None, float | None]] = []
        self.block: asyncio.Event | None = None
        self.tokens: list[TokenCharge | None] = []
        self.at_once = False
        """Grant in ``try_acquire`` (the core then awaits nothing)."""

    def try_acquire(self, op: str, cost: float) -> Any:
        if not self.at_once:
            return None
        self.acquired.append((op, cost, None))
        self.tokens.append(None)
        return len(self.acquired)

    async def acquire(
        self, op: str, *, cost: float, deadline: float | None, tokens: TokenCharge | None = None
    ) -> Any:
        self.acquired.append((op, cost, deadline))
        self.tokens.append(tokens)
        if self.block is not None:
            await self.block.wait()
        return len(self.acquired)

    def settle(self, permit: Any, status: int | None, retry_after: float | None) -> None:
        self.settled.append((permit, status, retry_after))


def admitted(pc: AsyncPinecone) -> Recorder:
    recorder = Recorder()
    pc._core.admission = recorder
    return recorder


async def test_every_attempt_is_admitted_and_settled_once(
    client: AsyncPinecone, emulator: Emulator, instant_retries: None
) -> None:
    recorder = admitted(client)
    emulator.faults.script("GET", LIST, [Fault.status(429, retry_after=1), Fault.status(503)])
    await client.assistants.list_page()
    assert [op for op, _, _ in recorder.acquired] == ["list_assistants"] * 3
    assert [(p, s) for p, s, _ in recorder.settled] == [(1, 429), (2, 503), (3, 200)]
    assert recorder.settled[0][2] == 1.0
    assert all(cost == 1.0 for _, cost, _ in recorder.acquired)
    # The client's default total timeout (120 s) gives every permit a deadline.
    assert all(deadline is not None for _, _, deadline in recorder.acquired)


async def test_a_permit_granted_at_once_is_used_and_settled(
    client: AsyncPinecone, emulator: Emulator, instant_retries: None
) -> None:
    recorder = admitted(client)
    recorder.at_once = True
    recorder.block = asyncio.Event()  # an awaited acquire would never return
    emulator.faults.script("GET", LIST, [Fault.status(503)])
    await client.assistants.list_page()
    assert [op for op, _, _ in recorder.acquired] == ["list_assistants"] * 2
    assert [(p, s) for p, s, _ in recorder.settled] == [(1, 503), (2, 200)]


async def test_error_answers_and_lost_answers_are_settled(
    client: AsyncPinecone, emulator: Emulator
) -> None:
    recorder = admitted(client)
    with pytest.raises(NotFoundError):
        await client.assistants.describe(name="nobody")
    emulator.faults.script("GET", LIST, [Fault.drop_before()])
    with pytest.raises(TransportError):
        await client.assistants.list_page(retry=RetryPolicy.none())
    assert [s for _, s, _ in recorder.settled] == [404, None]
    assert len(recorder.acquired) == len(recorder.settled) == 2


async def test_a_cancelled_attempt_is_settled(client: AsyncPinecone, emulator: Emulator) -> None:
    recorder = admitted(client)
    emulator.faults.script("GET", LIST, [Fault.delay(30.0)])
    task = asyncio.create_task(client.assistants.list_page())
    for _ in range(200):
        if emulator.log.count(method="GET") >= 1:
            break
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert recorder.settled == [(1, None, None)]


async def test_a_stream_is_settled_when_its_head_arrives(
    client: AsyncPinecone, emulator: Emulator
) -> None:
    recorder = admitted(client)
    await client.assistants.create(name="talk")
    stream = await client.assistants.chat(
        assistant_name="talk", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    async with stream:
        assert recorder.settled[-1][1] == 200
        assert await stream.collect()
    assert [op for op, _, _ in recorder.acquired] == ["create_assistant", "chat"]
    # A chat carries its input tokens (for a token budget); a create does not.
    assert recorder.tokens[0] is None
    assert isinstance(recorder.tokens[1], TokenCharge)
    assert recorder.tokens[1].text > 0
    # A stream has no total timeout: no deadline for its permit.
    assert recorder.acquired[-1][2] is None
    assert len(recorder.acquired) == len(recorder.settled)
