"""What an upload puts on the wire, read by aiohttp's own multipart parser on a real socket:
Content-Length (never chunked), the parts, and an identical body on every retry."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import BodyPartReader, web

from aiopinecone import AsyncPinecone, RetryPolicy

FILE_JSON = {"id": "f1", "name": "x", "status": "Processing"}
OPERATION_JSON = {"id": "op1", "status": "Completed", "operation_type": "upsert_file"}


class UploadServer:
    def __init__(self) -> None:
        self.uploads: list[dict[str, Any]] = []
        self.lists = 0
        self.fail_first = 0
        self.stall = False
        self.release = asyncio.Event()
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def describe(self, request: web.Request) -> web.Response:
        return web.json_response({"name": "a", "status": "Ready", "host": self.url})

    async def upload(self, request: web.Request) -> web.Response:
        if self.stall:
            await self.release.wait()
            raise web.HTTPServiceUnavailable()
        seen: dict[str, Any] = {
            "method": request.method,
            "query": dict(request.query),
            "content_length": request.headers.get("Content-Length"),
            "transfer_encoding": request.headers.get("Transfer-Encoding"),
            "parts": [],
        }
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            assert isinstance(part, BodyPartReader)
            data = await part.read()
            seen["parts"].append(
                {
                    "name": part.name,
                    "filename": part.filename,
                    "content_type": part.headers.get("Content-Type"),
                    "size": len(data),
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "text": data.decode() if part.name == "metadata" else None,
                }
            )
        self.uploads.append(seen)
        if self.fail_first:
            self.fail_first -= 1
            return web.json_response(
                {"error": {"code": "UNAVAILABLE", "message": "try again"}, "status": 503},
                status=503,
            )
        if request.method == "PUT":
            return web.json_response(OPERATION_JSON, status=202)
        return web.json_response(FILE_JSON)

    async def list_files(self, request: web.Request) -> web.Response:
        self.lists += 1
        return web.json_response({"files": []})

    async def describe_file(self, request: web.Request) -> web.Response:
        return web.json_response({**FILE_JSON, "id": request.match_info["fid"]})

    async def __aenter__(self) -> UploadServer:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/assistant/assistants/{name}", self.describe)
        app.router.add_post("/assistant/files/{name}", self.upload)
        app.router.add_get("/assistant/files/{name}", self.list_files)
        app.router.add_put("/assistant/files/{name}/{fid}", self.upload)
        app.router.add_get("/assistant/files/{name}/{fid}", self.describe_file)
        self._runner = web.AppRunner(app, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()


@pytest.fixture
async def server() -> AsyncIterator[UploadServer]:
    async with UploadServer() as srv:
        yield srv


async def test_parts_and_content_length(server: UploadServer, tmp_path: Path) -> None:
    data = os.urandom(700_000)
    path = tmp_path / "r\u00e9sum\u00e9 (v2).pdf"
    path.write_bytes(data)
    async with AsyncPinecone(api_key="k", host=server.url, api_version="2026-04") as pc:
        await pc.assistants.upload_file(
            assistant_name="a", file_path=path, metadata={"team": "x"}, multimodal=True
        )
    [seen] = server.uploads
    assert seen["transfer_encoding"] is None
    assert seen["content_length"] is not None
    assert int(seen["content_length"]) > len(data)
    assert seen["query"] == {"multimodal": "true"}
    metadata, file = seen["parts"]
    assert (metadata["name"], metadata["text"]) == ("metadata", '{"team":"x"}')
    assert file["name"] == "file"
    assert file["filename"] == "r\u00e9sum\u00e9 (v2).pdf"  # UTF-8, as it is
    assert file["content_type"] == "application/pdf"
    assert (file["size"], file["sha256"]) == (len(data), hashlib.sha256(data).hexdigest())


@pytest.mark.parametrize("version", ["2025-10", "2026-04"])
async def test_every_retry_sends_the_whole_body_again(
    server: UploadServer, version: str, instant_retries: None
) -> None:
    async def stream() -> AsyncIterator[bytes]:
        for _ in range(40):
            yield os.urandom(50_000)

    server.fail_first = 2
    async with AsyncPinecone(api_key="k", host=server.url, api_version=version) as pc:
        await pc.assistants.upload_file(assistant_name="a", file=stream(), file_name="s.md")
    assert len(server.uploads) == 3
    files = [next(p for p in u["parts"] if p["name"] == "file") for u in server.uploads]
    assert {f["size"] for f in files} == {2_000_000}
    assert len({f["sha256"] for f in files}) == 1
    # On 2025-10 a 503 is ambiguous: the client lists the files before each re-send (this
    # server lists none, so the upload did not land). 2026-04 re-sends an idempotent PUT.
    assert server.lists == (2 if version == "2025-10" else 0)


async def test_cancelled_upload_propagates_and_leaves_the_client_usable(
    server: UploadServer, tmp_path: Path
) -> None:
    path = tmp_path / "big.txt"
    path.write_bytes(os.urandom(8 * 1024 * 1024))
    server.stall = True
    async with AsyncPinecone(
        api_key="k", host=server.url, retry=RetryPolicy.none(), max_connections=1
    ) as pc:
        task = asyncio.create_task(
            pc.assistants.upload_file(assistant_name="a", file_path=path, check_limits=False)
        )
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        server.stall = False
        server.release.set()
        await asyncio.wait_for(
            pc.assistants.upload_file(assistant_name="a", file=b"ok", file_name="ok.txt"), 10
        )
    assert server.uploads[-1]["parts"][0]["size"] == 2
