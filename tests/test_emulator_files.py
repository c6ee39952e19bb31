"""Emulator files and operations over real sockets, in all three API versions, with bad input."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from multidict import CIMultiDictProxy

from aiopinecone.emulator import FAIL_MARKER, Emulator

KEY = "test-key"
OLD = ("2025-04", "2025-10")
ALL = (*OLD, "2026-04")
DOC = b"Returns are accepted within 30 days.\n\nShipping takes 5 business days.\n"


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(api_keys=(KEY,), delete_delay=0.0) as emulator:
        emulator.store.create_assistant("docs")
        yield emulator


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers={"Api-Key": KEY}) as session:
        yield session


async def request(
    http: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    version: str = "2025-10",
    **kwargs: Any,
) -> tuple[int, Any, CIMultiDictProxy[str]]:
    headers = {"X-Pinecone-Api-Version": version}
    async with http.request(method, url, headers=headers, **kwargs) as resp:
        raw = await resp.read()
        body = json.loads(raw) if raw and resp.content_type == "application/json" else raw
        return resp.status, body, resp.headers


def form(
    content: bytes = DOC, name: str = "faq.txt", metadata: dict[str, Any] | None = None
) -> aiohttp.FormData:
    data = aiohttp.FormData()
    data.add_field("file", content, filename=name, content_type="application/octet-stream")
    if metadata is not None:
        data.add_field("metadata", json.dumps(metadata))
    return data


async def upload(
    http: aiohttp.ClientSession,
    emu: Emulator,
    version: str,
    *,
    content: bytes = DOC,
    name: str = "faq.txt",
    metadata: dict[str, Any] | None = None,
    assistant: str = "docs",
) -> str:
    """Upload the way ``version`` wants it; return the new file id."""
    url = f"{emu.url}/assistant/files/{assistant}"
    if version == "2026-04":
        status, body, headers = await request(
            http, "POST", url, version=version, data=form(content, name, metadata)
        )
        assert status == 202, body
        assert body["operation_type"] == "upload_file"
        assert headers["Location"] == f"/assistant/operations/{assistant}/{body['id']}"
        return str(body["file_id"])
    params = {"metadata": json.dumps(metadata)} if metadata is not None else None
    status, body, _ = await request(
        http, "POST", url, version=version, data=form(content, name), params=params
    )
    assert status == 200, body
    assert body["name"] == name
    assert body["metadata"] == metadata
    return str(body["id"])


def assert_error(status: int, body: Any, expected: int, code: str) -> None:
    assert status == expected, body
    assert body["status"] == expected
    assert body["error"]["code"] == code
    assert body["error"]["message"]


@pytest.mark.parametrize("version", ALL)
async def test_file_lifecycle(emu: Emulator, http: aiohttp.ClientSession, version: str) -> None:
    file_id = await upload(http, emu, version, metadata={"team": "ops", "year": 2024})
    base = f"{emu.url}/assistant/files/docs"
    status, body, _ = await request(http, "GET", f"{base}/{file_id}", version=version)
    assert status == 200
    assert body["status"] == "Available"
    assert body["signed_url"] is None
    assert body["created_on"].endswith("Z")
    if version == "2026-04":
        assert body["size"] == len(DOC)
        assert "percent_done" not in body
    else:
        assert body["percent_done"] == 1.0
        assert "size" not in body

    status, body, _ = await request(http, "GET", base, version=version)
    assert status == 200
    assert [f["id"] for f in body["files"]] == [file_id]

    status, body, _ = await request(
        http, "GET", f"{base}/{file_id}", version=version, params={"include_url": "true"}
    )
    assert status == 200
    async with http.get(body["signed_url"]) as resp:
        assert resp.status == 200
        assert await resp.read() == DOC

    status, body, _ = await request(http, "DELETE", f"{base}/{file_id}", version=version)
    if version == "2026-04":
        assert status == 202
        assert body["operation_type"] == "delete_file"
        assert body["status"] == "Completed"
    else:
        assert status == 200
    status, body, _ = await request(http, "GET", f"{base}/{file_id}", version=version)
    assert_error(status, body, 404, "NOT_FOUND")


async def test_signed_url_rejects_a_bad_signature(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    file_id = await upload(http, emu, "2025-10")
    async with http.get(f"{emu.url}/__emulator/signed/docs/{file_id}?sig=nope") as resp:
        assert resp.status == 403


@pytest.mark.parametrize("version", ALL)
async def test_list_filter(emu: Emulator, http: aiohttp.ClientSession, version: str) -> None:
    a = await upload(http, emu, version, metadata={"team": "ops", "n": 1})
    b = await upload(http, emu, version, metadata={"team": "sales", "n": 5})
    c = await upload(http, emu, version)
    url = f"{emu.url}/assistant/files/docs"
    cases: list[tuple[dict[str, Any], list[str]]] = [
        ({"team": "ops"}, [a]),
        ({"team": {"$eq": "sales"}}, [b]),
        ({"team": {"$ne": "ops"}}, [b]),
        ({"team": {"$in": ["ops", "sales"]}}, [a, b]),
        ({"team": {"$nin": ["ops"]}}, [b]),
        ({"n": {"$gt": 2}}, [b]),
        ({"n": {"$lte": 1}}, [a]),
        ({"team": {"$exists": False}}, [c]),
        ({"$or": [{"n": 1}, {"n": 5}]}, [a, b]),
        ({"$and": [{"team": "ops"}, {"n": 5}]}, []),
    ]
    for spec, expected in cases:
        status, body, _ = await request(
            http, "GET", url, version=version, params={"filter": json.dumps(spec)}
        )
        assert status == 200, body
        assert [f["id"] for f in body["files"]] == expected, spec


@pytest.mark.parametrize(
    "spec", ["{bad", "[1]", '{"a": {"$regex": "x"}}', '{"$or": {}}', '{"a": {"$gt": "x"}}']
)
async def test_list_filter_invalid(emu: Emulator, http: aiohttp.ClientSession, spec: str) -> None:
    status, body, _ = await request(
        http, "GET", f"{emu.url}/assistant/files/docs", params={"filter": spec}
    )
    assert_error(status, body, 400, "INVALID_ARGUMENT")


async def test_list_pagination_2026(emu: Emulator, http: aiohttp.ClientSession) -> None:
    ids = [await upload(http, emu, "2026-04") for _ in range(5)]
    seen: list[str] = []
    token = None
    for _ in range(10):
        params = {"limit": "2", **({"pagination_token": token} if token else {})}
        status, body, _ = await request(
            http, "GET", f"{emu.url}/assistant/files/docs", version="2026-04", params=params
        )
        assert status == 200
        seen += [f["id"] for f in body["files"]]
        token = body.get("pagination", {}).get("next")
        if not token:
            break
    assert seen == ids


@pytest.mark.parametrize("version", OLD)
async def test_old_versions_want_metadata_in_query(
    emu: Emulator, http: aiohttp.ClientSession, version: str
) -> None:
    status, body, _ = await request(
        http,
        "POST",
        f"{emu.url}/assistant/files/docs",
        version=version,
        data=form(metadata={"a": 1}),
    )
    assert_error(status, body, 400, "INVALID_ARGUMENT")
    assert "query parameter" in body["error"]["message"]


async def test_2026_wants_metadata_in_multipart(emu: Emulator, http: aiohttp.ClientSession) -> None:
    status, body, _ = await request(
        http,
        "POST",
        f"{emu.url}/assistant/files/docs",
        version="2026-04",
        data=form(),
        params={"metadata": "{}"},
    )
    assert_error(status, body, 400, "INVALID_ARGUMENT")
    assert "multipart" in body["error"]["message"]


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"data": b"not multipart"}, "multipart"),
        ({"json": {"file": "x"}}, "multipart"),
        ({"data": form(name="virus.exe")}, "Unsupported file type"),
        ({"data": form(content=b"")}, "empty"),
        ({"data": form(), "params": {"metadata": "{nope"}}, "JSON"),
        ({"data": form(), "params": {"metadata": "[1]"}}, "object"),
        ({"data": form(), "params": {"multimodal": "maybe"}}, "multimodal"),
        ({"data": form(), "params": {"multimodal": "true"}}, "PDF"),
    ],
)
async def test_upload_validation(
    emu: Emulator, http: aiohttp.ClientSession, kwargs: dict[str, Any], fragment: str
) -> None:
    status, body, _ = await request(http, "POST", f"{emu.url}/assistant/files/docs", **kwargs)
    assert_error(status, body, 400, "INVALID_ARGUMENT")
    assert fragment in body["error"]["message"]
    assert emu.store.list_files("docs") == []


async def test_upload_without_file_part(emu: Emulator, http: aiohttp.ClientSession) -> None:
    data = aiohttp.FormData()
    data.add_field("other", b"x", filename="x.txt")
    status, body, _ = await request(http, "POST", f"{emu.url}/assistant/files/docs", data=data)
    assert_error(status, body, 400, "INVALID_ARGUMENT")
    assert "'file'" in body["error"]["message"]


async def test_upload_too_large() -> None:
    async with (
        Emulator(max_body_size=1024) as emu,
        aiohttp.ClientSession(headers={"Api-Key": "k"}) as http,
    ):
        emu.store.create_assistant("docs")
        status, body, _ = await request(
            http, "POST", f"{emu.url}/assistant/files/docs", data=form(content=b"x" * 4096)
        )
        assert_error(status, body, 413, "INVALID_ARGUMENT")
        # JSON endpoints have the same limit.
        status, body, _ = await request(
            http,
            "POST",
            f"{emu.url}/assistant/assistants",
            json={"name": "big", "instructions": "y" * 4096},
        )
        assert_error(status, body, 413, "INVALID_ARGUMENT")
        assert emu.store.list_files("docs") == []


async def test_upload_to_missing_or_unready_assistant() -> None:
    async with (
        Emulator(ready_delay=30) as emu,
        aiohttp.ClientSession(headers={"Api-Key": "k"}) as http,
    ):
        status, body, _ = await request(
            http, "POST", f"{emu.url}/assistant/files/ghost", data=form()
        )
        assert_error(status, body, 404, "NOT_FOUND")
        emu.store.create_assistant("slow")
        status, body, _ = await request(
            http, "POST", f"{emu.url}/assistant/files/slow", data=form()
        )
        assert_error(status, body, 400, "FAILED_PRECONDITION")
        status, body, _ = await request(http, "GET", f"{emu.url}/assistant/files/ghost")
        assert_error(status, body, 404, "NOT_FOUND")


async def test_upsert_2026(emu: Emulator, http: aiohttp.ClientSession) -> None:
    url = f"{emu.url}/assistant/files/docs/my-file_1"
    status, body, headers = await request(
        http, "PUT", url, version="2026-04", data=form(metadata={"v": 1})
    )
    assert status == 202, body
    assert headers["Location"].startswith("/assistant/operations/docs/op-")
    assert (body["operation_type"], body["file_id"]) == ("upsert_file", "my-file_1")
    first = emu.store.get_file("docs", "my-file_1")
    status, body, _ = await request(
        http, "PUT", url, version="2026-04", data=form(b"New text.", "v2.md", {"v": 2})
    )
    assert status == 202
    status, body, _ = await request(http, "GET", url, version="2026-04")
    assert (body["name"], body["metadata"], body["size"]) == ("v2.md", {"v": 2}, 9)
    assert emu.store.get_file("docs", "my-file_1").created_on == first.created_on
    assert len(emu.store.list_files("docs")) == 1


@pytest.mark.parametrize("file_id", ["bad id", "x" * 129, "dots.not.ok"])
async def test_upsert_bad_id(emu: Emulator, http: aiohttp.ClientSession, file_id: str) -> None:
    status, body, _ = await request(
        http, "PUT", f"{emu.url}/assistant/files/docs/{file_id}", version="2026-04", data=form()
    )
    assert_error(status, body, 400, "INVALID_ARGUMENT")


@pytest.mark.parametrize("version", OLD)
async def test_upsert_not_in_old_versions(
    emu: Emulator, http: aiohttp.ClientSession, version: str
) -> None:
    status, body, _ = await request(
        http, "PUT", f"{emu.url}/assistant/files/docs/abc", version=version, data=form()
    )
    assert status == 405
    assert body["status"] == 405
    assert "2026-04" in body["error"]["message"]


async def poll(
    http: aiohttp.ClientSession, url: str, version: str, until: str, field: str = "status"
) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    for _ in range(400):
        status, body, _ = await request(http, "GET", url, version=version)
        assert status == 200, body
        if body[field] == until:
            return dict(body)
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)
    raise AssertionError(f"{url} never reached {until}")


async def test_processing_and_operations_with_delays() -> None:
    async with (
        Emulator(file_processing_delay=0.3, delete_delay=0.3) as emu,
        aiohttp.ClientSession(headers={"Api-Key": "k"}) as http,
    ):
        emu.store.create_assistant("docs")
        status, op, _ = await request(
            http, "POST", f"{emu.url}/assistant/files/docs", version="2026-04", data=form()
        )
        assert (status, op["status"]) == (202, "Processing")
        assert 0 <= op["percent_complete"] < 100
        file_url = f"{emu.url}/assistant/files/docs/{op['file_id']}"
        status, body, _ = await request(http, "GET", file_url, version="2026-04")
        assert body["status"] == "Processing"
        ops_url = f"{emu.url}/assistant/operations/docs"
        done = await poll(http, f"{ops_url}/{op['id']}", "2026-04", "Completed")
        assert done["percent_complete"] == 100
        assert "completed_on" in done
        status, body, _ = await request(http, "GET", file_url, version="2026-04")
        assert body["status"] == "Available"

        status, delete_op, _ = await request(http, "DELETE", file_url, version="2026-04")
        assert (status, delete_op["status"]) == (202, "Processing")
        status, body, _ = await request(http, "GET", file_url, version="2026-04")
        assert body["status"] == "Deleting"
        await poll(http, f"{ops_url}/{delete_op['id']}", "2026-04", "Completed")
        status, body, _ = await request(http, "GET", file_url, version="2026-04")
        assert_error(status, body, 404, "NOT_FOUND")

        status, body, _ = await request(
            http, "GET", ops_url, version="2026-04", params={"operation_type": "delete_file"}
        )
        assert [o["id"] for o in body["operations"]] == [delete_op["id"]]
        status, body, _ = await request(
            http, "GET", ops_url, version="2026-04", params={"status": "Completed"}
        )
        assert len(body["operations"]) == 2


async def test_processing_percent_done_old_version() -> None:
    async with (
        Emulator(file_processing_delay=30) as emu,
        aiohttp.ClientSession(headers={"Api-Key": "k"}) as http,
    ):
        emu.store.create_assistant("docs")
        status, body, _ = await request(
            http, "POST", f"{emu.url}/assistant/files/docs", version="2025-10", data=form()
        )
        assert (status, body["status"]) == (200, "Processing")
        assert 0.0 <= body["percent_done"] < 1.0


@pytest.mark.parametrize("version", ALL)
async def test_processing_failure_by_content(
    emu: Emulator, http: aiohttp.ClientSession, version: str
) -> None:
    file_id = await upload(http, emu, version, content=FAIL_MARKER.encode())
    status, body, _ = await request(
        http, "GET", f"{emu.url}/assistant/files/docs/{file_id}", version=version
    )
    assert body["status"] == "ProcessingFailed"
    if version != "2026-04":
        assert "fail" in body["error_message"]
    else:
        status, ops, _ = await request(
            http, "GET", f"{emu.url}/assistant/operations/docs", version=version
        )
        assert ops["operations"][0]["status"] == "Failed"
        assert ops["operations"][0]["error_message"]
        # Deleting a failed file is immediate: 204, no operation.
        status, _, _ = await request(
            http, "DELETE", f"{emu.url}/assistant/files/docs/{file_id}", version=version
        )
        assert status == 204


async def test_processing_failure_by_metadata_and_api(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    failed = await upload(http, emu, "2025-10", metadata={"emulator_fail": True})
    assert emu.store.get_file("docs", failed).status(emu.store.now()) == "ProcessingFailed"
    ok = await upload(http, emu, "2025-10")
    emu.store.fail_processing("docs", ok, "scanner exploded")
    status, body, _ = await request(http, "GET", f"{emu.url}/assistant/files/docs/{ok}")
    assert status == 200
    assert (body["status"], body["error_message"]) == ("ProcessingFailed", "scanner exploded")


async def test_operations_not_in_old_versions(emu: Emulator, http: aiohttp.ClientSession) -> None:
    status, body, _ = await request(http, "GET", f"{emu.url}/assistant/operations/docs")
    assert_error(status, body, 404, "NOT_FOUND")


@pytest.mark.parametrize(
    "params",
    [
        {"operation_type": "explode"},
        {"status": "Done"},
        {"limit": "0"},
        {"pagination_token": "zzz"},
    ],
)
async def test_operations_bad_params(
    emu: Emulator, http: aiohttp.ClientSession, params: dict[str, str]
) -> None:
    status, body, _ = await request(
        http, "GET", f"{emu.url}/assistant/operations/docs", version="2026-04", params=params
    )
    assert_error(status, body, 400, "INVALID_ARGUMENT")


async def test_not_found(emu: Emulator, http: aiohttp.ClientSession) -> None:
    for method, path, version in [
        ("GET", "/assistant/files/docs/nope", "2025-10"),
        ("DELETE", "/assistant/files/docs/nope", "2025-10"),
        ("GET", "/assistant/operations/docs/op-nope", "2026-04"),
        ("GET", "/assistant/operations/ghost", "2026-04"),
    ]:
        status, body, _ = await request(http, method, emu.url + path, version=version)
        assert_error(status, body, 404, "NOT_FOUND")


async def test_deleting_the_assistant_removes_its_files(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    file_id = await upload(http, emu, "2025-10")
    await request(http, "DELETE", f"{emu.url}/assistant/assistants/docs")
    emu.store.create_assistant("docs")
    status, body, _ = await request(http, "GET", f"{emu.url}/assistant/files/docs/{file_id}")
    assert_error(status, body, 404, "NOT_FOUND")
