"""A client for programs written for the official SDK (``pinecone`` 10.x): change one import.

::

    from aiopinecone.compat import AsyncPinecone   # was: from pinecone import AsyncPinecone

    async with AsyncPinecone(api_key="...") as pc:
        a = await pc.assistants.create(name="support", timeout=60)   # waits for Ready, as 10.x

It is the same client (one pool, retries that never duplicate, typed errors, the rate governor)
with 10.x's keyword names and meanings where they differ from :class:`aiopinecone.AsyncPinecone`:

- ``timeout=`` on ``create``, ``update``, ``delete``, ``upload_file`` and ``delete_file`` is a
  *wait*, as in 10.x: seconds to wait for the assistant to be ready (or gone) or the file to be
  processed (or deleted); ``None`` (default) waits without limit, ``-1`` does not wait. The HTTP
  timeout of those calls is the client's (``AsyncPinecone(timeout=...)``).
- ``timeout=`` on chat, chat completions and streams is the HTTP timeout (a stream's: between
  chunks), as in 10.x.
- The legacy names 10.x keeps for 8.x programs: ``create_assistant``, ``describe_assistant``,
  ``list_assistants``, ``list_assistants_paginated``, ``update_assistant``,
  ``delete_assistant`` (positional ``assistant_name`` included).

Every other method is the main client's (``list()`` returns the same awaitable, async-iterable
pager as 10.x's). Why a separate client: in the main client ``timeout=`` is the per-request
HTTP timeout on every method, and changing that would silently change programs written for
aiopinecone; here a 10.x program keeps its meaning, and nothing is silently different.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import IO, Any, Final

from ._client import AsyncPinecone as _AsyncPinecone
from ._compat_args import no_extra, one_name, wait_of
from ._compat_legacy import LegacyNames
from ._retry import RetryPolicy
from .exceptions import ValidationError
from .models import Assistant, AssistantFile
from .models.assistants import AssistantList
from .resources import Assistants as _Assistants
from .resources._pages import Pager

__all__ = ["AsyncAssistants", "AsyncPinecone"]


class AsyncAssistants(LegacyNames):
    """``pc.assistants`` of :class:`AsyncPinecone` (compat): the official SDK 10.x's names
    and ``timeout`` meanings over aiopinecone's :class:`~aiopinecone.Assistants`."""

    def __init__(self, assistants: _Assistants, close: Callable[[], Awaitable[None]]) -> None:
        self._a = assistants
        self._close = close

    async def close(self) -> None:
        """Close the client's connection pool (10.x's ``pc.assistants.close()``)."""
        await self._close()

    def __getattr__(self, name: str) -> Any:
        # Everything 10.x names the same way: the main client's method.
        return getattr(self._a, name)

    # -- assistants ------------------------------------------------------------------------

    async def create(
        self,
        *,
        name: str | None = None,
        instructions: str | None = None,
        metadata: dict[str, Any] | None = None,
        region: str = "us",
        environment: str | None = None,
        timeout: float | None = None,
        retry: RetryPolicy | None = None,
        **kwargs: Any,
    ) -> Assistant:
        """Create an assistant and (unless ``timeout=-1``) wait until it is ready."""
        chosen = one_name(name, kwargs.pop("assistant_name", None), "create")
        no_extra(kwargs, "create")
        wait, seconds = wait_of(timeout, "create")
        return await self._a.create(
            name=chosen,
            instructions=instructions,
            metadata=metadata,
            region=region,
            environment=environment,
            wait=wait,
            wait_timeout=seconds,
            retry=retry,
        )

    async def describe(self, *, name: str | None = None, **kwargs: Any) -> Assistant:
        """Describe an assistant."""
        chosen = one_name(name, kwargs.pop("assistant_name", None), "describe")
        retry = kwargs.pop("retry", None)
        no_extra(kwargs, "describe")
        return await self._a.describe(name=chosen, retry=retry)

    async def update(
        self,
        *,
        name: str | None = None,
        instructions: str | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Assistant:
        """Update the given fields of an assistant."""
        chosen = one_name(name, kwargs.pop("assistant_name", None), "update")
        retry = kwargs.pop("retry", None)
        kwargs.pop("timeout", None)  # 10.x accepts it and returns once the update is answered
        no_extra(kwargs, "update")
        fields: dict[str, Any] = {}
        if instructions is not None:
            fields["instructions"] = instructions
        if metadata is not None:
            fields["metadata"] = metadata
        return await self._a.update(name=chosen, retry=retry, **fields)

    async def delete(
        self, *, name: str | None = None, timeout: float | None = None, **kwargs: Any
    ) -> None:
        """Delete an assistant and (unless ``timeout=-1``) wait until it is gone."""
        chosen = one_name(name, kwargs.pop("assistant_name", None), "delete")
        retry = kwargs.pop("retry", None)
        no_extra(kwargs, "delete")
        wait, seconds = wait_of(timeout, "delete")
        await self._a.delete(name=chosen, wait=wait, wait_timeout=seconds, retry=retry)

    def list(
        self, *, limit: int | None = None, pagination_token: str | None = None
    ) -> Pager[Assistant]:
        """Every assistant, lazily (awaitable and async-iterable)."""
        return self._a.list(limit=limit, pagination_token=pagination_token)

    async def list_page(
        self,
        *,
        page_size: int | None = None,
        pagination_token: str | None = None,
        **kwargs: Any,
    ) -> AssistantList:
        """One page of assistants (``limit`` is 10.x's legacy name of ``page_size``)."""
        if "limit" in kwargs:
            if page_size is not None:
                raise ValidationError("list_page: give page_size= or limit=, not both")
            page_size = kwargs.pop("limit")
        retry = kwargs.pop("retry", None)
        no_extra(kwargs, "list_page")
        return await self._a.list_page(
            page_size=page_size, pagination_token=pagination_token, retry=retry
        )

    # -- files -----------------------------------------------------------------------------

    async def upload_file(
        self,
        *,
        assistant_name: str,
        file_path: str | os.PathLike[str] | None = None,
        file_stream: IO[bytes] | None = None,
        file_name: str | None = None,
        metadata: dict[str, Any] | None = None,
        multimodal: bool | None = None,
        file_id: str | None = None,
        timeout: float | None = None,
        retry: RetryPolicy | None = None,
    ) -> AssistantFile:
        """Upload a file and (unless ``timeout=-1``) wait until it is processed."""
        wait, seconds = wait_of(timeout, "upload_file")
        return await self._a.upload_file(
            assistant_name=assistant_name,
            file_path=file_path,
            file_stream=file_stream,
            file_name=file_name,
            metadata=metadata,
            multimodal=multimodal,
            file_id=file_id,
            wait=wait,
            wait_timeout=seconds,
            retry=retry,
        )

    async def delete_file(
        self,
        *,
        assistant_name: str,
        file_id: str,
        timeout: float | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        """Delete a file and (unless ``timeout=-1``) wait until it is gone."""
        wait, seconds = wait_of(timeout, "delete_file")
        await self._a.delete_file(
            assistant_name=assistant_name,
            file_id=file_id,
            wait=wait,
            wait_timeout=seconds,
            retry=retry,
        )

    async def list_files_page(
        self,
        *,
        assistant_name: str,
        page_size: int | None = None,
        pagination_token: str | None = None,
        filter: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        """One page of files (``limit`` is 10.x's legacy name of ``page_size``)."""
        if "limit" in kwargs:
            if page_size is not None:
                raise ValidationError("list_files_page: give page_size= or limit=, not both")
            page_size = kwargs.pop("limit")
        retry = kwargs.pop("retry", None)
        no_extra(kwargs, "list_files_page")
        return await self._a.list_files_page(
            assistant_name=assistant_name,
            filter=filter,
            page_size=page_size,
            pagination_token=pagination_token,
            retry=retry,
        )

    # -- chat: timeout is the HTTP timeout, as in 10.x (a stream's: between chunks) -------------

    async def chat(self, *, timeout: float | None = None, **kwargs: Any) -> Any:
        """Chat; ``timeout`` is the request's (a stream's: the longest gap between chunks)."""
        if kwargs.get("stream"):
            return await self._a.chat(read_timeout=timeout, **kwargs)
        return await self._a.chat(timeout=timeout, **kwargs)

    async def chat_completions(self, *, timeout: float | None = None, **kwargs: Any) -> Any:
        """Chat completions; ``timeout`` as in :meth:`chat`."""
        if kwargs.get("stream"):
            return await self._a.chat_completions(read_timeout=timeout, **kwargs)
        return await self._a.chat_completions(timeout=timeout, **kwargs)


class AsyncPinecone:
    """The client of this module: :class:`aiopinecone.AsyncPinecone` (``.client``) whose
    ``assistants`` speak the official SDK 10.x's keywords (see the module documentation).

    Takes 10.x's arguments: ``api_key`` (also positional), ``host``, ``additional_headers``,
    ``source_tag``, ``proxy_url``, ``ssl_ca_certs``, ``ssl_verify``, ``timeout`` (the HTTP
    timeout, as in both clients), ``connection_pool_maxsize`` (0: the default pool); and any
    keyword of :class:`aiopinecone.AsyncPinecone` (``retry=``, ``rate_limits=``...).
    ``proxy_headers`` and ``retry_config`` are refused with a clear error (aiopinecone has
    ``proxy_auth=`` and ``retry=aiopinecone.RetryPolicy(...)`` instead).
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        host: str | None = None,
        additional_headers: Mapping[str, str] | None = None,
        source_tag: str | None = None,
        proxy_url: str | None = None,
        proxy_headers: Mapping[str, str] | None = None,
        ssl_ca_certs: str | None = None,
        ssl_verify: bool = True,
        timeout: float | None = None,
        connection_pool_maxsize: int = 0,
        retry_config: object = None,
        **kwargs: Any,
    ) -> None:
        if proxy_headers is not None:
            raise ValidationError(
                "proxy_headers is not supported: pass proxy_auth=(user, password) for a proxy "
                "that needs credentials"
            )
        if retry_config is not None:
            raise ValidationError(
                "retry_config is the official SDK's: pass retry=aiopinecone.RetryPolicy(...)"
            )
        if additional_headers is not None:
            if "headers" in kwargs:
                raise ValidationError("give headers= or additional_headers=, not both")
            kwargs["headers"] = additional_headers
        if proxy_url is not None:
            kwargs.setdefault("proxy", proxy_url)
        if not ssl_verify:
            kwargs.setdefault("ssl", False)
        elif ssl_ca_certs is not None:
            kwargs.setdefault("ssl", ssl_ca_certs)
        if connection_pool_maxsize:
            kwargs.setdefault("max_connections", connection_pool_maxsize)
        self.client: Final = _AsyncPinecone(
            api_key=api_key, host=host, source_tag=source_tag, timeout=timeout, **kwargs
        )
        """The main client underneath (its own keyword meanings)."""
        self.assistants: Final = AsyncAssistants(self.client.assistants, self.client.close)
        """Assistants with the official SDK 10.x's keywords."""

    def __getattr__(self, name: str) -> Any:
        # host, api_version, retry, session, connector, closed, governor...: the main client's
        if name == "client":  # not built (the constructor failed)
            raise AttributeError(name)
        return getattr(self.client, name)

    async def close(self) -> None:
        """Close the connection pool. Idempotent."""
        await self.client.close()

    async def __aenter__(self) -> AsyncPinecone:
        await self.client.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.client.close()

    def __repr__(self) -> str:
        return f"compat.{self.client!r}"
