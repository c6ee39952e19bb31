"""Replayable, streamed ``multipart/form-data`` bodies for file uploads, and their checks.

An :class:`UploadBody` knows its exact size up front (so requests carry ``Content-Length``) and
produces a fresh byte stream for every attempt, read from the source in chunks of
``CHUNK_SIZE``: a 200 MB file is never held in memory, and a retried upload re-sends the whole
body.

Sources and how they are replayed:

- a path: opened once, read in a worker thread with an explicit offset per attempt;
- ``bytes``/``bytearray``/``memoryview``: sliced, never copied;
- a seekable binary file object: read from the position it had when the upload began; it is
  not closed (it belongs to the caller);
- a non-seekable binary file object, or an (async) iterable of bytes: *spooled* first to a
  temporary file (kept in memory up to ``SPOOL_MEMORY`` bytes, on disk beyond), because a
  stream that cannot be rewound cannot be retried. Spooling also checks the size limit before
  any request is made. The temporary file is deleted by :meth:`UploadBody.aclose`.

The file name and size checks are ``_upload_checks``'s.
"""

from __future__ import annotations

import asyncio
import io
import os
import secrets
import tempfile
import threading
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Sequence
from typing import IO, Final, Protocol, TypeAlias, cast

from aiopinecone.exceptions import PineconeError, ValidationError

from ._upload_checks import check_file_name, max_file_size, too_big

__all__ = [
    "CHUNK_SIZE",
    "FileLike",
    "UploadBody",
    "UploadSource",
    "prepare_upload",
]

CHUNK_SIZE: Final = 256 * 1024
SPOOL_MEMORY: Final = 1024 * 1024


class FileLike(Protocol):
    """A binary file object: anything with ``read(n) -> bytes``."""

    def read(self, size: int = ..., /) -> bytes: ...


UploadSource: TypeAlias = (
    bytes | bytearray | memoryview | IO[bytes] | FileLike | AsyncIterable[bytes] | Iterable[bytes]
)
"""What ``upload_file(file=...)`` accepts."""


def _quote_name(name: str) -> str:
    # What browsers send for form-data file names (WHATWG HTML): percent-escape the three
    # characters that would break the header, keep the rest as UTF-8.
    return name.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


class _Reader:
    """Random-access reads over one source; safe against a stale attempt still reading."""

    size: int

    async def read_at(self, offset: int, size: int) -> bytes:
        raise NotImplementedError

    def close(self) -> None:
        """Release what the reader owns (never a caller's file object)."""


class _MemoryReader(_Reader):
    def __init__(self, data: bytes | bytearray | memoryview) -> None:
        self._view = memoryview(data).cast("B")
        self.size = self._view.nbytes

    async def read_at(self, offset: int, size: int) -> bytes:
        return bytes(self._view[offset : offset + size])


class _FileReader(_Reader):
    """A seekable binary file, read in a worker thread; each read seeks to its own offset."""

    def __init__(self, fileobj: IO[bytes], *, start: int, size: int, owned: bool) -> None:
        self._file = fileobj
        self._start = start
        self.size = size
        self._owned = owned
        self._lock = threading.Lock()

    def _read(self, offset: int, size: int) -> bytes:
        with self._lock:
            self._file.seek(self._start + offset)
            return self._file.read(size)

    async def read_at(self, offset: int, size: int) -> bytes:
        if isinstance(self._file, io.BytesIO):  # in memory: a thread hop costs more than the read
            return self._read(offset, size)
        return await asyncio.to_thread(self._read, offset, size)

    def close(self) -> None:
        if self._owned:
            self._file.close()


class UploadBody:
    """One ``multipart/form-data`` request body: text fields, then the ``file`` part.

    ``size`` is exact; :meth:`stream` returns a fresh iterator over the whole body each time it
    is called (one per attempt). Call :meth:`aclose` when the upload is finished.
    """

    def __init__(
        self,
        *,
        file_name: str,
        file_content_type: str,
        reader: _Reader,
        fields: Sequence[tuple[str, bytes]] = (),
        chunk_size: int = CHUNK_SIZE,
    ) -> None:
        self.file_name = file_name
        self.boundary = "aiopinecone-" + secrets.token_hex(16)
        self.content_type = f"multipart/form-data; boundary={self.boundary}"
        self._reader = reader
        self._chunk = chunk_size
        dash = b"--" + self.boundary.encode()
        head = bytearray()
        for name, value in fields:
            head += dash + b"\r\n"
            head += f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            head += value + b"\r\n"
        head += dash + b"\r\n"
        head += (
            f'Content-Disposition: form-data; name="file"; filename="{_quote_name(file_name)}"\r\n'
            f"Content-Type: {file_content_type}\r\n\r\n"
        ).encode()
        self._head = bytes(head)
        self._tail = b"\r\n" + dash + b"--\r\n"
        self.file_size = reader.size
        self.size = len(self._head) + reader.size + len(self._tail)

    async def stream(self) -> AsyncIterator[bytes]:
        """The whole body, from the first byte; every call starts over."""
        yield self._head
        offset, total = 0, self._reader.size
        while offset < total:
            chunk = await self._reader.read_at(offset, min(self._chunk, total - offset))
            if not isinstance(chunk, bytes):
                raise ValidationError(f"reading {self.file_name!r} returned text, not bytes")
            if not chunk:
                raise PineconeError(
                    f"{self.file_name!r} shrank while it was being uploaded "
                    f"(expected {total} bytes, got {offset})"
                )
            offset += len(chunk)
            yield chunk
        yield self._tail

    async def aclose(self) -> None:
        """Close the file this body opened and delete its spool file, if any.

        Synchronous inside: it runs in ``finally`` blocks of cancelled uploads, where another
        cancellation must not be able to interrupt it and leak the file.
        """
        self._reader.close()


async def prepare_upload(
    *,
    file_path: str | os.PathLike[str] | None = None,
    file: UploadSource | None = None,
    file_name: str | None = None,
    multimodal: bool | None = None,
    fields: Sequence[tuple[str, bytes]] = (),
    check_limits: bool = True,
) -> UploadBody:
    """Check the input and build a replayable body; raises :class:`ValidationError` first.

    Exactly one of ``file_path`` and ``file`` is required. ``file_name`` overrides the name
    sent to the server (required for sources that have no name).
    """
    if (file_path is None) == (file is None):
        raise ValidationError("pass exactly one of file_path= or file=")
    if file_path is not None:
        return await _from_path(file_path, file_name, multimodal, fields, check_limits)
    assert file is not None
    if isinstance(cast(object, file), str | os.PathLike):
        raise ValidationError(
            "file= takes bytes or a binary file object; pass a path as file_path="
        )
    name = file_name if file_name is not None else _name_of(file)
    if name is None:
        raise ValidationError(
            "file_name= is required when uploading from bytes or a stream, e.g. 'report.pdf': "
            "Pinecone decides how to process a file from its extension"
        )
    content_type = check_file_name(name, multimodal=multimodal, check=check_limits)
    limit = max_file_size(name, multimodal=multimodal) if check_limits else None
    reader = await _reader_for(file, name, limit, multimodal)
    if limit is not None and reader.size > limit:
        reader.close()
        raise too_big(name, reader.size, limit, multimodal)
    return UploadBody(file_name=name, file_content_type=content_type, reader=reader, fields=fields)


async def _from_path(
    path: str | os.PathLike[str],
    file_name: str | None,
    multimodal: bool | None,
    fields: Sequence[tuple[str, bytes]],
    check_limits: bool,
) -> UploadBody:
    path = os.fspath(path)
    name = file_name if file_name is not None else os.path.basename(path)
    content_type = check_file_name(name, multimodal=multimodal, check=check_limits)
    try:
        handle = await _open(path)
    except IsADirectoryError:
        raise ValidationError(f"file_path {path!r} is a directory, not a file") from None
    except FileNotFoundError:
        raise ValidationError(f"file_path {path!r} does not exist") from None
    except PermissionError:
        raise ValidationError(f"file_path {path!r} cannot be read (permission denied)") from None
    size = os.fstat(handle.fileno()).st_size
    if check_limits:
        limit = max_file_size(name, multimodal=multimodal)
        if size > limit:
            handle.close()
            raise too_big(name, size, limit, multimodal)
    reader = _FileReader(handle, start=0, size=size, owned=True)
    return UploadBody(file_name=name, file_content_type=content_type, reader=reader, fields=fields)


async def _open(path: str) -> IO[bytes]:
    """Open ``path`` in a worker thread; a cancelled caller never leaks the handle.

    The thread cannot be stopped: if the caller is cancelled while it runs, the file it opens
    is closed as soon as it is open instead of being left to the garbage collector.
    """
    opening: asyncio.Future[IO[bytes]] = asyncio.ensure_future(
        asyncio.to_thread(open, path, "rb", buffering=0)
    )
    try:
        return await asyncio.shield(opening)
    except asyncio.CancelledError:
        opening.add_done_callback(_close_opened)
        raise


def _close_opened(opening: asyncio.Future[IO[bytes]]) -> None:
    if not opening.cancelled() and opening.exception() is None:
        opening.result().close()


def _name_of(source: object) -> str | None:
    name = getattr(source, "name", None)
    if isinstance(name, str) and name and not name.startswith("<"):
        return os.path.basename(name)
    return None


async def _reader_for(
    source: UploadSource, name: str, limit: int | None, multimodal: bool | None
) -> _Reader:
    if isinstance(source, bytes | bytearray | memoryview):
        return _MemoryReader(source)
    if isinstance(source, io.TextIOBase):
        raise ValidationError("file= must be opened in binary mode ('rb'), not text mode")
    if isinstance(source, AsyncIterable):
        return await _spool(source, name, limit, multimodal)
    if hasattr(source, "read"):
        fileobj: IO[bytes] = source  # type: ignore[assignment]
        if _seekable(fileobj):
            start = fileobj.tell()
            end = fileobj.seek(0, io.SEEK_END)
            fileobj.seek(start)
            return _FileReader(fileobj, start=start, size=max(0, end - start), owned=False)
        return await _spool(_read_blocking(fileobj), name, limit, multimodal)
    if isinstance(source, Iterable):
        return await _spool(_iterate_blocking(source), name, limit, multimodal)
    raise ValidationError(
        "file= must be bytes, a binary file object or an (async) iterable of bytes, "
        f"not {type(source).__name__}"
    )


def _seekable(fileobj: IO[bytes]) -> bool:
    try:
        return bool(fileobj.seekable())
    except (AttributeError, OSError, ValueError):
        return False


async def _read_blocking(fileobj: IO[bytes]) -> AsyncIterator[bytes]:
    while chunk := await asyncio.to_thread(fileobj.read, CHUNK_SIZE):
        yield chunk


async def _iterate_blocking(chunks: Iterable[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


async def _spool(
    chunks: AsyncIterable[bytes], name: str, limit: int | None, multimodal: bool | None
) -> _Reader:
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY, prefix="aiopinecone-upload-")  # noqa: SIM115 - closed by _FileReader
    size = 0
    try:
        async for chunk in chunks:
            if not isinstance(chunk, bytes | bytearray | memoryview):
                raise ValidationError(
                    f"the upload stream yielded {type(chunk).__name__}, expected bytes"
                )
            size += len(chunk)
            if limit is not None and size > limit:
                raise too_big(name, size, limit, multimodal)
            if size > SPOOL_MEMORY:  # rolled over to disk: do not block the loop on writes
                await asyncio.to_thread(spool.write, chunk)
            else:
                spool.write(chunk)
    except BaseException:
        spool.close()
        raise
    return _FileReader(spool, start=0, size=size, owned=True)
