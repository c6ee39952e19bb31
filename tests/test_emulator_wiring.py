"""The emulator's middleware order: request log, errors, faults, auth + version, rate limits."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator

import aiohttp
import pytest

from aiopinecone.emulator import Emulator
from aiopinecone.emulator.faults import Fault

KEY = "test-key"


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def get(
    http: aiohttp.ClientSession, url: str, key: str | None = KEY, version: str | None = None
) -> int:
    headers = {}
    if key is not None:
        headers["Api-Key"] = key
    if version is not None:
        headers["X-Pinecone-Api-Version"] = version
    async with http.get(url, headers=headers) as resp:
        await resp.read()
        return resp.status


async def test_log_records_every_request(http: aiohttp.ClientSession) -> None:
    async with Emulator(api_keys=(KEY,)) as emu:
        base = emu.url + "/assistant/assistants"
        assert await get(http, base, version="2026-04") == 200
        assert await get(http, base, key=None) == 401
        assert await get(http, emu.url + "/nowhere") == 404
        assert await get(http, base, version="1999-01") == 400
        entries = emu.log.entries
        assert [(e.method, e.path, e.status) for e in entries] == [
            ("GET", "/assistant/assistants", 200),
            ("GET", "/assistant/assistants", 401),
            ("GET", "/nowhere", 404),
            ("GET", "/assistant/assistants", 400),
        ]
        assert entries[0].api_version == "2026-04"
        assert entries[0].op_class == "assistants_read"
        assert "test-key" not in repr(entries)


async def test_faults_fire_before_auth(http: aiohttp.ClientSession) -> None:
    async with Emulator(api_keys=(KEY,)) as emu:
        emu.faults.script("GET", "/assistant/assistants", [Fault.status(503)])
        assert await get(http, emu.url + "/assistant/assistants", key="wrong") == 503
        assert await get(http, emu.url + "/assistant/assistants", key="wrong") == 401
        assert emu.log.entries[0].fault is not None


async def test_perform_then_fail_changes_state(http: aiohttp.ClientSession) -> None:
    async with Emulator(api_keys=(KEY,)) as emu:
        emu.faults.script("POST", "/assistant/assistants", [Fault.perform_then_status(500)])
        async with http.post(
            emu.url + "/assistant/assistants", json={"name": "lost"}, headers={"Api-Key": KEY}
        ) as resp:
            assert resp.status == 500
            body = await resp.json()
            assert body["status"] == 500
        assert "lost" in emu.store


async def test_rate_limits_count_authenticated_requests_only(
    http: aiohttp.ClientSession,
) -> None:
    async with Emulator(api_keys=(KEY,), rate_limits={"assistants_read": 2}) as emu:
        url = emu.url + "/assistant/assistants"
        assert await get(http, url, key="nope") == 401
        assert [await get(http, url) for _ in range(3)] == [200, 200, 429]
        async with http.get(url, headers={"Api-Key": KEY}) as resp:
            assert resp.status == 429
            assert int(resp.headers["Retry-After"]) >= 1
            body = await resp.json()
            assert body["error"]["code"] == "RESOURCE_EXHAUSTED"
        counters = emu.limiter.counters["assistants_read"]
        assert (counters.accepted, counters.rejected) == (2, 2)
        # Other classes are unlimited.
        emu.store.create_assistant("a")
        assert [await get(http, emu.url + "/assistant/files/a") for _ in range(3)] == [200] * 3


async def test_admin_routes_need_no_key(http: aiohttp.ClientSession) -> None:
    async with Emulator(api_keys=(KEY,)) as emu:
        emu.store.create_assistant("a")
        async with http.get(emu.url + "/__emulator/state") as resp:
            assert resp.status == 200
            body = await resp.json()
            assert [a["name"] for a in body["assistants"]] == ["a"]
        async with http.post(emu.url + "/__emulator/reset") as resp:
            assert resp.status in (200, 204)
        assert len(emu.store) == 0


def test_thread_hosted_parts_are_reachable() -> None:
    import urllib.error
    import urllib.request

    with Emulator(api_keys=(KEY,)).in_thread() as emu:
        emu.call(emu.faults.script, "GET", "/assistant/assistants", [Fault.status(502)])
        request = urllib.request.Request(
            emu.url + "/assistant/assistants", headers={"Api-Key": KEY}
        )
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(request, timeout=10)
        assert info.value.code == 502
        info.value.close()
        assert emu.call(lambda: [e.status for e in emu.log.entries]) == [502]


def test_a_thread_emulator_stopped_right_after_it_started_stops() -> None:
    """A stop sent while the server thread is still finishing its start is not lost (a test
    with an empty body did that: its teardown then waited for the thread to give up)."""

    def emulator_threads() -> set[threading.Thread]:
        return {t for t in threading.enumerate() if t.name == "aiopinecone-emulator"}

    before = emulator_threads()
    for _ in range(100):  # the stop met the start's last step about 1 time in 10
        with Emulator(api_keys=(KEY,)).in_thread():
            pass
        assert emulator_threads() - before == set()
