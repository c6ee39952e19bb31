"""Multipart upload bodies: every source kind, replay, checks before any request."""

from __future__ import annotations

import email.parser
import email.policy
import io
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from aiopinecone._upload import (
    CHUNK_SIZE,
    SPOOL_MEMORY,
    UploadBody,
    prepare_upload,
)
from aiopinecone._upload_checks import check_file_name, max_file_size
from aiopinecone.exceptions import PineconeError, ValidationError

MiB = 1024 * 1024


async def collect(body: UploadBody) -> bytes:
    out = bytearray()
    async for chunk in body.stream():
        out += chunk
    return bytes(out)


def parse_form(body: UploadBody, raw: bytes) -> dict[str, tuple[str | None, str, bytes]]:
    """name -> (filename, content type, payload), parsed by the stdlib's MIME parser."""
    head = f"Content-Type: {body.content_type}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + raw)
    assert message.is_multipart()
    parts: dict[str, tuple[str | None, str, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        assert isinstance(name, str)
        assert isinstance(payload, bytes)
        parts[name] = (part.get_filename(), part.get_content_type(), payload)
    return parts


async def test_path_source_streams_and_replays(tmp_path: Path) -> None:
    data = os.urandom(3 * CHUNK_SIZE + 17)
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    body = await prepare_upload(file_path=path, fields=[("metadata", b'{"team":"x"}')])
    try:
        first = await collect(body)
        second = await collect(body)
    finally:
        await body.aclose()
    assert first == second
    assert len(first) == body.size
    parts = parse_form(body, first)
    assert list(parts) == ["metadata", "file"]
    assert parts["metadata"][2] == b'{"team":"x"}'
    assert parts["file"] == ("report.pdf", "application/pdf", data)


async def test_stream_yields_bounded_chunks(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_bytes(b"a" * (5 * CHUNK_SIZE))
    body = await prepare_upload(file_path=path)
    try:
        sizes = [len(chunk) async for chunk in body.stream()]
    finally:
        await body.aclose()
    assert max(sizes) == CHUNK_SIZE
    assert sum(sizes) == body.size


async def test_path_file_name_override(tmp_path: Path) -> None:
    path = tmp_path / "upload.bin"
    path.write_bytes(b"# hi")
    body = await prepare_upload(file_path=str(path), file_name="notes.md")
    try:
        parts = parse_form(body, await collect(body))
    finally:
        await body.aclose()
    assert parts["file"] == ("notes.md", "text/markdown", b"# hi")


async def test_bytes_source() -> None:
    body = await prepare_upload(file=b'{"a": 1}', file_name="doc.json")
    parts = parse_form(body, await collect(body))
    await body.aclose()
    assert parts["file"] == ("doc.json", "application/json", b'{"a": 1}')


async def test_seekable_file_object_starts_where_it_was_and_stays_open() -> None:
    handle = io.BytesIO(b"skip-me|payload")
    handle.seek(8)
    body = await prepare_upload(file=handle, file_name="p.txt")
    assert parse_form(body, await collect(body))["file"][2] == b"payload"
    assert parse_form(body, await collect(body))["file"][2] == b"payload"
    await body.aclose()
    assert not handle.closed


async def test_real_file_object_uses_its_name(tmp_path: Path) -> None:
    path = tmp_path / "faq.txt"
    path.write_bytes(b"q? a.")
    with path.open("rb") as handle:
        body = await prepare_upload(file=handle)
        parts = parse_form(body, await collect(body))
        await body.aclose()
        assert not handle.closed
    assert parts["file"] == ("faq.txt", "text/plain", b"q? a.")


class OneWay(io.RawIOBase):
    """A non-seekable stream (a pipe, a socket): it can be read once."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        return self._data.readinto(buffer)


async def test_non_seekable_file_object_is_spooled_and_replayable() -> None:
    data = os.urandom(SPOOL_MEMORY + 12345)  # forces the spool onto disk
    body = await prepare_upload(file=OneWay(data), file_name="x.pdf")
    try:
        assert parse_form(body, await collect(body))["file"][2] == data
        assert parse_form(body, await collect(body))["file"][2] == data
    finally:
        await body.aclose()


async def agen(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def test_async_iterator_is_spooled_and_replayable() -> None:
    body = await prepare_upload(file=agen(b"hello ", b"", b"world"), file_name="w.txt")
    try:
        assert parse_form(body, await collect(body))["file"][2] == b"hello world"
        assert parse_form(body, await collect(body))["file"][2] == b"hello world"
    finally:
        await body.aclose()


async def test_sync_iterable_is_spooled() -> None:
    def gen() -> Iterator[bytes]:
        yield b"a"
        yield b"b"

    body = await prepare_upload(file=gen(), file_name="ab.md")
    assert parse_form(body, await collect(body))["file"][2] == b"ab"
    await body.aclose()


async def test_file_name_with_unicode_is_sent_as_is() -> None:
    body = await prepare_upload(file=b"x", file_name="résumé final.txt")
    raw = await collect(body)
    await body.aclose()
    assert 'filename="résumé final.txt"'.encode() in raw


def test_file_name_with_a_quote_is_refused() -> None:
    # It would be escaped to %22 in the header and stored under that name, so the file could
    # never be found again by the name it was uploaded with (provisioning would never converge).
    with pytest.raises(ValidationError, match="quotes"):
        check_file_name('résumé "final".txt')


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("a.txt", "text/plain"),
        ("a.PDF", "application/pdf"),
        ("a.json", "application/json"),
        ("a.md", "text/markdown"),
        ("a.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ],
)
def test_allowed_types(name: str, content_type: str) -> None:
    assert check_file_name(name) == content_type


@pytest.mark.parametrize("name", ["a.csv", "a", "a.doc", "archive.tar.gz", ".pdf.exe"])
def test_rejected_types_name_the_allowed_ones(name: str) -> None:
    with pytest.raises(ValidationError, match=r"\.txt \.pdf \.json \.md \.docx"):
        check_file_name(name)


@pytest.mark.parametrize("name", ["", " a.txt", "dir/a.txt", "a\\b.txt", "a\x00.txt"])
def test_bad_names(name: str) -> None:
    with pytest.raises(ValidationError, match="plain file name"):
        check_file_name(name)


def test_unknown_type_allowed_when_checks_are_off() -> None:
    assert check_file_name("a.csv", check=False) == "application/octet-stream"


def test_multimodal_is_for_pdfs_only() -> None:
    with pytest.raises(ValidationError, match="PDF files only"):
        check_file_name("a.txt", multimodal=True)
    assert check_file_name("a.pdf", multimodal=True) == "application/pdf"


def test_size_limits() -> None:
    assert max_file_size("a.pdf") == 100 * MiB
    assert max_file_size("a.pdf", multimodal=True) == 50 * MiB
    assert max_file_size("a.txt") == 10 * MiB
    assert max_file_size("a.docx") == 10 * MiB


async def test_too_big_path_is_rejected_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    with path.open("wb") as handle:
        handle.truncate(10 * MiB + 1)  # sparse: no disk cost
    with pytest.raises(ValidationError, match="at most 10485760 bytes"):
        await prepare_upload(file_path=path)
    body = await prepare_upload(file_path=path, check_limits=False)
    assert body.file_size == 10 * MiB + 1
    await body.aclose()


async def test_too_big_stream_stops_spooling_early() -> None:
    pulled = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal pulled
        while True:
            pulled += 1
            yield b"z" * MiB

    with pytest.raises(ValidationError, match="multimodal PDF"):
        await prepare_upload(file=endless(), file_name="m.pdf", multimodal=True)
    assert pulled == 51


async def test_too_big_bytes() -> None:
    with pytest.raises(ValidationError, match="at most"):
        await prepare_upload(file=bytes(10 * MiB + 1), file_name="a.md")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one"),
        ({"file_path": "a.txt", "file": b"x"}, "exactly one"),
        ({"file": b"x"}, "file_name= is required"),
        ({"file": io.BytesIO(b"x")}, "file_name= is required"),
        ({"file": "a.txt"}, "as file_path="),
        ({"file": io.StringIO("x"), "file_name": "a.txt"}, "binary mode"),
        ({"file": 42, "file_name": "a.txt"}, "not int"),
        ({"file_path": "/nonexistent/a.txt"}, "does not exist"),
    ],
)
async def test_bad_input(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        await prepare_upload(**kwargs)  # type: ignore[arg-type]


async def test_directory_path(tmp_path: Path) -> None:
    folder = tmp_path / "d.txt"
    folder.mkdir()
    with pytest.raises(ValidationError, match="directory"):
        await prepare_upload(file_path=folder)


async def test_stream_of_text_is_rejected() -> None:
    async def text() -> AsyncIterator[str]:
        yield "not bytes"

    with pytest.raises(ValidationError, match="yielded str"):
        await prepare_upload(file=text(), file_name="a.txt")  # type: ignore[arg-type]


async def test_file_that_shrinks_during_upload_fails_loudly(tmp_path: Path) -> None:
    path = tmp_path / "s.txt"
    path.write_bytes(b"x" * 100)
    body = await prepare_upload(file_path=path)
    path.write_bytes(b"x" * 10)
    with pytest.raises(PineconeError, match="shrank"):
        await collect(body)
    await body.aclose()
