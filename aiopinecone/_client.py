"""``AsyncPinecone``: configuration, session ownership, base URLs."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

import aiohttp

from ._core import Core
from ._governor import Governor, RateLimits
from ._governor._projects import project_namespace, project_store
from ._network import SslOption, build_network, check_extra_headers, source_tag_field
from ._redisconn import REDIS_URL_ENV
from ._retry import RetryPolicy
from ._router import Router, is_loopback
from ._transport import DEFAULT_POOL_TIMEOUT, Transport, to_client_timeout
from ._validation import DEFAULT_API_VERSION, check_api_version, check_seconds
from ._version import __version__
from .exceptions import ValidationError
from .resources import Assistants

if TYPE_CHECKING:
    from ._governor import BudgetStore
    from ._governor._redis import RedisStore

__all__ = ["DEFAULT_HOST", "AsyncPinecone"]

DEFAULT_HOST: Final = "https://api.pinecone.io"
API_KEY_ENV: Final = "PINECONE_API_KEY"
HOST_ENV: Final = "PINECONE_CONTROLLER_HOST"


def _user_agent(source_tag: str | None = None) -> str:
    agent = f"aiopinecone/{__version__} aiohttp/{aiohttp.__version__}"
    return agent if source_tag is None else f"{agent}; {source_tag_field(source_tag)}"


class AsyncPinecone:
    """The asyncio client for the Pinecone Assistant API.

    One pooled aiohttp session serves the control plane, every assistant's data plane and
    evaluation. Use it as ``async with AsyncPinecone() as pc:`` or call :meth:`close`.

    Configuration comes from the arguments, then the environment (``PINECONE_API_KEY``,
    ``PINECONE_CONTROLLER_HOST``), then defaults. Invalid configuration raises
    :class:`~aiopinecone.ValidationError` here, before any request.

    - ``api_key``: sent only in the ``Api-Key`` header; never shown in ``repr``, logs or errors.
    - ``host``: control-plane origin (default ``https://api.pinecone.io``; a bare host gets
      ``https://``). Plain ``http://`` is refused for hosts that are not loopback unless
      ``allow_insecure_http=True``: the API key would travel in clear text.
    - ``api_version``: ``"2025-04"``, ``"2025-10"``, ``"2026-04"`` or ``"2026-07"`` (default:
      the newest; 2026-07 is the same Assistant API as 2026-04: uploads are operations, lists
      paginate).
    - ``retry``: the default :class:`~aiopinecone.RetryPolicy` (every method takes ``retry=``).
    - ``timeout``: seconds (total per request) or an ``aiohttp.ClientTimeout`` (every method
      takes ``timeout=``). Default: 120 s total, 10 s to connect. It starts once the request
      has a pooled connection: the wait for one is ``pool_timeout``'s.
    - ``max_connections`` / ``max_connections_per_host``: pool limits (per host: 0 = no limit
      beyond the total; a wait for the per-host limit counts in ``timeout``).
    - ``pool_timeout``: seconds a request may wait for a free connection when all
      ``max_connections`` are busy (default 120; ``None``: no limit), then
      :class:`~aiopinecone.PoolTimeoutError` (not sent, never retried).
    - ``session``: your own ``aiohttp.ClientSession``; it is used as is and never closed (pool
      limits and the default timeout are then yours to set on it).
    - ``evaluation_host``: origin of the evaluation API. Default: Pinecone's US/EU evaluation
      hosts, or ``host`` itself when ``host`` is not Pinecone's (an emulator or a proxy).
    - ``rate_limits``: the rate governor every request goes through (README "Rate limits").
      ``None`` (default): adaptive, learning each operation class's limit from the Starter
      plan's up; a plan (``"starter"``, ``"standard"``, ``"enterprise"``: exact limits), a
      mapping of operation class to requests per minute, a :class:`~aiopinecone.RateLimits`,
      ``"off"``; or a :class:`~aiopinecone.Governor` to share one budget between clients.
      Without a ``Governor`` (or Redis), the clients of one project (API key and host, or
      ``RateLimits.namespace``) made in one thread share one budget and what it learnt, open
      at once or one after another.

    Networks (README "Networks and proxies"; these shape the session the client creates, so
    they cannot be combined with ``session=``):

    - ``proxy``: an ``http://`` or ``https://`` proxy URL, credentials in it or in
      ``proxy_auth=(login, password)``. https origins go through a
      ``CONNECT`` tunnel; a plain-http origin may only use a proxy on loopback (the key would
      reach the proxy in clear text).
    - ``trust_env``: honour ``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY`` (and ``~/.netrc``
      credentials) as aiohttp does. Default ``False``, as in aiohttp and the official SDK:
      where the key goes does not depend on variables a process inherits.
    - ``ssl``: an ``ssl.SSLContext`` (client certificates, pinning...), a CA bundle path (a file
      or a directory; TLS-inspecting proxies, private CAs), ``True`` (default verification) or
      ``False`` (no verification: logged as a warning, never do it outside a lab).
    - ``trace_configs``: ``aiohttp.TraceConfig`` objects for the session (aiohttp's own
      OpenTelemetry instrumentation works through these).
    - ``source_tag``: appended to the User-Agent as ``; source_tag=<tag>`` (normalized like the
      official SDK: lowercase ``[a-z0-9_ :]``, spaces to ``_``).
    - ``headers``: extra headers for every request (not ``Api-Key``, the version or
      ``Authorization``).
    - ``tracing``: one OpenTelemetry span per API operation (README "Tracing"): ``True`` (the
      global tracer provider) or a ``TracerProvider``; needs ``aiopinecone[otel]``. Default off,
      at no cost.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        host: str | None = None,
        api_version: str = DEFAULT_API_VERSION,
        retry: RetryPolicy | None = None,
        timeout: float | aiohttp.ClientTimeout | None = None,
        max_connections: int = 100,
        max_connections_per_host: int = 0,
        session: aiohttp.ClientSession | None = None,
        evaluation_host: str | None = None,
        allow_insecure_http: bool = False,
        pool_timeout: float | None = DEFAULT_POOL_TIMEOUT,
        proxy: str | None = None,
        proxy_auth: aiohttp.BasicAuth | tuple[str, str] | None = None,
        trust_env: bool = False,
        ssl: SslOption = None,
        trace_configs: Iterable[aiohttp.TraceConfig] | None = None,
        source_tag: str | None = None,
        headers: Mapping[str, str] | None = None,
        rate_limits: RateLimits | Governor | str | Mapping[str, float | None] | None = None,
        tracing: object = False,
    ) -> None:
        key = api_key if api_key is not None else os.environ.get(API_KEY_ENV)
        if not key or not isinstance(key, str) or not key.strip():
            raise ValidationError(
                f"no API key: pass api_key=... or set the {API_KEY_ENV} environment variable"
            )
        # Any whitespace or control character: aiohttp would refuse the header at request time
        # with a bare ValueError (or send a key the server cannot match).
        if not key.isprintable() or any(ch.isspace() for ch in key):
            raise ValidationError("the API key contains whitespace or control characters")
        api_version = check_api_version(api_version)
        if retry is not None and not isinstance(retry, RetryPolicy):
            raise ValidationError(f"retry must be a RetryPolicy, got {type(retry).__name__}")
        client_timeout = to_client_timeout(timeout)
        pool_timeout = check_seconds(pool_timeout, "pool_timeout", allow_none=True)
        for label, value in (
            ("max_connections", max_connections),
            ("max_connections_per_host", max_connections_per_host),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValidationError(f"{label} must be an integer >= 0, got {value!r}")
        if max_connections < 1:
            raise ValidationError(f"max_connections must be >= 1, got {max_connections}")
        if session is not None and not isinstance(session, aiohttp.ClientSession):
            raise ValidationError(
                f"session must be an aiohttp.ClientSession, got {type(session).__name__}"
            )
        network = build_network(
            proxy=proxy,
            proxy_auth=proxy_auth,
            trust_env=trust_env,
            ssl=ssl,
            trace_configs=trace_configs,
        )
        if session is not None and not network.is_default:
            raise ValidationError(
                "proxy=, proxy_auth=, trust_env=, ssl= and trace_configs= configure the session "
                "the client creates: set them on your own session instead (session=...)"
            )
        extra_headers = check_extra_headers(headers)
        user_agent = _user_agent(source_tag)
        raw_host = host if host is not None else os.environ.get(HOST_ENV) or DEFAULT_HOST
        origin = normalize_origin(raw_host, field="host", allow_insecure=allow_insecure_http)
        evaluation_origin = (
            normalize_origin(
                evaluation_host, field="evaluation_host", allow_insecure=allow_insecure_http
            )
            if evaluation_host is not None
            else (None if origin == DEFAULT_HOST else origin)
        )
        for checked in (origin, evaluation_origin):
            leak = network.clear_text_proxy(checked) if checked is not None else None
            if leak is not None and not allow_insecure_http:
                raise ValidationError(
                    f"refusing to send the API key in clear text through the proxy "
                    f"{leak.partition('://')[2]!r} to the http:// origin {checked!r}: use "
                    "https://, a proxy on loopback, or allow_insecure_http=True"
                )
        self._host = origin
        self._core = Core(
            api_key=key,
            api_version=api_version,
            control_origin=origin,
            evaluation_origin=evaluation_origin,
            retry=retry if retry is not None else RetryPolicy(),
            timeout=client_timeout,
            transport=Transport(
                session=session,
                max_connections=max_connections,
                max_connections_per_host=max_connections_per_host,
                timeout=client_timeout,
                pool_timeout=pool_timeout,
                network=None if network.is_default else network,
            ),
            user_agent=user_agent,
            extra_headers=extra_headers,
        )
        self._shared_store: RedisStore | None = None
        self._own_governor = not isinstance(rate_limits, Governor)
        if isinstance(rate_limits, Governor):
            governor = rate_limits
        else:
            try:
                limits = RateLimits.coerce(rate_limits)
            except (TypeError, ValueError) as exc:
                raise ValidationError(str(exc)) from None
            if limits.enabled and (limits.redis_url or os.environ.get(REDIS_URL_ENV)):
                # Many processes, one budget (README "Several processes with Redis").
                from ._governor._redis import shared_store

                self._shared_store = shared_store(limits, api_key=key, host=origin)
            store: BudgetStore | None = self._shared_store
            if store is None and limits.enabled:
                # Every default client of the project in this thread: one budget, and what the
                # earlier ones learnt (``_governor/_projects.py``).
                store = project_store(limits.namespace or project_namespace(key, origin))
            governor = Governor(limits, store=store)
        self.governor: Final = governor
        """The rate governor (``governor.snapshot()``: budgets and counts per class)."""
        if governor.enabled:
            self._core.admission = governor
        if network.proxy_credentials is not None:
            login, password = network.proxy_credentials
            token = base64.b64encode(f"{login}:{password}".encode()).decode()
            self._core.redactor.also(password, token)
        if tracing is not False and tracing is not None:
            from ._tracing import build_tracing  # OpenTelemetry only when asked for

            self._core.tracing = build_tracing(tracing)
        self._router = Router(self._core, allow_insecure_http=allow_insecure_http)
        self.assistants: Final = Assistants(self._core, self._router)
        """Assistants: control plane, files, chat, evaluation, provisioning."""

    @property
    def host(self) -> str:
        """The control-plane origin."""
        return self._host

    @property
    def api_version(self) -> str:
        """The API version sent as ``X-Pinecone-Api-Version``."""
        return self._core.api_version

    @property
    def retry(self) -> RetryPolicy:
        """The default :class:`~aiopinecone.RetryPolicy` of every call (``retry=`` overrides it)."""
        return self._core.retry

    def evaluation_host(self, region: str = "us") -> str:
        """The origin ``evaluate_alignment(region=...)`` sends to.

        ``evaluation_host=`` if given, else ``host`` when it is not Pinecone's (an emulator, a
        proxy), else Pinecone's US or EU evaluation host.
        """
        return self._core.evaluation_url(region).removesuffix("/assistant")

    @property
    def session(self) -> aiohttp.ClientSession | None:
        """The ``aiohttp.ClientSession`` every request goes through, once it exists (yours if
        you passed one; created on first use or on ``async with`` otherwise)."""
        return self._core.transport.current_session

    @property
    def connector(self) -> aiohttp.BaseConnector | None:
        """The connection pool (the session's connector), once the session exists."""
        return self._core.transport.connector

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._core.transport.closed

    async def __aenter__(self) -> AsyncPinecone:
        self._core.transport.session()  # create the pool now, inside the running loop
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the connection pool (a session you passed in is left open). Idempotent."""
        self._router.forget_all()
        await self._core.transport.close()
        if self._own_governor:
            # Settles still on their way to Redis; what it learnt, kept for the project.
            self._own_governor = False
            await self.governor.aclose()
        store, self._shared_store = self._shared_store, None
        if store is not None:
            await store.aclose()

    def __repr__(self) -> str:
        return (
            f"AsyncPinecone(host={self._host!r}, api_version={self._core.api_version!r}, "
            "api_key=<redacted>)"
        )


def normalize_origin(value: object, *, field: str, allow_insecure: bool) -> str:
    """``scheme://host[:port][/prefix]`` without a trailing slash; ``https://`` if none given."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{field} must be a non-empty URL string, got {value!r}")
    text = value.strip()
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
        port = parts.port  # raises ValueError when out of range or not a number
    except ValueError as exc:
        raise ValidationError(f"{field} {value!r} is not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise ValidationError(f"{field} {value!r} must use http:// or https://")
    hostname = parts.hostname
    if not hostname or any(ch.isspace() for ch in text):
        raise ValidationError(f"{field} {value!r} has no valid host name")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValidationError(
            f"{field} {value!r} must be an origin such as https://api.pinecone.io "
            "(no query, fragment or credentials)"
        )
    if parts.scheme == "http" and not allow_insecure and not is_loopback(hostname):
        raise ValidationError(
            f"refusing to send the API key over plain http to {hostname!r}; use https://, or "
            "pass allow_insecure_http=True if you really mean it"
        )
    netloc = parts.netloc.lower() if port is None else parts.netloc
    return f"{parts.scheme}://{netloc}{parts.path.rstrip('/')}"
