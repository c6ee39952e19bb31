"""What every data-plane mixin shares: requests to an assistant's host, waiting, progress.

A data-plane request resolves the assistant's base URL through the single-flight host cache.
When the host answers 404 about the *assistant* (deleted, or re-created on another host) or
cannot be reached at all, the cached entry is forgotten; if the URL came from the cache, it is
resolved afresh and the request is sent once more when the host changed.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Final, TypeAlias
from urllib.parse import quote

import aiohttp

from .._retry import RetryPolicy
from .._transport import ByteStream
from .._validation import check_assistant_name
from ..exceptions import NotFoundError, TransportError, ValidationError

if TYPE_CHECKING:
    from .._core import Core, Response

__all__ = ["DataPlaneMixin", "Progress", "Timeout", "check_wait_timeout", "quote_id"]

Timeout: TypeAlias = float | aiohttp.ClientTimeout | None
Progress: TypeAlias = Callable[[float], Awaitable[object] | object]
"""A progress callback: called with the percentage done (0-100); may be a coroutine function."""

FIRST_POLL: Final = 1.0
MAX_POLL: Final = 10.0


_MAX_ID_LENGTH: Final = 128
"""The longest id Pinecone lets anyone choose (upsert's file_id); its own ids are UUIDs."""


def quote_id(value: object, field: str) -> str:
    """A non-empty string id, percent-encoded for use as one path segment."""
    if not isinstance(value, str) or not value:
        raise ValidationError(f"{field} must be a non-empty string, got {value!r}")
    if (
        len(value) > _MAX_ID_LENGTH
        or value in (".", "..")  # URL normalization would turn them into other paths
        or any(ch < " " or ch == "\x7f" for ch in value)
    ):
        raise ValidationError(
            f"{field} must be at most {_MAX_ID_LENGTH} printable characters (not '.' or '..'), "
            f"got {value[:40]!r}" + ("..." if len(value) > 40 else "")
        )
    try:
        return quote(value, safe="")
    except UnicodeEncodeError:
        raise ValidationError(f"{field} {value!r} is not valid Unicode text") from None


def check_wait_timeout(timeout: object) -> None:
    """``None`` (no limit) or a number of seconds > 0."""
    if timeout is None:
        return
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
        raise ValidationError(
            f"wait_timeout must be a number of seconds > 0 or None, got {timeout!r}"
        )


def check_progress(progress: object) -> None:
    """``None`` or a callable."""
    if progress is not None and not callable(progress):
        raise ValidationError(f"progress must be a callable or None, got {progress!r}")


async def report(progress: Progress | None, percent: float | None) -> None:
    """Call ``progress(percent)`` (awaiting it when it returns an awaitable)."""
    if progress is None or percent is None:
        return
    result = progress(percent)
    if inspect.isawaitable(result):
        await result


def _about_assistant(error: NotFoundError) -> bool:
    # A 404 about a file or an operation ("File with id ... not found in assistant ...") leaves
    # the host valid; one about the assistant ('Assistant "x" not found.') does not.
    return error.message.lstrip().lower().startswith("assistant")


class DataPlaneMixin:
    """Request helpers for the mixins that talk to an assistant's data plane."""

    _core: Core

    def _check_name(self, assistant_name: str) -> None:
        check_assistant_name(assistant_name, self._core.api_version, field="assistant_name")

    async def _dp_request(
        self,
        assistant_name: str,
        method: str,
        path: str,
        *,
        op: str,
        file_level: bool = False,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        data: Callable[[], Any] | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        retry: RetryPolicy | None = None,
        timeout: Timeout = None,
    ) -> Response:
        """Send ``method {data-plane base}{path}``; see the module docstring for 404 handling.

        ``file_level``: the path names a file or operation, so a 404 that does not mention the
        assistant is about that object and leaves the cached host alone.
        """
        core = self._core
        hosts = core.hosts
        cached = hosts.peek(assistant_name)
        base = cached if cached is not None else await hosts.get(assistant_name)
        for _ in range(2):
            try:
                return await core.request(
                    method,
                    base + path,
                    op=op,
                    params=params,
                    json=json,
                    data=data,
                    headers=headers,
                    idempotent=idempotent,
                    retry=retry,
                    timeout=timeout,
                )
            except NotFoundError as exc:
                if file_level and not _about_assistant(exc):
                    raise
                fresh = await self._refresh(assistant_name, cached, exc)
            except TransportError as exc:
                if exc.ambiguous:
                    raise
                fresh = await self._refresh(assistant_name, cached, exc)
            cached, base = None, fresh
        raise AssertionError("unreachable")  # pragma: no cover

    async def _refresh(self, assistant_name: str, cached: str | None, error: Exception) -> str:
        """Forget the host; return a new one to retry with, or re-raise ``error``."""
        hosts = self._core.hosts
        hosts.forget(assistant_name)
        if cached is None:
            raise error
        try:
            fresh = await hosts.get(assistant_name)
        except NotFoundError:
            raise error from None
        if fresh == cached:
            raise error
        return fresh

    @asynccontextmanager
    async def _dp_stream(
        self,
        assistant_name: str,
        path: str,
        *,
        op: str,
        json: Any,
        retry: RetryPolicy | None,
        read_timeout: float | None,
    ) -> AsyncIterator[ByteStream]:
        """``POST`` and stream the response body (same host handling as ``_dp_request``)."""
        core = self._core
        hosts = core.hosts
        cached = hosts.peek(assistant_name)
        base = cached if cached is not None else await hosts.get(assistant_name)
        for _ in range(2):
            try:
                manager = core.stream(
                    "POST",
                    base + path,
                    op=op,
                    json=json,
                    idempotent=True,
                    retry=retry,
                    read_timeout=read_timeout,
                )
                body = await manager.__aenter__()
            except NotFoundError as exc:
                fresh = await self._refresh(assistant_name, cached, exc)
            except TransportError as exc:
                if exc.ambiguous:
                    raise
                fresh = await self._refresh(assistant_name, cached, exc)
            else:
                try:
                    yield body
                except BaseException as exc:
                    if not await manager.__aexit__(type(exc), exc, exc.__traceback__):
                        raise
                else:
                    await manager.__aexit__(None, None, None)
                return
            cached, base = None, fresh
        raise AssertionError("unreachable")  # pragma: no cover
