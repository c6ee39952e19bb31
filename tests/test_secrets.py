"""The API key never leaks, and it never travels in clear text to a host that is not loopback.

Every test here uses a distinctive key and scans everything a user could see for it: log records
of every logger at DEBUG (with their tracebacks), ``repr``/``str`` of clients, models and errors,
``traceback.format_exception`` of every error (chained causes included), error attributes.

Hosts that are not loopback are named, never reached: the client is given a session whose
resolver maps every name to 127.0.0.1 (aiohttp's public ``AbstractResolver``), so a client that
*would* send the key to ``files.example.com`` delivers it to a local sink instead, where the test
sees it. No packet ever leaves the machine.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import traceback
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from aiopinecone import (
    APIError,
    AsyncPinecone,
    AuthenticationError,
    NotFoundError,
    PineconeError,
    RateLimitError,
    RequestTimeoutError,
    ResponseParseError,
    RetryPolicy,
    ServerError,
    TransportError,
    ValidationError,
    set_retry_testing,
)
from aiopinecone.emulator import Emulator, EmulatorConfig
from aiopinecone.emulator._cli import build_parser, config_from_args
from aiopinecone.emulator.faults import Fault

KEY = "pcsk_4Lk9_secret-for-leak-hunting_Zq7w"
DESCRIBE = "/assistant/assistants/{name}"


# -- what we scan ------------------------------------------------------------------------------


class _AllRecords(logging.Handler):
    """Every record of every logger, formatted with its traceback, as a user's handler would."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def logs() -> Iterator[_AllRecords]:
    """Capture the root logger and ``aiopinecone`` at DEBUG for the whole test."""
    handler = _AllRecords()
    root, lib = logging.getLogger(), logging.getLogger("aiopinecone")
    saved = root.level, lib.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    lib.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(saved[0])
        lib.setLevel(saved[1])


@pytest.fixture(autouse=True)
def _instant_retries() -> Iterator[None]:
    set_retry_testing(True)
    try:
        yield
    finally:
        set_retry_testing(False)


class Seen:
    """Texts a user could see, labelled by where they came from."""

    def __init__(self) -> None:
        self.texts: list[tuple[str, str]] = []

    def add(self, where: str, obj: object) -> None:
        self.texts.append((where, obj if isinstance(obj, str) else repr(obj)))
        if not isinstance(obj, str):
            self.texts.append((where + " (str)", str(obj)))

    def error(self, where: str, exc: BaseException) -> None:
        self.add(where, exc)
        self.texts.append((where + " (traceback)", "".join(traceback.format_exception(exc))))
        self.texts.append((where + " (args)", repr(exc.args)))
        self.texts.append((where + " (attributes)", repr(vars(exc))))

    def leaks(self, secret: str) -> list[str]:
        return [f"{where}: {text[:300]}" for where, text in self.texts if secret in text]


async def expect(seen: Seen, where: str, kind: type[BaseException], call: Any) -> BaseException:
    with pytest.raises(kind) as info:
        await call
    seen.error(where, info.value)
    return info.value


def echo_envelope(status: int) -> Fault:
    """An error envelope that echoes the key in its message *and* its details."""
    body = {
        "error": {"code": "UNAVAILABLE", "message": f"key {KEY} is odd", "details": {"k": KEY}},
        "status": status,
    }
    return Fault.status(status, body=orjson.dumps(body), content_type="application/json")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# -- a full run --------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["2025-10", "2026-04"])
async def test_the_key_appears_nowhere_during_a_full_run(
    version: str, logs: _AllRecords, tmp_path: Any
) -> None:
    seen = Seen()
    async with (
        Emulator(api_keys=(KEY,)) as emu,
        AsyncPinecone(api_key=KEY, host=emu.url, api_version=version) as pc,
    ):
        seen.add("client repr", pc)
        seen.add("assistants repr", pc.assistants)
        # Happy paths, with faults that make the client retry, reconcile and log.
        emu.faults.script(
            "POST", "/assistant/assistants", [Fault.perform_then_status(500), Fault.drop_after()]
        )
        seen.add("create", await pc.assistants.create(name="leaky", instructions="Be brief."))
        emu.faults.script("GET", DESCRIBE, [echo_envelope(503), Fault.status(502)])
        seen.add("describe", await pc.assistants.describe(name="leaky"))
        seen.add("list", await pc.assistants.list())
        seen.add("update", await pc.assistants.update(name="leaky", metadata={"team": "x"}))
        doc = tmp_path / "faq.md"
        doc.write_text("Refunds take five days.\n")
        uploaded = await pc.assistants.upload_file(
            assistant_name="leaky", file_path=doc, metadata={"kind": "faq"}, wait=True
        )
        seen.add("upload", uploaded)
        seen.add("list_files", await pc.assistants.list_files(assistant_name="leaky"))
        seen.add(
            "describe_file",
            await pc.assistants.describe_file(
                assistant_name="leaky", file_id=uploaded.id, include_url=True
            ),
        )
        question = [{"role": "user", "content": "How long do refunds take?"}]
        seen.add("chat", await pc.assistants.chat(assistant_name="leaky", messages=question))
        stream = await pc.assistants.chat(assistant_name="leaky", messages=question, stream=True)
        async with stream:
            async for chunk in stream:
                seen.add("chat chunk", chunk)
        seen.add("context", await pc.assistants.context(assistant_name="leaky", query="refunds"))

        # Every kind of failure, some with the key echoed back by the server.
        emu.faults.script("GET", DESCRIBE, [Fault.status(401, message=f"Invalid API key {KEY}")])
        await expect(seen, "401", AuthenticationError, pc.assistants.describe(name="leaky"))
        emu.faults.script("GET", DESCRIBE, [echo_envelope(503)], repeat=True)
        await expect(seen, "503 echo", ServerError, pc.assistants.describe(name="leaky"))
        emu.faults.clear()
        emu.faults.script(
            "GET", DESCRIBE, [Fault.status(502, body=f"<html>proxy saw {KEY}</html>")], repeat=True
        )
        await expect(seen, "502 page", ServerError, pc.assistants.describe(name="leaky"))
        emu.faults.clear()
        emu.faults.script(
            "GET", DESCRIBE, [Fault.status(429, message=f"slow down {KEY}", retry_after=3600)]
        )
        await expect(seen, "429", RateLimitError, pc.assistants.describe(name="leaky"))
        for body in (f'{{"name": "{KEY}", "status": 5', f'{{"name": "a", "status": "{KEY}"'):
            emu.faults.script("GET", DESCRIBE, [Fault.status(200, body=body)])
            await expect(seen, "bad 2xx", ResponseParseError, pc.assistants.describe(name="leaky"))
        emu.faults.script(
            "GET", DESCRIBE, [Fault.status(200, body=orjson.dumps({"name": 1, "created_at": KEY}))]
        )
        await expect(seen, "wrong types", ResponseParseError, pc.assistants.describe(name="leaky"))
        emu.faults.script("GET", DESCRIBE, [Fault.drop_before()])
        await expect(
            seen,
            "dropped",
            TransportError,
            pc.assistants.describe(name="leaky", retry=RetryPolicy.none()),
        )
        emu.faults.script("GET", DESCRIBE, [Fault.delay(0.3)])
        await expect(
            seen,
            "timeout",
            RequestTimeoutError,
            pc.assistants.describe(name="leaky", retry=RetryPolicy.none(), timeout=0.05),
        )
        await expect(seen, "404", NotFoundError, pc.assistants.describe(name="nobody"))
        await expect(
            seen,
            "missing file",
            NotFoundError,
            pc.assistants.describe_file(assistant_name="leaky", file_id="nope"),
        )
        await expect(seen, "bad name", ValidationError, pc.assistants.describe(name="Bad Name"))
        await pc.assistants.delete_file(assistant_name="leaky", file_id=uploaded.id)
        await pc.assistants.delete(name="leaky", wait=True)
    async with AsyncPinecone(api_key=KEY, host=f"http://127.0.0.1:{closed_port()}") as pc:
        await expect(seen, "refused", TransportError, pc.assistants.list(retry=RetryPolicy.none()))
    with pytest.raises(ValidationError) as info:
        AsyncPinecone(api_key=KEY, host="http://pinecone.example.com")
    seen.error("insecure host", info.value)

    seen.texts.extend(("log", line) for line in logs.lines)
    assert any("attempt 2" in line for line in logs.lines), "the run must have retried"
    assert not seen.leaks(KEY), "\n".join(seen.leaks(KEY))


async def test_scanning_would_find_a_leak(logs: _AllRecords) -> None:
    """The scanners above can fail: a key that does reach a log and an error is found."""
    seen = Seen()
    logging.getLogger("aiopinecone.test").debug("oops %s", KEY)
    try:
        raise ServerError("outer", status=500) from ValueError(KEY)
    except ServerError as exc:
        seen.error("chained", exc)
    seen.texts.extend(("log", line) for line in logs.lines)
    assert len(seen.leaks(KEY)) == 2


@pytest.mark.parametrize(
    "key",
    [
        "pcsk_a\x01b",
        "pcsk a b",
        "pcsk\tab",
        "pcsk_\x7f",
        "pcsk\u2028x",
        " pcsk",
        "pcsk\n",
    ],
)
def test_a_malformed_key_is_refused_at_construction_without_echoing_it(key: str) -> None:
    with pytest.raises(ValidationError) as info:
        AsyncPinecone(api_key=key, host="http://127.0.0.1:1")
    assert key.strip() not in str(info.value)


async def test_the_server_log_and_request_log_never_hold_the_key(logs: _AllRecords) -> None:
    async with (
        Emulator(api_keys=(KEY,)) as emu,
        AsyncPinecone(api_key=KEY, host=emu.url) as pc,
    ):
        await pc.assistants.create(name="quiet")
        emu.faults.script("GET", DESCRIBE, [Fault.drop_before(), Fault.status(500)])
        await pc.assistants.describe(name="quiet")
        entries = [repr(e) for e in emu.log.entries]
    assert len(entries) == 4
    assert not [e for e in entries if KEY in e]
    assert not [line for line in logs.lines if KEY in line]


# -- plain http and redirects --------------------------------------------------------------------


class _EverythingIsLoopback(AbstractResolver):
    """Resolve every host name to 127.0.0.1: "remote" hosts become local sinks."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            {
                "hostname": host,
                "host": "127.0.0.1",
                "port": port,
                "family": socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
        ]

    async def close(self) -> None:
        return None


@pytest.fixture
async def loopback_session() -> AsyncIterator[aiohttp.ClientSession]:
    """A session that can name any host but only ever reaches 127.0.0.1."""
    connector = aiohttp.TCPConnector(resolver=_EverythingIsLoopback())
    async with aiohttp.ClientSession(connector=connector) as session:
        yield session


class Sink:
    """A local server that records the headers of every request it gets."""

    def __init__(self, handler: Any = None) -> None:
        self.headers: list[dict[str, str]] = []
        self._handler = handler
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def _record(self, request: web.Request) -> web.StreamResponse:
        self.headers.append(dict(request.headers))
        if self._handler is not None:
            response: web.StreamResponse = await self._handler(request)
            return response
        return web.json_response({"assistants": [], "files": []})

    async def __aenter__(self) -> Sink:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._record)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def saw_key(self) -> bool:
        return any(KEY in str(h) for h in self.headers)


@pytest.mark.parametrize(
    "host",
    [
        "http://api.example.com",
        "http://127.0.0.1.example.com",
        "http://127.attacker.example",
        "http://localhost.example.com",
        "http://192.0.2.1:8080",
        "http://[2001:db8::1]:80",
        "http://10.0.0.1",
    ],
)
@pytest.mark.parametrize("field", ["host", "evaluation_host"])
def test_plain_http_to_a_host_that_is_not_loopback_is_refused(host: str, field: str) -> None:
    kwargs: dict[str, Any] = {"host": "http://127.0.0.1:1", field: host}
    with pytest.raises(ValidationError, match="plain http"):
        AsyncPinecone(api_key=KEY, **kwargs)
    pc = AsyncPinecone(api_key=KEY, allow_insecure_http=True, **kwargs)  # explicit opt-in
    assert host in (pc.host, pc.evaluation_host())


@pytest.mark.parametrize(
    "host", ["http://127.0.0.1:9", "http://127.5.6.7:9", "http://localhost:9", "http://[::1]:9"]
)
def test_plain_http_to_loopback_is_allowed(host: str) -> None:
    assert AsyncPinecone(api_key=KEY, host=host).host == host


async def test_a_lookalike_loopback_name_gets_no_key(
    loopback_session: aiohttp.ClientSession,
) -> None:
    """``127.0.0.1.example.com`` is a DNS name anyone can point anywhere, not loopback."""
    async with Sink() as sink:
        refused = False
        try:
            pc = AsyncPinecone(
                api_key=KEY,
                host=f"http://127.0.0.1.example.com:{sink.port}",
                session=loopback_session,
            )
        except ValidationError:
            refused = True
        else:
            with contextlib.suppress(PineconeError):
                await pc.assistants.list()
    assert refused
    assert not sink.headers


async def test_a_plain_http_data_plane_host_is_refused_before_connecting(
    loopback_session: aiohttp.ClientSession,
) -> None:
    async with Sink() as data_plane:

        async def describe(request: web.Request) -> web.StreamResponse:
            return web.json_response(
                {
                    "name": "far",
                    "status": "Ready",
                    "host": f"http://files.example.com:{data_plane.port}",
                }
            )

        async with Sink(describe) as control:
            host = f"http://127.0.0.1:{control.port}"
            async with AsyncPinecone(api_key=KEY, host=host, session=loopback_session) as pc:
                with pytest.raises(ValidationError, match="plain http") as info:
                    await pc.assistants.list_files(assistant_name="far")
                assert KEY not in str(info.value)
                assert "{name" not in str(info.value), "the message must name the assistant"
            assert not data_plane.headers
            # The same data plane is used when the user explicitly allows plain http: the sink
            # above would have seen the key, so its silence means something.
            async with AsyncPinecone(
                api_key=KEY, host=host, session=loopback_session, allow_insecure_http=True
            ) as pc:
                await pc.assistants.list_files(assistant_name="far")
            assert data_plane.saw_key


async def test_a_redirect_never_carries_the_key_to_another_origin(
    loopback_session: aiohttp.ClientSession,
) -> None:
    async with Sink() as elsewhere:

        async def redirect(request: web.Request) -> web.StreamResponse:
            target = f"http://elsewhere.example.com:{elsewhere.port}{request.path}"
            raise web.HTTPTemporaryRedirect(location=target)

        async with Sink(redirect) as origin:
            async with AsyncPinecone(
                api_key=KEY, host=f"http://127.0.0.1:{origin.port}", session=loopback_session
            ) as pc:
                with pytest.raises(APIError) as info:
                    await pc.assistants.list()
            assert info.value.status == 307
            assert origin.saw_key
    assert not elsewhere.headers


# -- the emulator --------------------------------------------------------------------------------


async def test_the_emulator_binds_loopback_by_default() -> None:
    assert EmulatorConfig().host == "127.0.0.1"
    assert config_from_args(build_parser().parse_args([])).host == "127.0.0.1"
    async with Emulator() as emu:
        assert emu.url.startswith("http://127.0.0.1:")
        assert emu.app is not None
        runner_addresses = emu.addresses
    assert runner_addresses
    assert all(address[0] == "127.0.0.1" for address in runner_addresses)


STREAM_EVENTS = {
    "error event": b'data: {"error": {"code": "X", "message": "key %s", "details": {"k": "%s"}}, '
    b'"status": 500}\n\n',
    "not json": b"data: {not json %s\n\n",
    "bad chunk": b'data: {"type": "content_chunk", "delta": {"content": 5}, "id": "%s"}\n\n',
}


@pytest.mark.parametrize("event", STREAM_EVENTS.values(), ids=STREAM_EVENTS)
async def test_stream_events_that_echo_the_key_are_redacted(event: bytes) -> None:
    payload = event.replace(b"%s", KEY.encode())

    async def handler(request: web.Request) -> web.StreamResponse:
        await request.read()
        if request.method == "GET":
            return web.json_response({"name": "a", "status": "Ready", "host": sink.url})
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(payload)
        await response.write_eof()
        return response

    seen = Seen()
    async with Sink(handler) as sink, AsyncPinecone(api_key=KEY, host=sink.url) as pc:
        stream = await pc.assistants.chat(
            assistant_name="a", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        with pytest.raises(PineconeError) as info:
            await stream.collect()
    seen.error("stream", info.value)
    assert not seen.leaks(KEY), "\n".join(seen.leaks(KEY))
