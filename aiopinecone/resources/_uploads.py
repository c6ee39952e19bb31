"""File uploads: streamed, replayable, never duplicated.

How a retried upload stays single:

- 2026-04: every upload is a ``PUT /files/{assistant}/{file_id}`` (upsert). Without a
  ``file_id`` the client generates one (a UUID4, the shape the server would have chosen), so
  re-sending after a lost response or a 5xx replaces the file with itself instead of adding a
  second copy. The upload is therefore retried like any idempotent request.
- up to 2025-10 there is no upsert. After an *ambiguous* failure (a 5xx, or the connection lost
  once the body may have reached the server) the client lists the assistant's files and looks
  for the upload: same name, same metadata, created no earlier than shortly before this call
  began. Found: that file is the result, nothing is re-sent. Not found: the upload did not
  happen and is re-sent under the retry policy. This check is a ``reconcile`` hook of the core's
  attempt loop (``Core.request(reconcile=...)``), not a loop of its own. Caveat: a server that
  accepted the upload but does not list it yet is indistinguishable from one that never got it.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, cast

import aiohttp
import orjson

from .._validation import check_json_object
from .._wait import ProgressCallback, check_progress, check_wait_timeout
from ..exceptions import PineconeError, ValidationError
from ._common import Timeout, quote_id
from ._files import FilesMixin

if TYPE_CHECKING:
    import os

    from .._retry import RetryPolicy
    from .._upload import UploadBody, UploadSource
    from ..models.files import AssistantFile

# The upload bodies (`_upload`) and the files' models are imported inside the methods:
# `import aiopinecone` does not load them ("Import weight" in docs/architecture.md).

__all__ = ["UploadsMixin"]

_FILE_ID_CHARS: Final = frozenset(string.ascii_letters + string.digits + "-_")
_CLOCK_SKEW: Final = timedelta(minutes=5)
_UPLOAD_MIN_RATE: Final = 100 * 1024
"""Bytes per second an upload is assumed to reach at worst, for its default total timeout."""


def _check_file_id(file_id: object) -> str:
    if (
        not isinstance(file_id, str)
        or not 1 <= len(file_id) <= 128
        or not _FILE_ID_CHARS.issuperset(file_id)
    ):
        raise ValidationError(
            f"file_id must be 1-128 characters of letters, digits, '-' or '_', got {file_id!r}"
        )
    return file_id


def _upload_timeout(body: UploadBody) -> aiohttp.ClientTimeout:
    # The default 2-minute total would cut a 100 MB upload on a slow link: allow 5 minutes plus
    # the time the body takes at 100 KiB/s, and at most 5 minutes of silence from the server.
    total = 300.0 + body.size / _UPLOAD_MIN_RATE
    return aiohttp.ClientTimeout(total=total, sock_connect=10.0, sock_read=300.0)


class UploadsMixin(FilesMixin):
    """``pc.assistants.upload_file``."""

    async def upload_file(
        self,
        *,
        assistant_name: str,
        file_path: str | os.PathLike[str] | None = None,
        file: UploadSource | None = None,
        file_name: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        multimodal: bool | None = None,
        file_id: str | None = None,
        file_stream: UploadSource | None = None,
        wait: bool = False,
        wait_timeout: float | None = 300.0,
        progress: ProgressCallback | None = None,
        check_limits: bool = True,
        retry: RetryPolicy | None = None,
        timeout: Timeout = None,
    ) -> AssistantFile:
        """Upload a file to an assistant, streamed from its source; return the file.

        The source is ``file_path`` (read from disk in chunks; never held in memory) or ``file``:
        ``bytes``, a binary file object, or an (async) iterable of ``bytes``. Sources that cannot
        be rewound are spooled to a temporary file first so that a retry can re-send them.
        ``file_stream`` is the official SDK's name for ``file`` (give one of them).
        ``file_name`` names the upload (required for sources without a name): Pinecone processes
        ``.txt .pdf .json .md .docx`` files, types them by extension and limits their size;
        both are checked before anything is sent (``check_limits=False`` skips that).

        ``metadata`` (a JSON object, at most 16 KB) can later filter files, chats and context.
        ``multimodal=True`` processes a PDF's images too (2025-10+). ``file_id`` (2026-04)
        creates or replaces the file with that id.

        With ``wait=True`` returns once processing finished: ``progress`` (if given) is called
        with the percentage done as it grows; :class:`~aiopinecone.FileProcessingError` carries
        the server's message if processing fails; :class:`~aiopinecone.WaitTimeoutError` after
        ``wait_timeout`` seconds (``None``: no limit). A retried upload never leaves two copies
        (see the module documentation for how).
        """
        from .._upload import prepare_upload
        from .._upload_checks import MAX_METADATA_BYTES

        core = self._core
        self._check_name(assistant_name)
        if file_stream is not None:
            if file is not None:
                raise ValidationError("give file= or file_stream= (the same thing), not both")
            file = file_stream
        v2026 = core.api_version >= "2026-04"
        if file_id is not None:
            if not v2026:
                raise ValidationError(
                    "file_id (create or replace a file by id) needs api_version 2026-04"
                )
            _check_file_id(file_id)
        if multimodal is not None:
            if not isinstance(multimodal, bool):
                raise ValidationError(f"multimodal must be True, False or None, got {multimodal!r}")
            if core.api_version < "2025-10":
                raise ValidationError("multimodal uploads need api_version 2025-10 or later")
        meta_json: bytes | None = None
        if metadata is not None:
            meta = check_json_object(metadata, field="metadata", max_bytes=MAX_METADATA_BYTES)
            meta_json = orjson.dumps(meta)
        check_wait_timeout(wait_timeout)
        check_progress(progress)
        params: dict[str, str] = {}
        if multimodal is not None:
            params["multimodal"] = "true" if multimodal else "false"
        if meta_json is not None and not v2026:
            params["metadata"] = meta_json.decode()
        fields = [("metadata", meta_json)] if meta_json is not None and v2026 else []
        body = await prepare_upload(
            file_path=file_path,
            file=file,
            file_name=file_name,
            multimodal=multimodal,
            fields=fields,
            check_limits=check_limits,
        )
        try:
            if check_limits and body.file_size == 0:
                raise ValidationError(f"{body.file_name!r} is empty; Pinecone rejects empty files")
            if timeout is None:
                timeout = _upload_timeout(body)
            if v2026:
                return await self._upload_by_id(
                    assistant_name,
                    body,
                    file_id,
                    params,
                    wait,
                    wait_timeout,
                    progress,
                    retry,
                    timeout,
                )
            uploaded = await self._upload_reconciled(
                assistant_name, body, metadata, params, retry, timeout
            )
        finally:
            await body.aclose()
        if wait:
            return await self.wait_for_file(
                assistant_name=assistant_name,
                file_id=uploaded.id,
                timeout=wait_timeout,
                progress=progress,
                retry=retry,
            )
        return uploaded

    async def _upload_by_id(
        self,
        assistant_name: str,
        body: UploadBody,
        file_id: str | None,
        params: Mapping[str, str],
        wait: bool,
        wait_timeout: float | None,
        progress: ProgressCallback | None,
        retry: RetryPolicy | None,
        timeout: Timeout,
    ) -> AssistantFile:
        import uuid

        from ..models.operations import Operation

        fid = file_id if file_id is not None else str(uuid.uuid4())
        response = await self._router.request(
            assistant_name,
            "PUT",
            f"/files/{assistant_name}/{quote_id(fid, 'file_id')}",
            op="upsert_file" if file_id is not None else "upload_file",
            params=params or None,
            data=body.stream,
            headers={"Content-Type": body.content_type, "Content-Length": str(body.size)},
            idempotent=True,
            retry=retry,
            timeout=timeout,
        )
        operation = self._core.parse(response, Operation)
        if wait:
            await self._wait_operation(
                assistant_name,
                operation,
                what=f"upload of {body.file_name!r} (file id {fid})",
                timeout=wait_timeout,
                progress=progress,
                retry=retry,
            )
        return await self.describe_file(assistant_name=assistant_name, file_id=fid, retry=retry)

    async def _upload_reconciled(
        self,
        assistant_name: str,
        body: UploadBody,
        metadata: Mapping[str, Any] | None,
        params: Mapping[str, str],
        retry: RetryPolicy | None,
        timeout: Timeout,
    ) -> AssistantFile:
        from ..models.files import AssistantFile

        started = datetime.now(UTC)

        async def reconcile(error: PineconeError) -> AssistantFile | None:
            return await self._find_upload(
                assistant_name, body.file_name, metadata, started, retry=retry
            )

        response = await self._router.request(
            assistant_name,
            "POST",
            f"/files/{assistant_name}",
            op="upload_file",
            params=params or None,
            data=body.stream,
            headers={"Content-Type": body.content_type, "Content-Length": str(body.size)},
            idempotent=False,
            retry=retry,
            timeout=timeout,
            reconcile=reconcile,
        )
        if response.resolved is not None:
            return cast(AssistantFile, response.resolved)
        return self._core.parse(response, AssistantFile)

    async def _find_upload(
        self,
        assistant_name: str,
        file_name: str,
        metadata: Mapping[str, Any] | None,
        started: datetime,
        *,
        retry: RetryPolicy | None,
    ) -> AssistantFile | None:
        """The file an ambiguous upload attempt created, if it did (under the caller's policy)."""
        from ..models.files import FileStatus

        files = await self.list_files(assistant_name=assistant_name, retry=retry)
        wanted = dict(metadata) if metadata else None
        since = started - _CLOCK_SKEW
        candidates = [
            f
            for f in files
            if f.name == file_name
            and (f.metadata or None) == wanted
            and f.status != FileStatus.DELETING
            and (f.created_on is None or f.created_on >= since)
        ]
        if not candidates:
            return None
        return max(candidates, key=lambda f: f.created_on or since)
