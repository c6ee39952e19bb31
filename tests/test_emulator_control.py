"""The emulator's control plane over real sockets: CRUD, auth, versions, validation, lifecycle."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from aiopinecone.emulator import Emulator, EmulatorConfig

KEY = "test-key"
VERSIONS = ("2025-04", "2025-10", "2026-04")


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(api_keys=(KEY,), delete_delay=0.0) as emulator:
        yield emulator


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def call(
    http: aiohttp.ClientSession,
    emu: Emulator,
    method: str,
    path: str,
    *,
    json: Any = None,
    data: Any = None,
    version: str | None = "2025-10",
    key: str | None = KEY,
    params: dict[str, str] | None = None,
) -> tuple[int, Any]:
    headers = {}
    if key is not None:
        headers["Api-Key"] = key
    if version is not None:
        headers["X-Pinecone-Api-Version"] = version
    async with http.request(
        method, emu.url + path, json=json, data=data, headers=headers, params=params
    ) as resp:
        raw = await resp.read()
        if resp.content_type == "application/json":
            return resp.status, await resp.json()
        return resp.status, raw


def assert_error(status: int, body: Any, expected_status: int, code: str) -> None:
    assert status == expected_status, body
    assert body["status"] == expected_status
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]


@pytest.mark.parametrize("version", VERSIONS)
async def test_crud_roundtrip(emu: Emulator, http: aiohttp.ClientSession, version: str) -> None:
    status, created = await call(
        http,
        emu,
        "POST",
        "/assistant/assistants",
        json={"name": "support", "instructions": "Be brief.", "metadata": {"team": "x"}},
        version=version,
    )
    assert status == 200
    assert created["name"] == "support"
    assert created["status"] == "Ready"
    assert created["host"] == emu.url
    assert created["metadata"] == {"team": "x"}
    assert created["created_at"].endswith("Z")
    assert ("region" in created) == (version == "2026-04")

    status, described = await call(
        http, emu, "GET", "/assistant/assistants/support", version=version
    )
    assert (status, described["instructions"]) == (200, "Be brief.")

    status, listed = await call(http, emu, "GET", "/assistant/assistants", version=version)
    assert status == 200
    assert [a["name"] for a in listed["assistants"]] == ["support"]

    status, updated = await call(
        http,
        emu,
        "PATCH",
        "/assistant/assistants/support",
        json={"instructions": "Be kind."},
        version=version,
    )
    assert status == 200
    assert updated["assistant_name"] == "support"
    assert updated["instructions"] == "Be kind."
    assert updated["metadata"] == {"team": "x"}  # not sent, so unchanged

    status, _ = await call(http, emu, "DELETE", "/assistant/assistants/support", version=version)
    assert status == 200
    status, body = await call(http, emu, "GET", "/assistant/assistants/support", version=version)
    assert_error(status, body, 404, "NOT_FOUND")
    assert "support" not in emu.store


async def test_update_metadata_replaces_and_null_clears(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    await call(http, emu, "POST", "/assistant/assistants", json={"name": "a", "metadata": {"x": 1}})
    status, body = await call(
        http, emu, "PATCH", "/assistant/assistants/a", json={"metadata": {"y": 2}}
    )
    assert (status, body["metadata"]) == (200, {"y": 2})
    status, body = await call(
        http, emu, "PATCH", "/assistant/assistants/a", json={"instructions": None}
    )
    assert (status, body["instructions"]) == (200, None)


@pytest.mark.parametrize(
    ("version", "length", "ok"),
    [
        ("2025-04", 45, True),
        ("2025-04", 46, False),
        ("2025-10", 63, True),
        ("2025-10", 64, False),
        ("2026-04", 63, True),
        ("2026-04", 64, False),
    ],
)
async def test_name_length_per_version(
    emu: Emulator, http: aiohttp.ClientSession, version: str, length: int, ok: bool
) -> None:
    name = "a" * length
    status, body = await call(
        http, emu, "POST", "/assistant/assistants", json={"name": name}, version=version
    )
    if ok:
        assert status == 200, body
    else:
        assert_error(status, body, 400, "INVALID_ARGUMENT")
        assert str(length - 1) in body["error"]["message"]


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"name": 5},
        {"name": "-lead"},
        {"name": "trail-"},
        {"name": "sp ace"},
        {"name": ""},
        {"name": "ok", "instructions": 3},
        {"name": "ok", "metadata": [1]},
        {"name": "ok", "metadata": "x"},
        {"name": "ok", "region": "mars"},
        {"name": "ok", "instructions": "x" * (16 * 1024 + 1)},
        [1, 2],
        "just a string",
    ],
)
async def test_create_validation(emu: Emulator, http: aiohttp.ClientSession, payload: Any) -> None:
    status, body = await call(http, emu, "POST", "/assistant/assistants", json=payload)
    assert_error(status, body, 400, "INVALID_ARGUMENT")
    assert len(emu.store) == 0


@pytest.mark.parametrize("raw", [b"{not json", b"", b"\xff\xfe", b"null"])
async def test_malformed_bodies(emu: Emulator, http: aiohttp.ClientSession, raw: bytes) -> None:
    status, body = await call(http, emu, "POST", "/assistant/assistants", data=raw)
    assert_error(status, body, 400, "INVALID_ARGUMENT")


async def test_update_validation(emu: Emulator, http: aiohttp.ClientSession) -> None:
    await call(http, emu, "POST", "/assistant/assistants", json={"name": "a"})
    for payload in ({}, {"instructions": 1}, {"metadata": 2}, {"name": "b"}):
        status, body = await call(http, emu, "PATCH", "/assistant/assistants/a", json=payload)
        assert_error(status, body, 400, "INVALID_ARGUMENT")
    status, body = await call(
        http, emu, "PATCH", "/assistant/assistants/missing", json={"instructions": "x"}
    )
    assert_error(status, body, 404, "NOT_FOUND")


async def test_not_found_everywhere(emu: Emulator, http: aiohttp.ClientSession) -> None:
    for method in ("GET", "DELETE"):
        status, body = await call(http, emu, method, "/assistant/assistants/ghost")
        assert_error(status, body, 404, "NOT_FOUND")
        assert "ghost" in body["error"]["message"]


@pytest.mark.parametrize(
    ("key", "keys"),
    [(None, (KEY,)), ("", (KEY,)), ("wrong", (KEY,)), (None, ())],
)
async def test_auth_rejected(
    http: aiohttp.ClientSession, key: str | None, keys: tuple[str, ...]
) -> None:
    async with Emulator(api_keys=keys) as emu:
        status, body = await call(http, emu, "GET", "/assistant/assistants", key=key)
        assert_error(status, body, 401, "UNAUTHENTICATED")
        assert "wrong" not in str(body)


async def test_any_key_when_keys_empty(http: aiohttp.ClientSession) -> None:
    async with Emulator(api_keys=()) as emu:
        status, _ = await call(http, emu, "GET", "/assistant/assistants", key="anything")
        assert status == 200


async def test_several_keys(http: aiohttp.ClientSession) -> None:
    async with Emulator(api_keys=("one", "two")) as emu:
        for key in ("one", "two"):
            status, _ = await call(http, emu, "GET", "/assistant/assistants", key=key)
            assert status == 200


@pytest.mark.parametrize(
    ("header", "served_2026"),
    [
        (None, False),
        ("2025-04", False),
        ("2025-10", False),
        ("2026-04", True),
        ("2026-07", True),
        ("2099-01", True),
    ],
)
async def test_version_resolution(
    emu: Emulator, http: aiohttp.ClientSession, header: str | None, served_2026: bool
) -> None:
    await call(http, emu, "POST", "/assistant/assistants", json={"name": "a"})
    status, body = await call(http, emu, "GET", "/assistant/assistants/a", version=header)
    assert status == 200
    assert ("region" in body) == served_2026


@pytest.mark.parametrize("header", ["2024-07", "2025-07", "garbage", "2025-1O", "latest"])
async def test_bad_versions(emu: Emulator, http: aiohttp.ClientSession, header: str) -> None:
    status, body = await call(http, emu, "GET", "/assistant/assistants", version=header)
    assert_error(status, body, 400, "INVALID_ARGUMENT")
    assert "2025-10" in body["error"]["message"]


@pytest.mark.parametrize("duplicate_status", [409, 429])
async def test_duplicate(http: aiohttp.ClientSession, duplicate_status: int) -> None:
    async with Emulator(duplicate_status=duplicate_status) as emu:
        payload = {"name": "dup"}
        status, _ = await call(http, emu, "POST", "/assistant/assistants", json=payload, key="k")
        assert status == 200
        status, body = await call(http, emu, "POST", "/assistant/assistants", json=payload, key="k")
        assert_error(status, body, duplicate_status, "ALREADY_EXISTS")


async def test_quota(http: aiohttp.ClientSession) -> None:
    async with Emulator(quota=2, delete_delay=0.0) as emu:
        for name in ("a", "b"):
            status, _ = await call(
                http, emu, "POST", "/assistant/assistants", json={"name": name}, key="k"
            )
            assert status == 200
        status, body = await call(
            http, emu, "POST", "/assistant/assistants", json={"name": "c"}, key="k"
        )
        assert_error(status, body, 429, "QUOTA_EXCEEDED")
        await call(http, emu, "DELETE", "/assistant/assistants/a", key="k")
        status, _ = await call(
            http, emu, "POST", "/assistant/assistants", json={"name": "c"}, key="k"
        )
        assert status == 200


async def wait_for_status(
    http: aiohttp.ClientSession, emu: Emulator, name: str, wanted: str | None
) -> None:
    deadline = time.monotonic() + 10
    for _ in range(200):
        status, body = await call(http, emu, "GET", f"/assistant/assistants/{name}")
        current = body["status"] if status == 200 else None
        if current == wanted:
            return
        assert time.monotonic() < deadline, f"{name} stuck in {current}"
        await asyncio.sleep(0.05)
    raise AssertionError(f"{name} never reached {wanted}")


async def test_lifecycle_with_delays(http: aiohttp.ClientSession) -> None:
    async with Emulator(ready_delay=0.3, delete_delay=0.3) as emu:
        status, body = await call(
            http, emu, "POST", "/assistant/assistants", json={"name": "slow"}, key="k"
        )
        assert (status, body["status"]) == (200, "Initializing")
        await wait_for_status(http, emu, "slow", "Ready")
        await call(http, emu, "DELETE", "/assistant/assistants/slow", key="k")
        status, body = await call(http, emu, "GET", "/assistant/assistants/slow", key="k")
        assert (status, body["status"]) == (200, "Terminating")
        await wait_for_status(http, emu, "slow", None)


async def test_failed_assistant(emu: Emulator, http: aiohttp.ClientSession) -> None:
    await call(http, emu, "POST", "/assistant/assistants", json={"name": "a"})
    emu.store.fail_assistant("a", "InitializationFailed")
    status, body = await call(http, emu, "GET", "/assistant/assistants/a")
    assert (status, body["status"]) == (200, "InitializationFailed")


async def test_pagination_2026(emu: Emulator, http: aiohttp.ClientSession) -> None:
    names = [f"a{i}" for i in range(7)]
    for name in names:
        await call(http, emu, "POST", "/assistant/assistants", json={"name": name})
    seen: list[str] = []
    token: str | None = None
    for _ in range(10):
        params = {"limit": "3"}
        if token:
            params["pagination_token"] = token
        status, body = await call(
            http, emu, "GET", "/assistant/assistants", version="2026-04", params=params
        )
        assert status == 200
        assert len(body["assistants"]) <= 3
        seen += [a["name"] for a in body["assistants"]]
        token = body.get("pagination", {}).get("next")
        if token is None:
            break
    assert seen == names
    # Older versions return everything in one response, without pagination.
    status, body = await call(http, emu, "GET", "/assistant/assistants", params={"limit": "3"})
    assert len(body["assistants"]) == 7
    assert "pagination" not in body


@pytest.mark.parametrize(
    "params", [{"limit": "0"}, {"limit": "101"}, {"limit": "x"}, {"pagination_token": "!!"}]
)
async def test_pagination_bad_params(
    emu: Emulator, http: aiohttp.ClientSession, params: dict[str, str]
) -> None:
    status, body = await call(
        http, emu, "GET", "/assistant/assistants", version="2026-04", params=params
    )
    assert_error(status, body, 400, "INVALID_ARGUMENT")


async def test_unknown_route_and_method(emu: Emulator, http: aiohttp.ClientSession) -> None:
    status, body = await call(http, emu, "GET", "/nowhere")
    assert_error(status, body, 404, "NOT_FOUND")
    status, body = await call(http, emu, "PUT", "/assistant/assistants")
    assert status == 405
    assert body["status"] == 405
    assert body["error"]["message"]


async def test_config_object_and_overrides() -> None:
    config = EmulatorConfig(api_keys=("a",), quota=3)
    emu = Emulator(config=config, quota=5)
    assert emu.config.quota == 5
    assert emu.config.api_keys == ("a",)
    with pytest.raises(RuntimeError):
        _ = emu.url


@pytest.mark.parametrize(
    "kwargs",
    [
        {"ready_delay": -1},
        {"duplicate_status": 400},
        {"rate_limits": "gold"},
        {"quota": -1},
        {"time_scale": 0},
    ],
)
def test_config_validation(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        EmulatorConfig(**kwargs)


def test_in_thread_serves_sync_code() -> None:
    import urllib.request

    with Emulator(api_keys=(KEY,)).in_thread() as emu:
        emu.store.create_assistant("from-thread")
        request = urllib.request.Request(
            emu.url + "/assistant/assistants/from-thread", headers={"Api-Key": KEY}
        )
        with urllib.request.urlopen(request, timeout=10) as resp:
            assert resp.status == 200
            assert b"from-thread" in resp.read()
        assert emu.call(len, emu.store) == 1
