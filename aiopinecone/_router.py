"""The data-plane router: which host an assistant's requests go to, and what to do when it moved.

One :class:`Router` per client owns the single-flight host cache (``_hosts.HostCache``), the
describe that resolves a host, the https/loopback policy for the API key, and the retry on a
stale host. Resources send data-plane requests through :meth:`Router.request` /
:meth:`Router.stream`; the control plane tells it what it learned (:meth:`Router.remember`,
:meth:`Router.forget`).

Stale hosts: when the host answers 404 about the *assistant* (deleted, or re-created on another
host) or cannot be reached at all, the cached entry is forgotten; if the URL came from the
cache, it is resolved afresh and the request is sent once more when the host changed. A 404
about a file or operation (``file_level=True``) leaves the cache alone.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Final, TypeVar

import aiohttp

from ._hosts import HostCache
from ._retry import RetryPolicy
from .exceptions import NotFoundError, ResponseParseError, TransportError, ValidationError
from .models.assistants import Assistant

if TYPE_CHECKING:
    from ._admission import TokenCharge
    from ._core import Core, Reconcile, Response

__all__ = ["Router", "is_loopback"]

T = TypeVar("T")

_LOOPBACK_NAMES: Final = frozenset({"localhost", "::1", "[::1]"})
_MAX_LOOPBACK_HOSTS: Final = 64


def is_loopback(hostname: str) -> bool:
    """``localhost``, ``127.0.0.0/8`` or ``::1``.

    Only IP literals and ``localhost`` count: ``127.0.0.1.example.com`` is a DNS name that can
    point anywhere, so it is not loopback.
    """
    name = hostname.lower()
    if name in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name.removeprefix("[").removesuffix("]")).is_loopback
    except ValueError:
        return False


def _about_assistant(error: NotFoundError) -> bool:
    # A 404 about a file or an operation ("File with id ... not found in assistant ...") leaves
    # the host valid; one about the assistant ('Assistant "x" not found.') does not.
    return error.message.lstrip().lower().startswith("assistant")


class Router:
    """Data-plane base URLs per assistant, and requests sent to them."""

    __slots__ = ("_core", "_loopback_hosts", "_primed", "allow_insecure_http", "hosts")

    def __init__(self, core: Core, *, allow_insecure_http: bool = False) -> None:
        self._core = core
        self.allow_insecure_http: Final = allow_insecure_http
        self.hosts: Final = HostCache(self._resolve)
        self._primed: dict[str, str] = {}
        self._loopback_hosts: set[str] = set()

    # -- the host cache ---------------------------------------------------------------------

    async def base_url(self, assistant_name: str) -> str:
        """The assistant's data-plane base URL ``{assistant.host}/assistant`` (cached)."""
        return await self.hosts.get(assistant_name)

    def remember(self, assistant: Assistant) -> None:
        """Prime the host cache from a create/describe/list result."""
        host = assistant.host
        name = assistant.name
        # Hot path (every describe): skip the work when the cache already holds this host
        # (``_primed`` only holds names the cache holds: every forget goes through forget()).
        if host and self._primed.get(name) != host and self.host_allowed(host):
            self.hosts.prime(name, host)
            self._primed[name] = host

    def forget(self, name: str) -> None:
        """Drop ``name`` from the host cache (deleted, or its host answered 404)."""
        self._primed.pop(name, None)
        self.hosts.forget(name)

    def forget_all(self) -> None:
        """Drop every cached host (client closing)."""
        self._primed.clear()
        self.hosts.clear()

    def host_allowed(self, host: str) -> bool:
        """Whether the API key may be sent to ``host``: https, loopback, or allowed insecure."""
        if self.allow_insecure_http or not host.lower().startswith("http://"):
            return True
        if host in self._loopback_hosts:
            return True
        hostname = host[7:].partition("/")[0].rpartition("@")[2]
        hostname = hostname.rsplit(":", 1)[0] if not hostname.endswith("]") else hostname
        allowed = is_loopback(hostname)
        network = self._core.transport.network
        if allowed and network is not None and network.clear_text_proxy(host) is not None:
            return False  # the key would reach a proxy that is not on loopback in clear text
        # Every assistant of an emulator shares one http host: parse its address once, not on
        # every create (ipaddress costs as much as the rest of remember()).
        if allowed and len(self._loopback_hosts) < _MAX_LOOPBACK_HOSTS:
            self._loopback_hosts.add(host)
        return allowed

    async def _resolve(self, name: str) -> str:
        core = self._core
        response = await core.request("GET", core.assistant_url(name), op="describe_assistant")
        assistant = core.parse(response, Assistant)
        if not assistant.host:
            raise ResponseParseError(
                f"assistant {name!r} has no data-plane host (status {assistant.status})",
                path="$.host",
                request_id=response.request_id,
            )
        if not self.host_allowed(assistant.host):
            raise ValidationError(
                f"refusing to send the API key over plain http to {assistant.host!r} (the data "
                f"plane of assistant {name!r}); pass allow_insecure_http=True to allow it"
            )
        return assistant.host

    # -- requests ---------------------------------------------------------------------------

    async def request(
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
        timeout: float | aiohttp.ClientTimeout | None = None,
        reconcile: Reconcile | None = None,
        tokens: TokenCharge | None = None,
    ) -> Response:
        """``Core.request`` of ``method {data-plane base}{path}``, re-sent once on a stale host.

        ``file_level``: the path names a file or operation, so a 404 that does not mention the
        assistant is about that object and leaves the cached host alone.
        """
        core = self._core

        def send(base: str) -> Awaitable[Response]:
            return core.request(
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
                reconcile=reconcile,
                tokens=tokens,
            )

        return await self._routed(assistant_name, send, file_level=file_level)

    async def stream(
        self,
        assistant_name: str,
        path: str,
        *,
        op: str,
        json: Any,
        retry: RetryPolicy | None,
        read_timeout: float | None,
        tokens: TokenCharge | None = None,
    ) -> Response:
        """``POST`` and open the streamed response (same host handling as :meth:`request`)."""
        core = self._core

        def send(base: str) -> Awaitable[Response]:
            return core.stream(
                "POST",
                base + path,
                op=op,
                json=json,
                idempotent=True,
                retry=retry,
                read_timeout=read_timeout,
                tokens=tokens,
            )

        return await self._routed(assistant_name, send, file_level=False)

    async def _routed(
        self, assistant_name: str, send: Callable[[str], Awaitable[T]], *, file_level: bool
    ) -> T:
        """The one stale-host rule: send to the cached (or resolved) base; on an assistant-level
        404 or a connect failure forget it, and re-send once if a fresh resolve moved it."""
        hosts = self.hosts
        cached = hosts.peek(assistant_name)
        base = cached if cached is not None else await hosts.get(assistant_name)
        try:
            return await send(base)
        except NotFoundError as exc:
            if file_level and not _about_assistant(exc):
                raise
            fresh = await self._refresh(assistant_name, cached, exc)
        except TransportError as exc:
            if exc.ambiguous:
                raise
            fresh = await self._refresh(assistant_name, cached, exc)
        try:
            return await send(fresh)
        except NotFoundError as exc:
            if not file_level or _about_assistant(exc):
                self.forget(assistant_name)
            raise
        except TransportError as exc:
            if not exc.ambiguous:
                self.forget(assistant_name)
            raise

    async def _refresh(self, assistant_name: str, cached: str | None, error: Exception) -> str:
        """Forget the host; return a new one to retry with, or re-raise ``error``."""
        self.forget(assistant_name)
        if cached is None:
            raise error
        try:
            fresh = await self.hosts.get(assistant_name)
        except NotFoundError:
            raise error from None
        if fresh == cached:
            raise error
        return fresh
