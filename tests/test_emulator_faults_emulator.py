"""Faults through the whole emulator: lost responses, drops, Retry-After, seeded chaos."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest

from aiopinecone.emulator import Emulator, EmulatorConfig
from aiopinecone.emulator.faults import RETRY_AFTER_MS_HEADER, Fault

KEY = "fault-test-key"
HEADERS = {"Api-Key": KEY, "X-Pinecone-Api-Version": "2025-10"}
DISCONNECTED = (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)
CREATE = "/assistant/assistants"


@pytest.fixture
def no_server_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.DEBUG)
    yield
    bad = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert not bad, [r.getMessage() for r in bad]


@pytest.fixture
async def emu(no_server_errors: None) -> AsyncIterator[Emulator]:
    async with Emulator(api_keys=(KEY,)) as emulator:
        yield emulator


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers=HEADERS, timeout=aiohttp.ClientTimeout(total=20)) as s:
        yield s


async def _create(session: aiohttp.ClientSession, emu: Emulator, name: str) -> int:
    async with session.post(emu.url + CREATE, json={"name": name}) as resp:
        await resp.read()
        return resp.status


async def test_scripted_500_then_success(emu: Emulator, session: aiohttp.ClientSession) -> None:
    emu.faults.script("POST", CREATE, Fault.status(500))
    assert await _create(session, emu, "a1") == 500
    assert "a1" not in emu.store
    assert await _create(session, emu, "a1") == 200
    assert "a1" in emu.store
    assert [(e.status, e.fault) for e in emu.log.filter(method="POST", path=CREATE)] == [
        (500, "status:500"),
        (200, None),
    ]


async def test_lost_response_create(emu: Emulator, session: aiohttp.ClientSession) -> None:
    emu.faults.script("POST", CREATE, Fault.perform_then_status(503, retry_after=1))
    async with session.post(emu.url + CREATE, json={"name": "a1"}) as resp:
        assert resp.status == 503
        assert resp.headers["Retry-After"] == "1"
        assert (await resp.json())["error"]["code"] == "UNAVAILABLE"
    assert "a1" in emu.store  # the state changed although the client saw an error
    # A blind retry now meets the duplicate: what a client must reconcile.
    async with session.post(emu.url + CREATE, json={"name": "a1"}) as resp:
        assert resp.status == 409
        assert (await resp.json())["error"]["code"] == "ALREADY_EXISTS"


async def test_drop_before_vs_drop_after(emu: Emulator, session: aiohttp.ClientSession) -> None:
    emu.faults.script("POST", CREATE, [Fault.drop_before(), Fault.drop_after()])
    with pytest.raises(DISCONNECTED):
        await _create(session, emu, "before")
    with pytest.raises(DISCONNECTED):
        await _create(session, emu, "after")
    assert "before" not in emu.store
    assert "after" in emu.store
    dropped = emu.log.filter(outcome="dropped")
    assert [(e.fault, e.status, e.op_class) for e in dropped] == [
        ("drop_before", None, "assistants_write"),
        ("drop_after", None, "assistants_write"),
    ]
    # The pool recovered: the session goes on working.
    async with session.get(emu.url + CREATE + "/after") as resp:
        assert resp.status == 200


async def test_faults_act_before_auth(emu: Emulator) -> None:
    emu.faults.script("GET", CREATE, Fault.status(429, retry_after=2.5))
    async with aiohttp.ClientSession() as anonymous:
        async with anonymous.get(emu.url + CREATE) as resp:
            assert resp.status == 429  # a proxy in front of the API answers first
            assert resp.headers["Retry-After"] == "3"
            assert resp.headers[RETRY_AFTER_MS_HEADER] == "2500"
        async with anonymous.get(emu.url + CREATE) as resp:
            assert resp.status == 401


async def test_delay_then_perform(emu: Emulator, session: aiohttp.ClientSession) -> None:
    emu.faults.script("POST", CREATE, Fault.delay(0.05))
    assert await _create(session, emu, "slow") == 200
    entry = emu.log.last()
    assert entry is not None
    assert (entry.status, entry.fault) == (200, "delay:0.05")


async def test_client_gone_during_delays(emu: Emulator, session: aiohttp.ClientSession) -> None:
    assert await _create(session, emu, "a1") == 200
    emu.faults.script("POST", CREATE, Fault.delay(1.0, after=True))
    emu.faults.script("DELETE", CREATE + "/{name}", Fault.delay(1.0))
    # Wide margins: the client gives up after 0.3 s, the faults hold the answer for 1 s.
    async with aiohttp.ClientSession(
        headers=HEADERS, timeout=aiohttp.ClientTimeout(total=0.3)
    ) as impatient:
        # Performed, then slow: the client gives up, the assistant exists all the same.
        with pytest.raises(asyncio.TimeoutError):
            await _create(impatient, emu, "ghost")
        assert "ghost" in emu.store
        # Slow, then performed: a request without a body is performed after the client left.
        with pytest.raises(asyncio.TimeoutError):
            async with impatient.delete(emu.url + CREATE + "/a1"):
                pass
    for _ in range(100):  # bounded wait (at most ~5 s) for the delayed handler
        if "a1" not in emu.store or emu.store.get_assistant("a1").gone_at is not None:
            break
        await asyncio.sleep(0.05)
    else:
        pytest.fail("the delayed delete never ran")
    for _ in range(100):  # and for the log to record both outcomes
        if emu.log.count(outcome="client_disconnected") == 2:
            break
        await asyncio.sleep(0.05)
    gone = emu.log.filter(outcome="client_disconnected")
    assert [(e.method, e.status) for e in gone] == [("POST", 200), ("DELETE", 200)]


async def test_client_gone_before_a_body_is_read_is_quiet(emu: Emulator) -> None:
    # aiohttp fails the body of a request whose client left: the handler cannot perform it.
    # The log records it and the server log stays free of tracebacks.
    emu.faults.script("POST", CREATE, Fault.delay(1.0))
    async with aiohttp.ClientSession(
        headers=HEADERS, timeout=aiohttp.ClientTimeout(total=0.3)
    ) as impatient:
        with pytest.raises(asyncio.TimeoutError):
            await _create(impatient, emu, "never")
    for _ in range(100):
        if emu.log.count(outcome="client_disconnected"):
            break
        await asyncio.sleep(0.05)
    entry = emu.log.last()
    assert entry is not None
    assert (entry.outcome, entry.status, entry.fault) == ("client_disconnected", None, "delay:1")
    assert "never" not in emu.store


async def test_malformed_body_on_describe(emu: Emulator, session: aiohttp.ClientSession) -> None:
    assert await _create(session, emu, "a1") == 200
    emu.faults.script("GET", CREATE + "/{name}", Fault.malformed_body())
    async with session.get(emu.url + CREATE + "/a1") as resp:
        assert resp.status == 200
        with pytest.raises(ValueError, match=r"."):
            await resp.json()


async def _converge(
    emu: Emulator, session: aiohttp.ClientSession, names: list[str]
) -> dict[str, int]:
    """A small careful client: retry every create; a 409 after an error means 'ours'."""
    attempts: dict[str, int] = {}
    for name in names:
        for attempt in range(1, 9):
            attempts[name] = attempt
            try:
                status = await _create(session, emu, name)
            except DISCONNECTED:
                continue
            if status == 200 or (status == 409 and attempt > 1):
                break
        else:
            pytest.fail(f"{name} did not converge")
    return attempts


async def _chaos_run(seed: int) -> tuple[list[tuple[str, int | None, str | None]], list[str]]:
    async with Emulator(config=EmulatorConfig(api_keys=(KEY,))) as emu:
        emu.faults.chaos(
            seed,
            rates={
                "429": 0.1,
                "429_no_retry_after": 0.05,
                "500": 0.05,
                "502": 0.05,
                "503": 0.05,
                "500_after": 0.1,
                "drop_before": 0.05,
                "drop_after": 0.1,
                "delay": 0.05,
            },
            delay=(0.0, 0.01),
            max_consecutive=3,
        )
        names = [f"chaos-{i}" for i in range(15)]
        async with aiohttp.ClientSession(
            headers=HEADERS, timeout=aiohttp.ClientTimeout(total=20)
        ) as session:
            await _converge(emu, session, names)
        log = [(e.path, e.status, e.fault) for e in emu.log.entries]
        return log, sorted(a.name for a in emu.store.list_assistants())


async def test_chaos_is_reproducible_and_a_careful_client_converges(
    no_server_errors: None,
) -> None:
    first_log, first_state = await _chaos_run(2024)
    second_log, second_state = await _chaos_run(2024)
    assert first_log == second_log
    assert first_state == second_state == sorted(f"chaos-{i}" for i in range(15))
    faults = {f.split(":")[1] for _, _, f in first_log if f}
    assert {"drop_after", "perform_then_status", "status"} <= faults
    other_log, _ = await _chaos_run(2025)
    assert other_log != first_log
