"""The 8.x method names the official SDK 10.x keeps (``create_assistant``, ...), for
:class:`aiopinecone.compat.AsyncAssistants`: each calls its 10.x method, positional
``assistant_name`` included."""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Any, Protocol

from ._compat_args import one_name
from .exceptions import ValidationError

if TYPE_CHECKING:
    from .models import Assistant
    from .models.assistants import AssistantList
    from .resources._pages import Pager

__all__ = ["LegacyNames"]


class _TenX(Protocol):
    """The 10.x methods the 8.x names call (``compat.AsyncAssistants``)."""

    async def create(self, *, name: str | None = ..., **kwargs: Any) -> Assistant: ...
    async def describe(self, *, name: str | None = ..., **kwargs: Any) -> Assistant: ...
    async def update(self, *, name: str | None = ..., **kwargs: Any) -> Assistant: ...
    async def delete(self, *, name: str | None = ..., **kwargs: Any) -> None: ...
    def list(self) -> Pager[Assistant]: ...
    async def list_page(self, **kwargs: Any) -> AssistantList: ...


class LegacyNames:
    """8.x's names over the 10.x methods of :class:`~aiopinecone.compat.AsyncAssistants`."""

    async def create_assistant(
        self: _TenX,
        assistant_name: str | None = None,
        instructions: str | None = None,
        metadata: dict[str, Any] | None = None,
        region: str = "us",
        timeout: float | None = None,
        *,
        name: str | None = None,
        **kwargs: Any,
    ) -> Assistant:
        """8.x's name of :meth:`create`."""
        return await self.create(
            name=one_name(name, assistant_name, "create_assistant"),
            instructions=instructions,
            metadata=metadata,
            region=region,
            timeout=timeout,
            **kwargs,
        )

    async def describe_assistant(
        self: _TenX,
        assistant_name: str | None = None,
        *,
        name: str | None = None,
        **kwargs: Any,
    ) -> Assistant:
        """8.x's name of :meth:`describe`."""
        return await self.describe(
            name=one_name(name, assistant_name, "describe_assistant"), **kwargs
        )

    async def list_assistants(self: _TenX) -> builtins.list[Assistant]:
        """8.x's name: every assistant, as a list."""
        return await self.list()

    async def list_assistants_paginated(
        self: _TenX,
        limit: int | None = None,
        pagination_token: str | None = None,
        *,
        page_size: int | None = None,
        **kwargs: Any,
    ) -> AssistantList:
        """8.x's name of :meth:`list_page`."""
        if limit is not None and page_size is not None:
            raise ValidationError("list_assistants_paginated: give limit= or page_size=")
        return await self.list_page(
            page_size=page_size if page_size is not None else limit,
            pagination_token=pagination_token,
            **kwargs,
        )

    async def update_assistant(
        self: _TenX,
        assistant_name: str | None = None,
        instructions: str | None = None,
        metadata: dict[str, Any] | None = None,
        *,
        name: str | None = None,
        **kwargs: Any,
    ) -> Assistant:
        """8.x's name of :meth:`update`."""
        return await self.update(
            name=one_name(name, assistant_name, "update_assistant"),
            instructions=instructions,
            metadata=metadata,
            **kwargs,
        )

    async def delete_assistant(
        self: _TenX,
        assistant_name: str | None = None,
        timeout: float | None = None,
        *,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        """8.x's name of :meth:`delete`."""
        await self.delete(
            name=one_name(name, assistant_name, "delete_assistant"), timeout=timeout, **kwargs
        )
