"""Operations (2026-04): the server-side jobs behind uploads, upserts and deletes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .._wait import Polled, ProgressCallback, check_progress, check_wait_timeout, wait_until
from ..exceptions import FileProcessingError, ValidationError
from ._common import Resource, Timeout, quote_id
from ._pages import PAGE_SIZE, Pager, page_params

if TYPE_CHECKING:
    from .._retry import RetryPolicy
    from ..models.operations import Operation, OperationList

__all__ = ["OperationsMixin"]

# The area's models are imported inside the methods: `import aiopinecone` does not load them
# ("Import weight" in docs/architecture.md). After the first call such an import is a lookup.


class OperationsMixin(Resource):
    """``pc.assistants`` operation methods (API version 2026-04)."""

    def _require_operations(self) -> None:
        if self._core.api_version < "2026-04":
            raise ValidationError(
                f"operations exist from api_version 2026-04 (this client uses "
                f"{self._core.api_version})"
            )

    async def describe_operation(
        self,
        *,
        assistant_name: str,
        operation_id: str,
        retry: RetryPolicy | None = None,
        timeout: Timeout = None,
    ) -> Operation:
        """An operation's status, progress (``percent_complete``) and error, if it failed."""
        self._require_operations()
        self._check_name(assistant_name)
        return await self._describe_operation(
            assistant_name, operation_id, retry=retry, timeout=timeout
        )

    async def list_operations_page(
        self,
        *,
        assistant_name: str,
        operation_type: str | None = None,
        status: str | None = None,
        page_size: int | None = None,
        pagination_token: str | None = None,
        retry: RetryPolicy | None = None,
        timeout: Timeout = None,
    ) -> OperationList:
        """One page of the assistant's operations (kept 30 days after they finish).

        ``operation_type`` is one of ``upload_file``, ``upsert_file``, ``update_file_metadata``,
        ``delete_file``; ``status`` one of ``Processing``, ``Completed``, ``Failed``.
        """
        from ..models.operations import OperationList, OperationStatus, OperationType

        self._require_operations()
        self._check_name(assistant_name)
        params = page_params(page_size, pagination_token)
        if operation_type is not None:
            types = (
                OperationType.UPLOAD_FILE,
                OperationType.UPSERT_FILE,
                OperationType.UPDATE_FILE_METADATA,
                OperationType.DELETE_FILE,
            )
            if operation_type not in types:
                raise ValidationError(
                    f"operation_type must be one of {', '.join(types)}, got {operation_type!r}"
                )
            params["operation_type"] = operation_type
        if status is not None:
            statuses = (
                OperationStatus.PROCESSING,
                OperationStatus.COMPLETED,
                OperationStatus.FAILED,
            )
            if status not in statuses:
                raise ValidationError(
                    f"status must be one of {', '.join(statuses)}, got {status!r}"
                )
            params["status"] = status
        response = await self._router.request(
            assistant_name,
            "GET",
            f"/operations/{assistant_name}",
            op="list_operations",
            params=params or None,
            retry=retry,
            timeout=timeout,
        )
        return self._core.parse(response, OperationList)

    def list_operations(
        self,
        *,
        assistant_name: str,
        operation_type: str | None = None,
        status: str | None = None,
        limit: int | None = None,
        pagination_token: str | None = None,
        retry: RetryPolicy | None = None,
        timeout: Timeout = None,
    ) -> Pager[Operation]:
        """Every operation of the assistant matching the filters: ``await`` it for a list, or
        ``async for`` over it to fetch page by page. ``limit``: at most that many;
        ``pagination_token``: start from that page. See :class:`Pager`."""
        self._require_operations()
        self._check_name(assistant_name)

        async def fetch(token: str | None) -> tuple[Sequence[Operation], str | None]:
            page = await self.list_operations_page(
                assistant_name=assistant_name,
                operation_type=operation_type,
                status=status,
                page_size=PAGE_SIZE,
                pagination_token=token,
                retry=retry,
                timeout=timeout,
            )
            following = page.pagination.next if page.pagination is not None else None
            return page.operations, following

        return Pager(fetch, what="operations", limit=limit, pagination_token=pagination_token)

    async def wait_for_operation(
        self,
        *,
        assistant_name: str,
        operation_id: str,
        timeout: float | None = 300.0,
        progress: ProgressCallback | None = None,
        retry: RetryPolicy | None = None,
    ) -> Operation:
        """Poll an operation until it is ``Completed`` and return it.

        Raises :class:`~aiopinecone.FileProcessingError` (with the server's message) if it
        ``Failed``, :class:`~aiopinecone.WaitTimeoutError` after ``timeout`` seconds.
        """
        check_wait_timeout(timeout)
        check_progress(progress)
        operation = await self.describe_operation(
            assistant_name=assistant_name, operation_id=operation_id, retry=retry
        )
        return await self._wait_operation(
            assistant_name,
            operation,
            what=f"{operation.operation_type or 'operation'} of file {operation.file_id}",
            timeout=timeout,
            progress=progress,
            retry=retry,
        )

    async def _describe_operation(
        self,
        assistant_name: str,
        operation_id: str,
        *,
        retry: RetryPolicy | None,
        timeout: Timeout = None,
    ) -> Operation:
        from ..models.operations import Operation

        response = await self._router.request(
            assistant_name,
            "GET",
            f"/operations/{assistant_name}/{quote_id(operation_id, 'operation_id')}",
            op="describe_operation",
            file_level=True,
            retry=retry,
            timeout=timeout,
        )
        return self._core.parse(response, Operation)

    async def _wait_operation(
        self,
        assistant_name: str,
        operation: Operation,
        *,
        what: str,
        timeout: float | None,
        progress: ProgressCallback | None,
        retry: RetryPolicy | None,
    ) -> Operation:
        """Poll ``operation`` until it is done; raise :class:`FileProcessingError` if it failed."""
        from ..models.operations import OperationStatus

        current = operation
        polls = 0

        async def poll() -> Polled:
            nonlocal current, polls
            if polls:
                current = await self._describe_operation(assistant_name, current.id, retry=retry)
            polls += 1
            if current.status == OperationStatus.FAILED:
                reason = current.error_message
                raise FileProcessingError(
                    f"{what} failed (operation {current.id})" + (f": {reason}" if reason else ""),
                    name=current.file_id or "",
                    status=current.status,
                    reason=reason,
                )
            percent = current.percent_complete
            return Polled(
                done=current.is_done,
                status=current.status,
                percent=None if percent is None else float(percent),
            )

        await wait_until(
            poll,
            timeout=timeout,
            what=f"{what} (operation {operation.id}) did not finish",
            progress=progress,
        )
        return current
