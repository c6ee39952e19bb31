"""The ``/__emulator/`` admin API over HTTP: log, counters, faults, chaos, rate limits, state."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from aiopinecone.emulator import Emulator, ThreadedEmulator
from aiopinecone.emulator.faults import Fault

KEY = "pcsk_admin-test-SECRET-4f1c9"
HEADERS = {"Api-Key": KEY, "X-Pinecone-Api-Version": "2025-10"}
ASSISTANTS = "/assistant/assistants"


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(api_keys=(KEY,)) as emulator:
        yield emulator


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers=HEADERS, timeout=aiohttp.ClientTimeout(total=20)) as s:
        yield s


@pytest.fixture
async def admin() -> AsyncIterator[aiohttp.ClientSession]:
    """A session without an API key: the admin routes need none."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as s:
        yield s


async def _call(
    s: aiohttp.ClientSession,
    verb: str,
    url: str,
    body: object = None,
    params: dict[str, str] | None = None,
) -> tuple[int, Any]:
    async with s.request(verb, url, json=body, params=params) as resp:
        return resp.status, await resp.json()


async def test_health(emu: Emulator, admin: aiohttp.ClientSession) -> None:
    assert await _call(admin, "GET", emu.url + "/__emulator/health") == (
        200,
        {"status": "ok", "requests": 0},
    )


async def test_log_filters_and_clear(
    emu: Emulator, session: aiohttp.ClientSession, admin: aiohttp.ClientSession
) -> None:
    await _call(session, "POST", emu.url + ASSISTANTS, {"name": "a1"})
    await _call(session, "GET", emu.url + ASSISTANTS + "/a1")
    await _call(session, "GET", emu.url + ASSISTANTS + "/nope")
    await _call(session, "GET", emu.url + ASSISTANTS, params={"filter": '{"x": 1}'})
    log_url = emu.url + "/__emulator/log"
    status, body = await _call(admin, "GET", log_url)
    assert status == 200
    assert body["total"] == body["count"] == 4
    first = body["entries"][0]
    assert first["method"] == "POST"
    assert first["path"] == ASSISTANTS
    assert first["op_class"] == "assistants_write"
    assert first["api_version"] == "2025-10"
    assert (first["status"], first["outcome"], first["fault"]) == (200, "response", None)
    assert body["entries"][3]["query"] == {"filter": '{"x": 1}'}

    async def count(**params: str) -> int:
        status, body = await _call(admin, "GET", log_url, params=params)
        assert status == 200, body
        return int(body["count"])

    assert await count(method="get") == 3
    assert await count(path=ASSISTANTS + "/{name}") == 2
    assert await count(status="404") == 1
    assert await count(status="none") == 0
    assert await count(op_class="assistants_read") == 3
    assert await count(fault="true") == 0
    assert await count(since="2") == 2
    _, last = await _call(admin, "GET", log_url, params={"limit": "1"})
    assert [e["seq"] for e in last["entries"]] == [4]
    assert (await _call(admin, "GET", log_url, params={"status": "x"}))[0] == 400
    assert (await _call(admin, "DELETE", log_url))[0] == 200
    assert await count() == 0
    # Admin requests are never recorded.
    assert emu.log.total == 4


async def test_api_key_never_reaches_the_log(
    emu: Emulator, session: aiohttp.ClientSession, admin: aiohttp.ClientSession
) -> None:
    await _call(session, "POST", emu.url + ASSISTANTS, {"name": "a1"})
    async with session.get(emu.url + ASSISTANTS, headers={"Api-Key": KEY + "-wrong"}) as resp:
        assert resp.status == 401
    _, body = await _call(admin, "GET", emu.url + "/__emulator/log")
    assert KEY not in json.dumps(body)
    assert KEY not in repr(emu.log.entries)


async def test_scripted_faults_over_http(
    emu: Emulator, session: aiohttp.ClientSession, admin: aiohttp.ClientSession
) -> None:
    faults_url = emu.url + "/__emulator/faults"
    status, script = await _call(
        admin,
        "POST",
        faults_url,
        {
            "method": "POST",
            "path": ASSISTANTS,
            "faults": [
                {"type": "status", "status": 429, "retry_after": 2, "code": "RESOURCE_EXHAUSTED"},
                {"type": "perform_then_status", "status": 500},
                503,
            ],
        },
    )
    assert status == 201
    assert script["remaining"] == 3
    async with session.post(emu.url + ASSISTANTS, json={"name": "a1"}) as resp:
        assert (resp.status, resp.headers["Retry-After"]) == (429, "2")
    assert (await _call(session, "POST", emu.url + ASSISTANTS, {"name": "a1"}))[0] == 500
    assert "a1" in emu.store
    _, snapshot = await _call(admin, "GET", faults_url)
    assert snapshot["scripts"][0]["remaining"] == 1
    assert snapshot["applied"] == 2
    # Faults never touch the admin routes, even a catch-all script.
    await _call(admin, "POST", faults_url, {"method": "*", "path": "/**", "faults": [500]})
    assert (await _call(admin, "GET", emu.url + "/__emulator/health"))[0] == 200
    assert (await _call(admin, "DELETE", faults_url))[1]["scripts"] == []
    assert (await _call(session, "POST", emu.url + ASSISTANTS, {"name": "a2"}))[0] == 200


@pytest.mark.parametrize(
    "body",
    [
        {"path": ASSISTANTS, "faults": []},
        {"path": ASSISTANTS, "faults": [{"type": "explode"}]},
        {"path": ASSISTANTS, "faults": [{"type": "status", "status": 200}]},
        {"faults": [500]},
        {"path": "no-slash", "faults": [500]},
        {"path": ASSISTANTS, "faults": [500], "repeat": "yes"},
        {"path": ASSISTANTS, "faults": [500], "extra": 1},
        [500],
    ],
)
async def test_bad_fault_scripts_get_400(
    emu: Emulator, admin: aiohttp.ClientSession, body: object
) -> None:
    status, envelope = await _call(admin, "POST", emu.url + "/__emulator/faults", body)
    assert status == 400
    assert envelope["error"]["code"] == "INVALID_ARGUMENT"
    assert envelope["error"]["message"]
    assert emu.faults.scripts == ()


async def test_malformed_admin_json_gets_400(emu: Emulator, admin: aiohttp.ClientSession) -> None:
    async with admin.post(emu.url + "/__emulator/faults", data=b"{not json") as resp:
        assert resp.status == 400
        assert (await resp.json())["error"]["code"] == "INVALID_ARGUMENT"


async def test_chaos_over_http(
    emu: Emulator, session: aiohttp.ClientSession, admin: aiohttp.ClientSession
) -> None:
    chaos_url = emu.url + "/__emulator/chaos"
    status, config = await _call(
        admin, "POST", chaos_url, {"seed": 9, "rates": {"503": 1.0}, "methods": ["GET"]}
    )
    assert status == 200
    assert config["seed"] == 9
    assert config["paths"] == ["/assistant/**"]
    assert (await _call(session, "GET", emu.url + ASSISTANTS))[0] == 503
    assert (await _call(session, "POST", emu.url + ASSISTANTS, {"name": "a1"}))[0] == 200
    assert (await _call(admin, "POST", chaos_url, {"seed": 9, "rates": {"503": 2}}))[0] == 400
    assert (await _call(admin, "POST", chaos_url, {"rates": {}}))[0] == 400
    assert (await _call(admin, "DELETE", chaos_url))[1]["chaos"] is None
    assert (await _call(session, "GET", emu.url + ASSISTANTS))[0] == 200


async def test_rate_limits_and_counters_over_http(
    emu: Emulator, session: aiohttp.ClientSession, admin: aiohttp.ClientSession
) -> None:
    limits_url = emu.url + "/__emulator/rate-limits"
    counters_url = emu.url + "/__emulator/counters"
    status, snapshot = await _call(admin, "PUT", limits_url, {"limits": "starter"})
    assert status == 200
    assert snapshot["preset"] == "starter"
    assert snapshot["classes"]["files_upload"]["limit"] == 5
    status, snapshot = await _call(
        admin, "PUT", limits_url, {"limits": {"assistants_read": 1}, "time_scale": 0.5}
    )
    assert (status, snapshot["window_seconds"]) == (200, 30.0)
    assert (await _call(session, "GET", emu.url + ASSISTANTS))[0] == 200
    assert (await _call(session, "GET", emu.url + ASSISTANTS))[0] == 429
    _, counters = await _call(admin, "GET", counters_url)
    assert counters["classes"]["assistants_read"] == {"limit": 1, "accepted": 1, "rejected": 1}
    # Admin calls are not counted.
    assert counters["classes"]["other"]["accepted"] == 0
    _, counters = await _call(admin, "DELETE", counters_url)
    assert counters["classes"]["assistants_read"]["accepted"] == 0
    assert (await _call(session, "GET", emu.url + ASSISTANTS))[0] == 200  # window emptied
    for bad in ({"limits": "gold"}, {"limits": {"chat": 1}}, {"time_scale": 0}, {"limits": 5}):
        status, envelope = await _call(admin, "PUT", limits_url, bad)
        assert status == 400, bad
        assert envelope["error"]["code"] == "INVALID_ARGUMENT"


async def test_state_dump_and_reset(
    emu: Emulator, session: aiohttp.ClientSession, admin: aiohttp.ClientSession
) -> None:
    await _call(session, "POST", emu.url + ASSISTANTS, {"name": "b", "metadata": {"team": "x"}})
    await _call(session, "POST", emu.url + ASSISTANTS, {"name": "a"})
    status, state = await _call(admin, "GET", emu.url + "/__emulator/state")
    assert status == 200
    assert [a["name"] for a in state["assistants"]] == ["a", "b"]
    assert state["assistants"][1]["metadata"] == {"team": "x"}
    assert state["assistants"][1]["files"] == []
    assert (await _call(admin, "DELETE", emu.url + "/__emulator/state"))[0] == 200
    assert (await _call(admin, "GET", emu.url + "/__emulator/state"))[1] == {"assistants": []}


async def test_reset_everything(
    emu: Emulator, session: aiohttp.ClientSession, admin: aiohttp.ClientSession
) -> None:
    await _call(session, "POST", emu.url + ASSISTANTS, {"name": "a"})
    emu.limiter.configure({"assistants_write": 1})
    await _call(session, "POST", emu.url + ASSISTANTS, {"name": "b"})
    emu.faults.script("GET", ASSISTANTS, Fault.status(500))
    status, body = await _call(admin, "POST", emu.url + "/__emulator/reset")
    assert (status, body) == (200, {"reset": True, "state": True})
    assert len(emu.store) == 0
    assert emu.log.entries == []
    assert emu.faults.scripts == ()
    assert emu.limiter.counters["assistants_write"].accepted == 0
    assert (await _call(session, "POST", emu.url + ASSISTANTS, {"name": "c"}))[0] == 200


async def test_unknown_admin_route(emu: Emulator, admin: aiohttp.ClientSession) -> None:
    status, envelope = await _call(admin, "GET", emu.url + "/__emulator/nothing")
    assert status == 404
    assert envelope["error"]["code"] == "NOT_FOUND"


def _http(emu: ThreadedEmulator, method: str, path: str, body: object = None) -> int:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        emu.url + path,
        data=data,
        method=method,
        headers={**HEADERS, "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        exc.close()
        return int(exc.code)


def test_threaded_fixture_scripts_from_the_test_thread(pinecone_emulator: ThreadedEmulator) -> None:
    pinecone_emulator.faults.script("POST", ASSISTANTS, Fault.perform_then_status(502))
    assert _http(pinecone_emulator, "POST", ASSISTANTS, {"name": "t1"}) == 502
    assert "t1" in pinecone_emulator.store
    assert _http(pinecone_emulator, "POST", ASSISTANTS, {"name": "t1"}) == 409
    assert pinecone_emulator.log.count(method="POST", status=502, fault="perform_then_status") == 1
