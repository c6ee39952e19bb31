"""Files: describe, list, delete and wait for the files of an assistant (uploads: ``_uploads``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._wait import Polled, ProgressCallback, check_progress, check_wait_timeout, wait_until
from ..exceptions import FileProcessingError, NotFoundError, ValidationError
from ._common import Timeout, filter_param, quote_id
from ._operations import OperationsMixin
from ._pages import PAGE_SIZE, Pager, page_params

if TYPE_CHECKING:
    from .._retry import RetryPolicy
    from ..models.files import AssistantFile, FileList

__all__ = ["FilesMixin"]

# The area's models are imported inside the methods: `import aiopinecone` does not load them
# ("Import weight" in docs/architecture.md). After the first call such an import is a lookup.


def as_percent(percent_done: float) -> float:
    """``percent_done`` as a percentage for progress callbacks.

    The specs call it a percentage (their example says 90) while live answers have been seen
    reporting a fraction (1.0 when done): values up to 1 are read as a fraction.
    """
    value = percent_done * 100.0 if percent_done <= 1.0 else percent_done
    return min(100.0, max(0.0, value))


class FilesMixin(OperationsMixin):
    """``pc.assistants`` file methods other than upload."""

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
        from ..models.files import AssistantFile

        self._check_name(assistant_name)
        fid = quote_id(file_id, "file_id")
        if not isinstance(include_url, bool):
            raise ValidationError(f"include_url must be True or False, got {include_url!r}")
        response = await self._router.request(
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
        sent JSON-encoded. ``page_size`` is 1-100; before 2026-04 it is not sent (the one page
        holds every file) and a ``pagination_token`` is refused (there is no next page).
        """
        from ..models.files import FileList

        self._check_name(assistant_name)
        params = filter_param(filter)
        paging = page_params(page_size, pagination_token)
        if self._core.api_version < "2026-04":
            if pagination_token is not None:
                raise ValidationError(
                    f"api_version {self._core.api_version} has no pagination (it starts with "
                    "2026-04): every file is in the first page (pagination_token=None)"
                )
            paging.pop("limit", None)
        params.update(paging)
        response = await self._router.request(
            assistant_name,
            "GET",
            f"/files/{assistant_name}",
            op="list_files",
            params=params or None,
            retry=retry,
            timeout=timeout,
        )
        return self._core.parse(response, FileList)

    def list_files(
        self,
        *,
        assistant_name: str,
        filter: Mapping[str, Any] | None = None,
        limit: int | None = None,
        pagination_token: str | None = None,
        retry: RetryPolicy | None = None,
        timeout: Timeout = None,
    ) -> Pager[AssistantFile]:
        """Every file of the assistant matching ``filter``: ``await`` it for a list, or
        ``async for`` over it to fetch page by page (100 per page on 2026-04; one page
        before). ``limit``: at most that many; ``pagination_token``: start from that page.
        See :class:`Pager`."""
        self._check_name(assistant_name)
        paginated = self._core.api_version >= "2026-04"

        async def fetch(token: str | None) -> tuple[Sequence[AssistantFile], str | None]:
            page = await self.list_files_page(
                assistant_name=assistant_name,
                filter=filter,
                page_size=PAGE_SIZE if paginated else None,
                pagination_token=token,
                retry=retry,
                timeout=timeout,
            )
            following = page.pagination.next if page.pagination is not None else None
            return page.files, following if paginated else None

        return Pager(fetch, what="files", limit=limit, pagination_token=pagination_token)

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
            response = await self._router.request(
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
            from ..models.operations import Operation

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
        progress: ProgressCallback | None = None,
        retry: RetryPolicy | None = None,
    ) -> AssistantFile:
        """Poll ``describe_file`` until the file is ``Available`` and return it.

        Polls with growing intervals (1 s, 2 s, 4 s... capped at 10 s); ``progress`` gets the
        percentage done. Raises :class:`~aiopinecone.FileProcessingError` (with the server's
        ``error_message``) when processing fails or the file is being deleted, and
        :class:`~aiopinecone.WaitTimeoutError` after ``timeout`` seconds (``None``: no limit).
        """
        from ..models.files import FileStatus

        check_wait_timeout(timeout, "timeout")
        check_progress(progress)
        found: AssistantFile | None = None

        async def poll() -> Polled:
            nonlocal found
            found = await self.describe_file(
                assistant_name=assistant_name, file_id=file_id, retry=retry
            )
            status = found.status
            if found.is_available:
                return Polled(done=True, status=status)
            if status in (FileStatus.PROCESSING_FAILED, FileStatus.DELETING):
                reason = found.error_message
                raise FileProcessingError(
                    f"file {found.name!r} ({found.id}) is {status}"
                    + (f": {reason}" if reason else ""),
                    name=found.name,
                    status=status,
                    reason=reason,
                )
            percent = found.percent_done
            return Polled(
                done=False, status=status, percent=None if percent is None else as_percent(percent)
            )

        await wait_until(
            poll,
            timeout=timeout,
            what=f"file {file_id} of assistant {assistant_name!r} was not processed",
            progress=progress,
        )
        assert found is not None
        return found

    async def _wait_file_gone(
        self, assistant_name: str, file_id: str, timeout: float | None, retry: RetryPolicy | None
    ) -> None:
        async def poll() -> Polled:
            try:
                found = await self.describe_file(
                    assistant_name=assistant_name, file_id=file_id, retry=retry
                )
            except NotFoundError:
                return Polled(done=True)
            return Polled(done=False, status=found.status)

        await wait_until(
            poll,
            timeout=timeout,
            what=f"file {file_id} of assistant {assistant_name!r} still exists",
        )
