"""Uploads under failure, pinned down (findings of the chaos and cancellation runs)."""

from __future__ import annotations

import pytest

from aiopinecone import AsyncPinecone, RetryPolicy, ServerError, set_retry_testing
from aiopinecone.emulator import Emulator
from aiopinecone.emulator.faults import Fault

KEY = "uploads-key"
FILES = "/assistant/files/{name}"


async def test_the_check_after_an_ambiguous_upload_follows_the_callers_retry_policy() -> None:
    """RetryPolicy.none(): the upload is tried once, and so is the list that looks for it."""
    set_retry_testing(True)
    try:
        async with (
            Emulator(api_keys=(KEY,)) as emu,
            AsyncPinecone(api_key=KEY, host=emu.url, api_version="2025-10") as pc,
        ):
            emu.store.create_assistant("docs")
            emu.faults.script("POST", FILES, [Fault.status(500)])
            emu.faults.script("GET", FILES, [Fault.status(503)], repeat=True)
            with pytest.raises(ServerError):
                await pc.assistants.upload_file(
                    assistant_name="docs",
                    file=b"hello",
                    file_name="a.txt",
                    retry=RetryPolicy.none(),
                )
            assert emu.log.count(method="POST", path=FILES) == 1
            assert emu.log.count(method="GET", path=FILES) == 1
    finally:
        set_retry_testing(False)
