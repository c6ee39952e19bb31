"""Logging: one DEBUG line per request attempt; the API key never appears anywhere."""

from __future__ import annotations

import logging

import pytest

from aiopinecone import AsyncPinecone, AuthenticationError, RetryPolicy, ServerError
from aiopinecone.emulator import Emulator
from aiopinecone.emulator.faults import Fault

SECRET = "pcsk_top-secret-0123456789"


async def test_one_debug_line_per_attempt(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="aiopinecone")
    async with (
        Emulator(api_keys=(SECRET,)) as emu,
        AsyncPinecone(api_key=SECRET, host=emu.url, retry=RetryPolicy(initial_delay=0.0)) as pc,
    ):
        await pc.assistants.create(name="logged")
        emu.faults.script("GET", "/assistant/assistants/{name}", [Fault.status(503)])
        await pc.assistants.describe(name="logged")
    lines = [r.getMessage() for r in caplog.records if r.name == "aiopinecone"]
    request_lines = [line for line in lines if "->" in line]
    assert len(request_lines) == 3
    assert "POST /assistant/assistants -> 200" in request_lines[0]
    assert "attempt 1" in request_lines[0]
    assert "GET /assistant/assistants/logged -> 503" in request_lines[1]
    assert "GET /assistant/assistants/logged -> 200" in request_lines[2]
    assert "attempt 2" in request_lines[2]
    assert all(" ms)" in line for line in request_lines)


async def test_nothing_logged_above_debug(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="aiopinecone")
    async with (
        Emulator(api_keys=(SECRET,)) as emu,
        AsyncPinecone(api_key=SECRET, host=emu.url) as pc,
    ):
        await pc.assistants.list()
    assert [r for r in caplog.records if r.name == "aiopinecone"] == []


async def test_the_key_never_appears(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with (
        Emulator(api_keys=(SECRET,)) as emu,
        AsyncPinecone(
            api_key=SECRET, host=emu.url, retry=RetryPolicy(max_attempts=2, initial_delay=0.0)
        ) as pc,
    ):
        assert SECRET not in repr(pc)
        emu.faults.script(
            "GET",
            "/assistant/assistants",
            [Fault.status(500, "UNKNOWN", f"backend saw key {SECRET}")] * 2,
        )
        with pytest.raises(ServerError) as server_error:
            await pc.assistants.list()
        emu.faults.script(
            "GET",
            "/assistant/assistants",
            [Fault.status(401, "UNAUTHENTICATED", f"Invalid API key: {SECRET}")],
        )
        with pytest.raises(AuthenticationError) as auth_error:
            await pc.assistants.list()
    for error in (server_error.value, auth_error.value):
        assert SECRET not in str(error)
        assert SECRET not in repr(error)
        assert all(SECRET not in str(arg) for arg in error.args)
    assert caplog.records
    for record in caplog.records:
        assert SECRET not in record.getMessage()
    assert SECRET not in caplog.text
