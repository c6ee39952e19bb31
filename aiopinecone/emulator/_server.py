"""``Emulator``: run the application on a real socket, in this loop or in a thread of its own."""

from __future__ import annotations

import asyncio
import concurrent.futures
import ssl
import threading
from collections.abc import Awaitable, Callable, Coroutine
from types import TracebackType
from typing import Any, Self, TypeVar

import attrs
from aiohttp import web

from ._app import create_app
from ._config import EmulatorConfig
from ._parts import Parts, build_parts
from ._persistence import SqlitePersistence
from ._ratelimit import RateLimiter
from ._requestlog import RequestLog
from ._state import EmulatorState
from ._store import Store
from .faults import FaultInjector

T = TypeVar("T")

_THREAD_START_TIMEOUT = 30.0
_MAX_REQUEST_LINE = 64 * 1024


class Emulator:
    """A local Pinecone Assistant API on ``127.0.0.1`` (control, data and evaluation planes).

    Use as ``async with Emulator(api_keys=("k",)) as emu: ... emu.url``, or from synchronous
    code as ``with Emulator().in_thread() as emu: ...``. Keyword arguments are the fields of
    :class:`EmulatorConfig`; ``config=`` passes a whole configuration (keywords override it).
    """

    def __init__(self, config: EmulatorConfig | None = None, **overrides: Any) -> None:
        base = config if config is not None else EmulatorConfig()
        self.config: EmulatorConfig = attrs.evolve(base, **overrides) if overrides else base
        self.store = Store(
            ready_delay=self.config.ready_delay,
            file_processing_delay=self.config.file_processing_delay,
            delete_delay=self.config.delete_delay,
            quota=self.config.quota,
        )
        self._parts: Parts = build_parts(self.config)
        self._state = EmulatorState(config=self.config, store=self.store)
        self._runner: web.AppRunner | None = None
        self._persistence: SqlitePersistence | None = None
        self._url: str | None = None

    # -- what tests reach -----------------------------------------------------------------

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>`` (``https://`` with ``tls_cert``): the control-plane origin
        and every assistant's host."""
        if self._url is None:
            raise RuntimeError("the emulator is not running: use 'async with Emulator() as emu'")
        return self._url

    @property
    def faults(self) -> FaultInjector:
        """The fault injector (scripted per-route faults)."""
        return self._parts.faults

    @property
    def log(self) -> RequestLog:
        """The request log (every request with its status and operation class)."""
        return self._parts.log

    @property
    def limiter(self) -> RateLimiter:
        """The per-operation-class rate limiter and its counters."""
        return self._parts.limiter

    @property
    def addresses(self) -> list[Any]:
        """The socket addresses the emulator listens on (empty when stopped)."""
        return list(self._runner.addresses) if self._runner is not None else []

    @property
    def open_connections(self) -> int:
        """How many client connections the emulator holds open now (0 when stopped)."""
        server = self._runner.server if self._runner is not None else None
        return len(server.connections) if server is not None else 0

    @property
    def app(self) -> web.Application | None:
        """The running aiohttp application (None when stopped)."""
        return self._runner.app if self._runner is not None else None

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind the socket and start serving (idempotent)."""
        if self._runner is not None:
            return
        if self.config.state_path is not None:
            self._persistence = SqlitePersistence(self.config.state_path)
            self._persistence.load_into(self.store)
            self.store.attach(self._persistence)
        app = create_app(
            self._state,
            outer=self._parts.outer,
            before_auth=self._parts.before_auth,
            after_auth=self._parts.after_auth,
        )
        self._parts.setup_admin(app)
        # 64 KiB request lines: up to 2025-10 file metadata (up to 16 KB of JSON) travels in
        # the query string, and the service's front end takes such URLs.
        runner = web.AppRunner(
            app,
            access_log=None,
            handle_signals=False,
            shutdown_timeout=1.0,
            max_line_size=_MAX_REQUEST_LINE,
        )
        await runner.setup()
        try:
            tls = server_ssl_context(self.config)
            site = web.TCPSite(
                runner, self.config.host, self.config.port, reuse_address=True, ssl_context=tls
            )
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        port = _bound_port(runner)
        host = self.config.host
        shown = f"[{host}]" if ":" in host else host
        self._url = f"{'https' if tls is not None else 'http'}://{shown}:{port}"
        self._state.url = self._url

    async def stop(self) -> None:
        """Stop serving and release the socket and the state file (idempotent)."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        self._url = None
        if self._persistence is not None:
            self.store.attach(None)
            self._persistence.close()
            self._persistence = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def in_thread(self) -> ThreadedEmulator:
        """A synchronous context manager running this emulator in a daemon thread."""
        return ThreadedEmulator(self)


def server_ssl_context(config: EmulatorConfig) -> ssl.SSLContext | None:
    """The TLS context serving ``config.tls_cert`` (``None``: plain http)."""
    if config.tls_cert is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(config.tls_cert, config.tls_key)
    except ssl.SSLError:
        raise
    except OSError as exc:  # a missing or unreadable file: say which, not "cannot serve"
        raise ssl.SSLError(f"{exc.filename or config.tls_cert}: {exc.strerror or exc}") from None
    return context


def _bound_port(runner: web.AppRunner) -> int:
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return int(address[1])
    raise RuntimeError("the emulator's socket has no port")


class ThreadedEmulator:
    """An :class:`Emulator` served by its own event loop in a daemon thread.

    Works from synchronous tests and from tests running any event loop. Attribute access is
    forwarded to the emulator (``url``, ``store``, ``faults``, ``log``, ``limiter``, ``config``);
    :meth:`run` and :meth:`call` execute code on the emulator's loop, which is the thread-safe
    way to touch state that is not itself thread-safe.
    """

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.emulator, name)

    @property
    def url(self) -> str:
        """The emulator's origin."""
        return self.emulator.url

    @property
    def store(self) -> Store:
        """The emulator's store (thread-safe)."""
        return self.emulator.store

    @property
    def config(self) -> EmulatorConfig:
        """The emulator's configuration."""
        return self.emulator.config

    @property
    def faults(self) -> FaultInjector:
        """The emulator's fault injector."""
        return self.emulator.faults

    @property
    def log(self) -> RequestLog:
        """The emulator's request log."""
        return self.emulator.log

    @property
    def limiter(self) -> RateLimiter:
        """The emulator's rate limiter."""
        return self.emulator.limiter

    def start(self) -> None:
        """Start the thread and the server; returns when the socket is bound."""
        if self._thread is not None:
            return
        loop = asyncio.new_event_loop()
        started: concurrent.futures.Future[None] = concurrent.futures.Future()

        def serve() -> None:
            asyncio.set_event_loop(loop)

            async def boot() -> None:
                try:
                    await self.emulator.start()
                except BaseException as exc:
                    started.set_exception(exc)
                    raise

            try:
                loop.run_until_complete(boot())
            except BaseException:  # reported through `started`
                loop.close()
                return
            # Ready only once run_forever runs: a stop() sent while run_until_complete was
            # still winding down would be consumed by it, and run_forever would never return.
            loop.call_soon(started.set_result, None)
            loop.run_forever()
            loop.run_until_complete(self.emulator.stop())
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

        thread = threading.Thread(target=serve, name="aiopinecone-emulator", daemon=True)
        thread.start()
        try:
            started.result(timeout=_THREAD_START_TIMEOUT)
        except BaseException:
            thread.join(timeout=_THREAD_START_TIMEOUT)
            raise
        self._loop, self._thread = loop, thread

    def stop(self) -> None:
        """Stop the server and join the thread."""
        loop, thread = self._loop, self._thread
        self._loop = self._thread = None
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=_THREAD_START_TIMEOUT)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = 30.0) -> T:
        """Run a coroutine on the emulator's loop and return its result."""
        if self._loop is None:
            coro.close()
            raise RuntimeError("the emulator thread is not running")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def call(self, fn: Callable[..., T], *args: Any, timeout: float | None = 30.0) -> T:
        """Call ``fn(*args)`` on the emulator's loop (thread-safe) and return its result."""

        async def invoke() -> T:
            result = fn(*args)
            if isinstance(result, Awaitable):
                return await result  # type: ignore[no-any-return]
            return result

        return self.run(invoke(), timeout)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
