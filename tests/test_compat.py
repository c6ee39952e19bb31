"""``aiopinecone.compat``: the official SDK 10.x's keywords and meanings (issue 14)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from aiopinecone import AssistantStatus, ValidationError, WaitTimeoutError
from aiopinecone.compat import AsyncPinecone
from aiopinecone.emulator import Emulator

KEY = "compat-key"


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(api_keys=(KEY,), ready_delay=0.3, delete_delay=0.3) as e:
        yield e


@pytest.fixture
async def pc(emu: Emulator) -> AsyncIterator[AsyncPinecone]:
    async with AsyncPinecone(KEY, host=emu.url) as client:
        yield client


async def test_timeout_on_writes_is_a_wait(emu: Emulator, pc: AsyncPinecone) -> None:
    quick = await pc.assistants.create(name="quick", timeout=-1)  # -1: do not wait
    assert quick.status == AssistantStatus.INITIALIZING
    ready = await pc.assistants.create(name="ready")  # None: wait without limit
    assert ready.status == AssistantStatus.READY
    with pytest.raises(WaitTimeoutError):
        await pc.assistants.create(name="late", timeout=0)  # 0 s of waiting is not enough
    with pytest.raises(ValidationError, match="timeout"):
        await pc.assistants.create(name="bad", timeout=-5)
    await pc.assistants.delete(name="ready")  # waits until it is gone
    assert "ready" not in {a.name for a in emu.store.list_assistants()}
    await pc.assistants.delete(name="quick", timeout=-1)


async def test_legacy_names(emu: Emulator, pc: AsyncPinecone) -> None:
    made = await pc.assistants.create_assistant("legacy", "Be brief.", {"v": 1}, "us", 30)
    assert (made.name, made.instructions, made.status) == ("legacy", "Be brief.", "Ready")
    assert (await pc.assistants.describe_assistant("legacy")).metadata == {"v": 1}
    assert [a.name for a in await pc.assistants.list_assistants()] == ["legacy"]
    page = await pc.assistants.list_assistants_paginated(limit=5)
    assert [a.name for a in page.assistants] == ["legacy"]
    assert page.next is None
    updated = await pc.assistants.update_assistant("legacy", instructions="Be kind.")
    assert updated.instructions == "Be kind."
    await pc.assistants.delete_assistant("legacy", -1)
    with pytest.raises(ValidationError, match="not both"):
        await pc.assistants.describe(name="a", assistant_name="b")
    with pytest.raises(ValidationError, match="unexpected"):
        await pc.assistants.describe(name="a", colour="blue")


def test_client_arguments_of_10x() -> None:
    pc = AsyncPinecone(
        "k", host="http://127.0.0.1:1", additional_headers={"X-Team": "a"}, timeout=7.0
    )
    assert pc.host == "http://127.0.0.1:1"
    assert pc.api_version == "2026-07"
    with pytest.raises(ValidationError, match="retry="):
        AsyncPinecone("k", retry_config=object())
    with pytest.raises(ValidationError, match="proxy_auth"):
        AsyncPinecone("k", proxy_headers={"Proxy-Authorization": "x"})
