"""Hostile input to the emulator: a 4xx error envelope every time, never a 500 or a traceback.

Malformed JSON, huge bodies, broken multipart, path tricks (``..``, ``%2F``, NUL, very long
names, bytes that are not UTF-8), wrong content types, broken headers. Requests go through
aiohttp's client where it can build them, and through a raw socket where it refuses to.
The emulator's own error log must stay empty and it must keep serving afterwards.
(``test_emulator_robustness.py`` fuzzes bodies and query strings; this file covers the rest.)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aiopinecone.emulator import Emulator

KEY = "hostile-key"
LIMIT = 64 * 1024
HEADERS = {"Api-Key": KEY}


@pytest.fixture
def emulator_errors(caplog: pytest.LogCaptureFixture) -> Iterator[list[logging.LogRecord]]:
    """ERROR records of the emulator and of aiohttp's server (handler crashes)."""
    caplog.set_level(logging.ERROR)
    records: list[logging.LogRecord] = []
    yield records
    records.extend(
        r
        for r in caplog.records
        if r.levelno >= logging.ERROR and r.name.startswith(("aiopinecone.emulator", "aiohttp.web"))
    )
    assert not records, [r.getMessage() for r in records]


@pytest.fixture
async def emu(emulator_errors: list[logging.LogRecord]) -> AsyncIterator[Emulator]:
    async with Emulator(api_keys=(KEY,), max_body_size=LIMIT) as emulator:
        emulator.store.create_assistant("target")
        emulator.store.put_file("target", name="doc.txt", content=b"Known content.", file_id="f1")
        yield emulator
    assert not emulator.log.filter(outcome="error")


def check_envelope(status: int, body: bytes, where: str) -> None:
    assert 400 <= status < 500, f"{where}: {status} {body[:200]!r}"
    assert b"Traceback" not in body, where
    data: Any = orjson.loads(body)
    assert data["status"] == status, where
    assert isinstance(data["error"]["code"], str), where
    assert isinstance(data["error"]["message"], str), where
    assert data["error"]["message"], where


async def send(
    emu: Emulator,
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> tuple[int, bytes]:
    async with (
        aiohttp.ClientSession() as session,
        session.request(
            method,
            emu.url + path,
            data=body,
            headers={**HEADERS, **(headers or {})},
            allow_redirects=False,
        ) as response,
    ):
        return response.status, await response.read()


async def raw(emu: Emulator, request: bytes) -> tuple[int, bytes]:
    """Send bytes as they are; return the status and body of the answer."""
    host, port = emu.url.removeprefix("http://").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(request)
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
        await writer.wait_closed()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


async def still_serving(emu: Emulator) -> None:
    status, body = await send(emu, "GET", "/assistant/assistants/target")
    assert status == 200
    assert orjson.loads(body)["name"] == "target"


# -- bodies --------------------------------------------------------------------------------------

JSON_ROUTES = [
    ("POST", "/assistant/assistants"),
    ("PATCH", "/assistant/assistants/target"),
    ("POST", "/assistant/chat/target"),
    ("POST", "/assistant/chat/target/chat/completions"),
    ("POST", "/assistant/chat/target/context"),
    ("POST", "/assistant/evaluation/metrics/alignment"),
]
BAD_BODIES = [
    b"{",
    b'{"name": ',
    b"\xff\xfe\x00",
    b"[" * 5000 + b"]" * 5000,
    b'{"a": ' * 2000 + b"1" + b"}" * 2000,
    b'{"name": "x", "metadata": {"n": 1e999}}',
    b'{"name": "x", "metadata": {"n": 123456789012345678901234567890}}',
    b'"just a string"',
    b"null",
    b'{"name": "\\ud800"}',
    b'{"messages": [{"role": "user", "content": "\\ud800"}]}',
]


@pytest.mark.parametrize(("method", "path"), JSON_ROUTES)
async def test_malformed_json_gets_a_400_envelope(emu: Emulator, method: str, path: str) -> None:
    for body in BAD_BODIES:
        for content_type in ("application/json", "text/plain", "application/x-www-form-urlencoded"):
            status, answer = await send(emu, method, path, body, {"Content-Type": content_type})
            if status < 400:  # e.g. a lone-surrogate escape is valid JSON text to some parsers
                continue
            check_envelope(status, answer, f"{method} {path} {body[:30]!r}")
    await still_serving(emu)


@pytest.mark.parametrize(("method", "path"), [*JSON_ROUTES, ("POST", "/assistant/files/target")])
async def test_huge_bodies_get_a_413_envelope(emu: Emulator, method: str, path: str) -> None:
    status, answer = await send(emu, method, path, b"x" * (LIMIT + 1))
    check_envelope(status, answer, path)
    assert status == 413
    await still_serving(emu)


# -- multipart -----------------------------------------------------------------------------------

B = "zz"
MULTIPART = {"Content-Type": f"multipart/form-data; boundary={B}"}


def part(headers: bytes, content: bytes) -> bytes:
    return b"--" + B.encode() + b"\r\n" + headers + b"\r\n\r\n" + content + b"\r\n"


END = b"--" + B.encode() + b"--\r\n"
FILE_HEADER = b'Content-Disposition: form-data; name="file"; filename="a.txt"'
BAD_MULTIPART = {
    "no boundary": (b"garbage", {"Content-Type": "multipart/form-data"}),
    "wrong boundary": (
        part(FILE_HEADER, b"x") + END,
        {"Content-Type": "multipart/form-data; boundary=yy"},
    ),
    "garbage": (b"\x00\x01\x02" * 50, MULTIPART),
    "truncated": (part(FILE_HEADER, b"hello")[:-10], MULTIPART),
    "no end": (part(FILE_HEADER, b"hello"), MULTIPART),
    "nul in header": (part(FILE_HEADER.replace(b"a.txt", b"a\x00.txt"), b"x") + END, MULTIPART),
    "control in header": (part(FILE_HEADER.replace(b"a.txt", b"a\x1b.txt"), b"x") + END, MULTIPART),
    "bad utf-8 in header": (
        part(FILE_HEADER.replace(b'filename="a.txt"', b'filename="  \x80'), b"") + END,
        MULTIPART,
    ),
    "no filename": (part(b'Content-Disposition: form-data; name="file"', b"x") + END, MULTIPART),
    "no file part": (part(b'Content-Disposition: form-data; name="other"', b"x") + END, MULTIPART),
    "two files": (part(FILE_HEADER, b"x") + part(FILE_HEADER, b"y") + END, MULTIPART),
    "empty file": (part(FILE_HEADER, b"") + END, MULTIPART),
    "bad extension": (
        part(FILE_HEADER.replace(b"a.txt", b"a.exe"), b"x") + END,
        MULTIPART,
    ),
    "nested": (
        part(
            b'Content-Disposition: form-data; name="file"\r\n'
            b"Content-Type: multipart/mixed; boundary=yy",
            b"--yy\r\n\r\nx\r\n--yy--",
        )
        + END,
        MULTIPART,
    ),
    "header too long": (part(b"X-Long: " + b"a" * 20_000, b"x") + END, MULTIPART),
    "many parts": (part(b'Content-Disposition: form-data; name="x"', b"y") * 3000 + END, MULTIPART),
    "json instead": (b'{"file": "x"}', {"Content-Type": "application/json"}),
    "bad metadata part": (
        part(b'Content-Disposition: form-data; name="metadata"', b"{not json")
        + part(FILE_HEADER, b"x")
        + END,
        MULTIPART,
    ),
}


@pytest.mark.parametrize("version", ["2025-10", "2026-04"])
@pytest.mark.parametrize("case", sorted(BAD_MULTIPART))
async def test_broken_uploads_get_a_400_envelope(emu: Emulator, case: str, version: str) -> None:
    body, headers = BAD_MULTIPART[case]
    headers = {**headers, "X-Pinecone-Api-Version": version}
    path = "/assistant/files/target" + ("/new-id" if version == "2026-04" else "")
    method = "PUT" if version == "2026-04" else "POST"
    status, answer = await send(emu, method, path, body, headers)
    check_envelope(status, answer, case)
    assert not emu.store.list_files("target")[1:], f"{case}: something was stored"
    await still_serving(emu)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    parts=st.lists(
        st.tuples(
            st.binary(max_size=80).filter(lambda b: b"\r\n" not in b),
            st.binary(max_size=40),
        ),
        max_size=4,
    ),
    end=st.booleans(),
    cut=st.integers(0, 400),
)
def test_random_multipart_bodies_never_crash_the_emulator(
    parts: list[tuple[bytes, bytes]], end: bool, cut: int
) -> None:
    async def go() -> None:
        async with Emulator(api_keys=(KEY,), max_body_size=LIMIT) as emu:
            emu.store.create_assistant("target")
            body = b"".join(
                part(b'Content-Disposition: form-data; name="file"; filename="' + h + b'"', c)
                for h, c in parts
            )
            body = (body + (END if end else b""))[: cut or None]
            status, answer = await send(emu, "POST", "/assistant/files/target", body, MULTIPART)
            if status != 200:
                check_envelope(status, answer, repr(body[:60]))
            assert not emu.log.filter(outcome="error")

    asyncio.run(go())


# -- paths and headers ----------------------------------------------------------------------------

PATH_TRICKS = [
    "/assistant/assistants/..",
    "/assistant/assistants/%2E%2E",
    "/assistant/assistants/target/..%2F..%2Fassistants",
    "/assistant/files/target/%2F",
    "/assistant/files/target/..%2Ff1",
    "/assistant/files/target/%00",
    "/assistant/files/target/%ff%fe",
    "/assistant/assistants/" + "a" * 4000,
    "/assistant/files/" + "%41" * 1000,
    "/assistant/chat/target/%2e%2e/context",
    "/assistant//assistants",
    "/assistant/assistants/TARGET",
    "/assistant/operations/target/%00",
]


@pytest.mark.parametrize("path", PATH_TRICKS)
@pytest.mark.parametrize("method", ["GET", "DELETE", "POST", "PUT", "PATCH"])
async def test_path_tricks_get_an_envelope_and_touch_nothing(
    emu: Emulator, method: str, path: str
) -> None:
    status, answer = await send(emu, method, path, b"{}", {"Content-Type": "application/json"})
    if status >= 400:
        check_envelope(status, answer, f"{method} {path[:60]}")
    assert "target" in emu.store, f"{method} {path}: the assistant was deleted"
    assert [f.id for f in emu.store.list_files("target")] == ["f1"]


RAW_REQUESTS = {
    "nul in path": b"GET /assistant/assistants/a\x00b HTTP/1.1\r\nHost: x\r\n",
    "long request line": b"GET /" + b"a" * 20_000 + b" HTTP/1.1\r\nHost: x\r\n",
    "bad method": b"G\x01T /assistant/assistants HTTP/1.1\r\nHost: x\r\n",
    "bad version": b"GET /assistant/assistants HTTP/9.9\r\nHost: x\r\n",
    "negative length": b"POST /assistant/assistants HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n",
    "bad chunk": (
        b"POST /assistant/assistants HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz"
    ),
    "huge header": b"GET /assistant/assistants HTTP/1.1\r\nHost: x\r\nX-Big: "
    + b"a" * 20_000
    + b"\r\n",
    "utf-8 key": "GET /assistant/assistants HTTP/1.1\r\nHost: x\r\nApi-Key: ключ\r\n".encode(),
    "latin-1 key": b"GET /assistant/assistants HTTP/1.1\r\nHost: x\r\nApi-Key: k\xff\xfe\r\n",
    "control in key": b"GET /assistant/assistants HTTP/1.1\r\nHost: x\r\nApi-Key: k\x01y\r\n",
    "binary version": (
        b"GET /assistant/assistants HTTP/1.1\r\nHost: x\r\nApi-Key: hostile-key\r\n"
        b"X-Pinecone-Api-Version: \xff\xfe\r\n"
    ),
}


@pytest.mark.parametrize("case", sorted(RAW_REQUESTS))
async def test_broken_http_gets_a_4xx_without_a_traceback(emu: Emulator, case: str) -> None:
    status, body = await raw(emu, RAW_REQUESTS[case] + b"Connection: close\r\n\r\n")
    assert 400 <= status < 500, f"{case}: {status} {body[:200]!r}"
    assert b"Traceback" not in body
    if body.startswith(b"{"):  # reached the application: the envelope
        check_envelope(status, body, case)
    await still_serving(emu)


@pytest.mark.parametrize(
    "path",
    [
        b"/__emulator/../assistant/assistants/target",
        b"/__emulator/%2E%2E/assistant/assistants/target",
        b"/__emulator/..%2Fassistant/assistants/target",
        b"/assistant/../__emulator/state",
    ],
)
async def test_the_admin_prefix_is_no_way_around_the_key(emu: Emulator, path: bytes) -> None:
    """Admin routes need no key; dot segments must not turn that into keyless API access."""
    status, body = await raw(
        emu, b"DELETE " + path + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    check_envelope(status, body, repr(path))
    assert "target" in emu.store


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    segment=st.one_of(
        st.text(max_size=30),
        st.binary(max_size=30).map(lambda b: "".join(f"%{c:02X}" for c in b)),
        st.sampled_from(["..", ".", "%2e", "%2F", "%00", "~", "*", "{name}"]),
    ),
    route=st.sampled_from(
        [
            "/assistant/assistants/{}",
            "/assistant/files/target/{}",
            "/assistant/files/{}",
            "/assistant/operations/target/{}",
            "/assistant/chat/{}",
            "/assistant/chat/{}/context",
        ]
    ),
    method=st.sampled_from(["GET", "DELETE", "POST", "PUT", "PATCH"]),
    version=st.sampled_from(["2025-04", "2025-10", "2026-04"]),
)
def test_random_path_segments_get_envelopes(
    segment: str, route: str, method: str, version: str
) -> None:
    async def go() -> None:
        async with Emulator(api_keys=(KEY,)) as emu:
            emu.store.create_assistant("target")
            path = route.format(segment.replace("/", "%2F").replace("?", "%3F").replace("#", "%23"))
            try:
                status, body = await send(
                    emu,
                    method,
                    path,
                    b"{}",
                    {"Content-Type": "application/json", "X-Pinecone-Api-Version": version},
                )
            except (ValueError, aiohttp.InvalidURL):
                return  # aiohttp's client refuses to build this request at all
            assert status < 500, f"{method} {path}: {status} {body[:200]!r}"
            if status >= 400:
                check_envelope(status, body, f"{method} {path}")
            assert not emu.log.filter(outcome="error")

    asyncio.run(go())


@pytest.mark.parametrize("file_id", ["{x}", "%7B", "}", "a{b}c"])
async def test_any_file_id_text_reaches_the_files_routes(emu: Emulator, file_id: str) -> None:
    status, body = await send(emu, "GET", "/assistant/files/target/" + file_id)
    check_envelope(status, body, file_id)
    assert "File with id" in orjson.loads(body)["error"]["message"], body
