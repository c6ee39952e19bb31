"""Files: upload (streamed, replayable, never duplicated), describe, list, delete, wait.

How a retried upload stays single:

- 2026-04: every upload is a ``PUT /files/{assistant}/{file_id}`` (upsert). Without a
  ``file_id`` the client generates one (a UUID4, the shape the server would have chosen), so
  re-sending after a lost response or a 5xx replaces the file with itself instead of adding a
  second copy. The upload is therefore retried like any idempotent request.
- up to 2025-10 there is no upsert. After an *ambiguous* failure (a 5xx, or the connection lost
  once the body may have reached the server) the client lists the assistant's files and looks
  for the upload: same name, same metadata, created no earlier than shortly before this call
  began. Found: that file is the result, nothing is re-sent. Not found: the upload did not
  happen and is re-sent under the retry policy. Caveat: a server that accepted the upload but
  does not list it yet is indistinguishable from one that never got it.
"""

from __future__ import annotations

import asyncio
import string
import uuid
from collections.abc import Awaitable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, NoReturn

import aiohttp
import orjson

from .._retry import RetryPolicy, RetryState, poll_delays
from .._upload import MAX_METADATA_BYTES, UploadBody, UploadSource, prepare_upload
from .._validation import check_json_object
from ..exceptions import (
    APIError,
    FileProcessingError,
    NotFoundError,
    PineconeError,
    ServerError,
    TransportError,
    ValidationError,
    WaitTimeoutError,
)
from ..models.files import AssistantFile, FileList, FileStatus
from ..models.operations import Operation
from ._dataplane import (
    FIRST_POLL,
    MAX_POLL,
    Progress,
    Timeout,
    check_progress,
    check_wait_timeout,
    quote_id,
    report,
)
from ._operations import OperationsMixin
from ._pages import PAGE_SIZE, all_pages, page_params

if TYPE_CHECKING:
    import os

__all__ = ["FilesMixin"]

_FILE_ID_CHARS: Final = frozenset(string.ascii_letters + string.digits + "-_")
_CLOCK_SKEW: Final = timedelta(minutes=5)
_NO_RETRY: Final = RetryPolicy.none()
_UPLOAD_MIN_RATE: Final = 100 * 1024
"""Bytes per second an upload is assumed to reach at worst, for its default total timeout."""


def _as_percent(percent_done: float) -> float:
    """``percent_done`` as a percentage for progress callbacks.

    The specs call it a percentage (their example says 90) while live answers have been seen
    reporting a fraction (1.0 when done): values up to 1 are read as a fraction.
    """
    value = percent_done * 100.0 if percent_done <= 1.0 else percent_done
    return min(100.0, max(0.0, value))


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


def _filter_param(filter: Mapping[str, Any] | None) -> dict[str, str] | None:
    if filter is None:
        return None
    value = check_json_object(filter, field="filter", max_bytes=None)
    return {"filter": orjson.dumps(value).decode()}


def _raise_final(error: PineconeError, attempts: int, ambiguous: bool) -> NoReturn:
    if isinstance(error, APIError | TransportError):
        error.attempts = attempts
        error.ambiguous = error.ambiguous or ambiguous
    raise error


class FilesMixin(OperationsMixin):
    """``pc.assistants`` file methods."""

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
        wait: bool = False,
        wait_timeout: float | None = 300.0,
        progress: Progress | None = None,
        check_limits: bool = True,
        retry: RetryPolicy | None = None,
        timeout: Timeout = None,
    ) -> AssistantFile:
        """Upload a file to an assistant, streamed from its source; return the file.

        The source is ``file_path`` (read from disk in chunks; never held in memory) or ``file``:
        ``bytes``, a binary file object, or an (async) iterable of ``bytes``. Sources that cannot
        be rewound are spooled to a temporary file first so that a retry can re-send them.
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
        core = self._core
        self._check_name(assistant_name)
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
        progress: Progress | None,
        retry: RetryPolicy | None,
        timeout: Timeout,
    ) -> AssistantFile:
        fid = file_id if file_id is not None else str(uuid.uuid4())
        response = await self._dp_request(
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
        core = self._core
        started = datetime.now(UTC)
        state = RetryState(core.retry if retry is None else retry)
        attempt, ambiguous = 1, False
        path = f"/files/{assistant_name}"
        while True:
            try:
                # One attempt at a time: between attempts we may have to reconcile.
                response = await self._dp_request(
                    assistant_name,
                    "POST",
                    path,
                    op="upload_file",
                    params=params or None,
                    data=body.stream,
                    headers={"Content-Type": body.content_type, "Content-Length": str(body.size)},
                    idempotent=False,
                    retry=_NO_RETRY,
                    timeout=timeout,
                )
                return core.parse(response, AssistantFile)
            except (APIError, TransportError) as exc:
                error: PineconeError = exc
            idempotent = False
            if isinstance(error, ServerError) or (
                isinstance(error, TransportError) and error.ambiguous
            ):
                ambiguous = True
                found = await self._find_upload(
                    assistant_name, body.file_name, metadata, started, retry=retry
                )
                if found is not None:
                    return found
                idempotent = True  # it did not land: re-sending cannot duplicate it
            delay = state.next_delay(error, attempt=attempt, idempotent=idempotent)
            if delay is None:
                _raise_final(error, attempt, ambiguous)
            await state.sleep(delay)
            attempt += 1

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

    async def describe_file(
        self,
        *,
        assistant_name: str,
        file_id: str,
        include_url: bool = False,
        retry: RetryPolicy | None = None,
        timeout: Timeout = None,
    ) -> AssistantFile:
        """A file's status and metadata; ``include_url=True`` adds a temporary ``signed_url``.

        Raises :class:`~aiopinecone.NotFoundError` when there is no such file (or assistant).
        """
        self._check_name(assistant_name)
        fid = quote_id(file_id, "file_id")
        if not isinstance(include_url, bool):
            raise ValidationError(f"include_url must be True or False, got {include_url!r}")
        response = await self._dp_request(
            assistant_name,
            "GET",
            f"/files/{assistant_name}/{fid}",
            op="describe_file",
            file_level=True,
            params={"include_url": "true"} if include_url else None,
            retry=retry,
            timeout=timeout,
        )
        return self._core.parse(response, AssistantFile)

    async def list_files_page(
        self,
        *,
        assistant_name: str,
        filter: Mapping[str, Any] | None = None,
        page_size: int | None = None,
        pagination_token: str | None = None,
        retry: RetryPolicy | None = None,
        timeout: Timeout = None,
    ) -> FileList:
        """One page of files (2026-04 paginates; earlier versions return all files at once).

        ``filter`` is a metadata filter (``{"team": {"$eq": "x"}}`` or ``{"team": "x"}``),
        sent JSON-encoded. ``page_size`` (1-100) and ``pagination_token`` need 2026-04.
        """
        self._check_name(assistant_name)
        params = _filter_param(filter) or {}
        if page_size is not None or pagination_token is not None:
            if self._core.api_version < "2026-04":
                raise ValidationError("paginated file lists need api_version 2026-04")
            params.update(page_params(page_size, pagination_token))
        response = await self._dp_request(
            assistant_name,
            "GET",
            f"/files/{assistant_name}",
            op="list_files",
            params=params or None,
            retry=retry,
            timeout=timeout,
        )
        return self._core.parse(response, FileList)

    async def list_files(
        self,
        *,
        assistant_name: str,
        filter: Mapping[str, Any] | None = None,
        retry: RetryPolicy | None = None,
        timeout: Timeout = None,
    ) -> list[AssistantFile]:
        """Every file of the assistant matching ``filter`` (all pages on 2026-04)."""
        paginated = self._core.api_version >= "2026-04"

        def fetch(token: str | None) -> Awaitable[FileList]:
            return self.list_files_page(
                assistant_name=assistant_name,
                filter=filter,
                page_size=PAGE_SIZE if paginated else None,
                pagination_token=token,
                retry=retry,
                timeout=timeout,
            )

        pages = await all_pages(fetch, what="files", follow=paginated)
        return [file for page in pages for file in page.files]

    async def delete_file(
        self,
        *,
        assistant_name: str,
        file_id: str,
        wait: bool = False,
        wait_timeout: float | None = 300.0,
        retry: RetryPolicy | None = None,
        timeout: Timeout = None,
    ) -> None:
        """Delete a file; with ``wait=True``, return once it is gone.

        A retried delete that meets 404 after an earlier attempt may have gone through has
        succeeded; a plain 404 raises :class:`~aiopinecone.NotFoundError`.
        """
        self._check_name(assistant_name)
        fid = quote_id(file_id, "file_id")
        check_wait_timeout(wait_timeout)
        try:
            response = await self._dp_request(
                assistant_name,
                "DELETE",
                f"/files/{assistant_name}/{fid}",
                op="delete_file",
                file_level=True,
                retry=retry,
                timeout=timeout,
            )
        except NotFoundError as exc:
            if not exc.ambiguous:
                raise
            return
        if not wait:
            return
        if response.status == 202 and response.body:
            operation = self._core.parse(response, Operation)
            await self._wait_operation(
                assistant_name,
                operation,
                what=f"deletion of file {file_id}",
                timeout=wait_timeout,
                progress=None,
                retry=retry,
            )
            return
        if response.status == 204:
            return
        await self._wait_file_gone(assistant_name, file_id, wait_timeout, retry)

    async def wait_for_file(
        self,
        *,
        assistant_name: str,
        file_id: str,
        timeout: float | None = 300.0,
        progress: Progress | None = None,
        retry: RetryPolicy | None = None,
    ) -> AssistantFile:
        """Poll ``describe_file`` until the file is ``Available`` and return it.

        Polls with growing intervals (1 s, 2 s, 4 s... capped at 10 s); ``progress`` gets the
        percentage done. Raises :class:`~aiopinecone.FileProcessingError` (with the server's
        ``error_message``) when processing fails or the file is being deleted, and
        :class:`~aiopinecone.WaitTimeoutError` after ``timeout`` seconds (``None``: no limit).
        """
        check_wait_timeout(timeout)
        check_progress(progress)
        last: str | None = None
        delays = poll_delays(FIRST_POLL, MAX_POLL)
        budget = asyncio.timeout(timeout)
        try:
            async with budget:
                while True:
                    found = await self.describe_file(
                        assistant_name=assistant_name, file_id=file_id, retry=retry
                    )
                    last = found.status
                    if found.is_available:
                        await report(progress, 100.0)
                        return found
                    if last in (FileStatus.PROCESSING_FAILED, FileStatus.DELETING):
                        reason = found.error_message
                        raise FileProcessingError(
                            f"file {found.name!r} ({found.id}) is {last}"
                            + (f": {reason}" if reason else ""),
                            name=found.name,
                            status=last,
                            reason=reason,
                        )
                    if found.percent_done is not None:
                        await report(progress, _as_percent(found.percent_done))
                    await asyncio.sleep(next(delays))
        except TimeoutError:
            if budget.expired():
                raise WaitTimeoutError(
                    f"file {file_id} of assistant {assistant_name!r} was not processed after "
                    f"{timeout} s (last status: {last})",
                    last_status=last,
                ) from None
            raise

    async def _wait_file_gone(
        self, assistant_name: str, file_id: str, timeout: float | None, retry: RetryPolicy | None
    ) -> None:
        last: str | None = None
        delays = poll_delays(FIRST_POLL, MAX_POLL)
        budget = asyncio.timeout(timeout)
        try:
            async with budget:
                while True:
                    try:
                        found = await self.describe_file(
                            assistant_name=assistant_name, file_id=file_id, retry=retry
                        )
                    except NotFoundError:
                        return
                    last = found.status
                    await asyncio.sleep(next(delays))
        except TimeoutError:
            if budget.expired():
                raise WaitTimeoutError(
                    f"file {file_id} of assistant {assistant_name!r} still exists after "
                    f"{timeout} s (last status: {last})",
                    last_status=last,
                ) from None
            raise
