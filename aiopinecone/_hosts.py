"""Single-flight cache of data-plane base URLs, one per assistant.

``N`` concurrent first calls for one assistant share one resolve (a control-plane ``describe``);
its result is cached until :meth:`HostCache.forget`. A failed resolve is not cached: every waiter
gets the exception and the next call tries again. Cancelling one waiter never cancels the
shared resolve the others are waiting for.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiopinecone.exceptions import ResponseParseError

__all__ = ["HostCache", "data_plane_url"]

_SCHEMES = ("http://", "https://")


def data_plane_url(host: str) -> str:
    """The data-plane base URL for an assistant ``host``: ``{scheme://host}/assistant``.

    ``http://`` is kept when the server gives it (emulators, proxies); a bare host gets
    ``https://``.
    """
    host = host.strip().rstrip("/")
    if not host:
        raise ResponseParseError("the assistant has no data-plane host", path="$.host")
    if "://" in host:
        if not host.lower().startswith(_SCHEMES):
            raise ResponseParseError(
                f"unsupported scheme in assistant host {host!r}", path="$.host"
            )
    else:
        host = "https://" + host
    return host + "/assistant"


class HostCache:
    """``assistant name -> data-plane base URL`` with single-flight resolution.

    ``resolve(name)`` returns the assistant's ``host`` as the control plane reports it; the cache
    turns it into a base URL with :func:`data_plane_url`.
    """

    __slots__ = ("_inflight", "_resolve", "_urls")

    def __init__(self, resolve: Callable[[str], Awaitable[str]]) -> None:
        self._resolve = resolve
        self._urls: dict[str, str] = {}
        # The one resolve under way per name; forget() unregisters it, so that a resolve which
        # started before a forget() does not store its (stale) URL when it ends.
        self._inflight: dict[str, asyncio.Task[str]] = {}

    def peek(self, name: str) -> str | None:
        """The cached base URL for ``name``, without resolving."""
        return self._urls.get(name)

    def prime(self, name: str, host: str | None) -> None:
        """Cache ``host`` for ``name`` (from a create/describe/list result); ignores empty hosts."""
        if host:
            self._urls[name] = data_plane_url(host)

    def forget(self, name: str) -> None:
        """Drop ``name`` (deleted assistant, or its host answered 404)."""
        self._urls.pop(name, None)
        self._inflight.pop(name, None)

    def clear(self) -> None:
        """Drop every entry and cancel resolves nobody needs any more (client closing)."""
        tasks = list(self._inflight.values())
        for name in list(self._urls) + list(self._inflight):
            self.forget(name)
        for task in tasks:
            task.cancel()

    async def get(self, name: str) -> str:
        """The base URL for ``name``; resolves it at most once for concurrent callers."""
        url = self._urls.get(name)
        if url is not None:
            return url
        task = self._inflight.get(name)
        if task is None:
            task = asyncio.ensure_future(self._run(name))
            self._inflight[name] = task
            task.add_done_callback(self._done)
        # shield: a cancelled waiter leaves the shared resolve running for the others.
        return await asyncio.shield(task)

    async def _run(self, name: str) -> str:
        try:
            url = data_plane_url(await self._resolve(name))
        finally:
            current = self._inflight.get(name) is asyncio.current_task()
            if current:
                del self._inflight[name]
        if current:
            self._urls[name] = url
        return url

    @staticmethod
    def _done(task: asyncio.Task[str]) -> None:
        # Every waiter may have been cancelled: mark the exception retrieved so asyncio does
        # not log "Task exception was never retrieved"; waiters still get it through shield.
        if not task.cancelled():
            task.exception()
