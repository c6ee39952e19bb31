"""Hostile responses: every body becomes a model or a typed error, never another exception.

Random JSON, JSON shaped like each model but with wrong types and huge values, truncated and
corrupted JSON, random bytes. Tested on the pure functions (the converter, stream chunks, the
error mapping, ``Retry-After``) and through the wire: a tiny local aiohttp server answers every
call of the client with the fuzzed body, and the emulator's ``malformed_body`` fault cuts real
answers in half.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import types
import typing
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import datetime
from typing import Any

import attrs
import orjson
import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict, CIMultiDictProxy

from aiopinecone import (
    APIError,
    AsyncPinecone,
    PineconeError,
    ResponseParseError,
    RetryPolicy,
    TransportError,
    set_retry_testing,
)
from aiopinecone._convert import parse, structure
from aiopinecone._protocol import error_from_response, parse_retry_after
from aiopinecone.emulator import Emulator
from aiopinecone.emulator.faults import Fault
from aiopinecone.models import (
    AlignmentResult,
    Assistant,
    AssistantFile,
    AssistantList,
    ChatCompletion,
    ChatCompletionChunk,
    ChatResponse,
    ContextResponse,
    FileList,
    Operation,
    OperationList,
)
from aiopinecone.models.chat import parse_chunk

KEY = "fuzz-key"
RESPONSE_MODELS: tuple[type, ...] = (
    Assistant,
    AssistantList,
    AssistantFile,
    FileList,
    Operation,
    OperationList,
    ChatResponse,
    ChatCompletion,
    ChatCompletionChunk,
    ContextResponse,
    AlignmentResult,
)
SCALE = int(os.environ.get("AIOPINECONE_FUZZ_SCALE", "1"))
"""Multiplies every example count (``AIOPINECONE_FUZZ_SCALE=20`` for a long hunt)."""
FUZZ = settings(
    max_examples=60 * SCALE,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# -- strategies --------------------------------------------------------------------------------

HUGE_INTS = st.sampled_from([2**63 - 1, -(2**63), 2**64 - 1, 10**18, -1, 0])
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    HUGE_INTS,
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([1e308, -1e308, 5e-324]),
    st.text(max_size=30),
    st.sampled_from(["", "\x00", "\ud7ff\ue000", "a" * 100_000, "Ready", "Available"]),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=16,
)
TIMESTAMPS = st.one_of(
    st.datetimes().map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.isoformat() + "Z"),
    st.text(alphabet="0123456789-:TZz.+ ", max_size=40),
    st.sampled_from(
        ["2016-12-31T23:59:60Z", "9999-12-31T23:59:59.999999999Z", "0000-01-01T00:00Z"]
    ),
)


def _shape(tp: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values shaped like ``tp`` (right and wrong types mixed): reach deep fields quickly."""
    if depth > 4:
        return JSON
    if attrs.has(tp):
        attrs.resolve_types(tp)
        fields = {f.name: _shape(f.type, depth + 1) for f in attrs.fields(tp)}
        extra = st.dictionaries(st.text(max_size=6), SCALARS, max_size=2)
        return st.builds(
            lambda known, more: {**more, **known},
            st.fixed_dictionaries({}, optional=fields),
            extra,
        )
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return st.one_of(*(_shape(a, depth + 1) for a in args))
    if origin is list:
        return st.lists(_shape(args[0], depth + 1), max_size=3) | JSON
    if origin is dict or tp is dict:
        return st.dictionaries(st.text(max_size=8), JSON, max_size=3) | JSON
    if tp is datetime:
        return TIMESTAMPS | SCALARS
    if tp is str:
        return st.text(max_size=20) | SCALARS
    if tp in (int, float, bool):
        return SCALARS
    if tp is type(None):
        return st.none()
    return JSON


SHAPED = {cls: _shape(cls) for cls in RESPONSE_MODELS}


@st.composite
def bodies(draw: st.DrawFn, cls: type) -> bytes:
    """A response body for ``cls``: shaped, random, truncated, corrupted or arbitrary bytes."""
    value = draw(st.one_of(SHAPED[cls], JSON))
    raw = orjson.dumps(value)
    how = draw(st.sampled_from(["whole", "whole", "truncated", "corrupted", "bytes", "wrapped"]))
    if how == "truncated":
        return raw[: draw(st.integers(0, max(0, len(raw) - 1)))]
    if how == "corrupted" and raw:
        at = draw(st.integers(0, len(raw) - 1))
        return raw[:at] + draw(st.binary(min_size=1, max_size=3)) + raw[at + 1 :]
    if how == "bytes":
        return draw(st.binary(max_size=64))
    if how == "wrapped":
        return b"\xef\xbb\xbf" + raw + b"\n" * draw(st.integers(0, 2))
    return raw


def check_parse(body: bytes, cls: Any) -> None:
    outcome: object
    try:
        outcome = parse(body, cls)
    except ResponseParseError as exc:
        outcome = exc
    if isinstance(outcome, ResponseParseError):
        assert outcome.path.startswith("$"), outcome.path
        assert str(outcome)
    else:
        assert isinstance(outcome, cls)
        assert repr(outcome)


# -- pure functions ----------------------------------------------------------------------------


@pytest.mark.parametrize("cls", RESPONSE_MODELS, ids=lambda c: c.__name__)
@FUZZ
@given(data=st.data())
def test_the_converter_gives_a_model_or_a_parse_error(cls: type, data: st.DataObject) -> None:
    check_parse(data.draw(bodies(cls)), cls)


@FUZZ
@given(value=st.one_of(SHAPED[ChatCompletionChunk], JSON, _shape(Any)))
def test_stream_chunks_give_a_chunk_or_a_parse_error(value: Any) -> None:
    for kind in ("message_start", "content_chunk", "citation", "message_end", "other", None):
        event = {**value, "type": kind} if isinstance(value, dict) and kind else value
        with contextlib.suppress(ResponseParseError):
            parse_chunk(event)
    with contextlib.suppress(ResponseParseError):
        structure(value, ChatCompletionChunk)


HEADER_TEXT = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FFF, exclude_characters="\x7f"),
    max_size=40,
)
RETRY_AFTER = st.one_of(
    HEADER_TEXT,
    st.sampled_from(
        [
            "nan",
            "inf",
            "-1",
            "1e999",
            "0x10",
            " 7 ",
            "Wed, 21 Oct 2015 07:28:00 GMT",
            "Fri, 31 Dec 99999 23:59:59 GMT",
            "Mon, 01 Jan 0001 00:00:00 +0000",
            "1" * 400,
        ]
    ),
)


@FUZZ
@given(
    status=st.integers(100, 999),
    body=st.one_of(
        st.binary(max_size=100),
        JSON.map(orjson.dumps),
        SHAPED[Assistant].map(lambda v: orjson.dumps({"error": v, "status": v})),
    ),
    retry_after=RETRY_AFTER,
    retry_after_ms=RETRY_AFTER,
    request_id=HEADER_TEXT,
    content_type=HEADER_TEXT,
)
def test_any_error_response_maps_to_an_api_error(
    status: int,
    body: bytes,
    retry_after: str,
    retry_after_ms: str,
    request_id: str,
    content_type: str,
) -> None:
    headers = CIMultiDictProxy(
        CIMultiDict(
            {
                "Retry-After": retry_after,
                "retry-after-ms": retry_after_ms,
                "x-request-id": request_id,
                "Content-Type": content_type,
            }
        )
    )
    error = error_from_response(status, headers, body)
    assert isinstance(error, APIError)
    assert error.status == status
    assert str(error)
    assert repr(error)
    assert error.message
    seconds = parse_retry_after(headers)
    assert seconds is None or (math.isfinite(seconds) and seconds >= 0)


# -- through the wire: a local server answers every call with the fuzzed body --------------------


class FuzzServer:
    """Answers ``GET /assistant/assistants/fixed`` properly (so data-plane calls find their host)
    and everything else with whatever the test set in :attr:`body` and :attr:`status`."""

    def __init__(self) -> None:
        self.status = 200
        self.body = b"{}"
        self.sse = False
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        await request.read()
        if request.method == "GET" and request.path == "/assistant/assistants/fixed":
            return web.json_response({"name": "fixed", "status": "Ready", "host": self.url})
        if self.sse:
            response = web.StreamResponse(
                status=self.status, headers={"Content-Type": "text/event-stream"}
            )
            await response.prepare(request)
            await response.write(self.body)
            await response.write_eof()
            return response
        return web.Response(status=self.status, body=self.body, content_type="application/json")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        # A fuzzed page token (up to 100 kB) comes back in the next page's query string; the
        # server's request-line limit is not under test, so it takes any length.
        self._runner = web.AppRunner(app, access_log=None, max_line_size=1 << 20)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


Call = Callable[[AsyncPinecone, str], Awaitable[Any]]
"""A client call; the string names the assistant the control-plane calls are about."""
MESSAGES = [{"role": "user", "content": "hi"}]
NO_RETRY = RetryPolicy.none()


async def _read_stream(pc: AsyncPinecone, name: str) -> list[Any]:
    stream = await pc.assistants.chat(
        assistant_name="fixed", messages=MESSAGES, stream=True, retry=NO_RETRY
    )
    async with stream:
        return [chunk async for chunk in stream]


async def _read_completion_stream(pc: AsyncPinecone, name: str) -> list[Any]:
    stream = await pc.assistants.chat_completions(
        assistant_name="fixed", messages=MESSAGES, stream=True, retry=NO_RETRY
    )
    async with stream:
        return [chunk async for chunk in stream]


CALLS: dict[str, Call] = {
    "describe": lambda pc, name: pc.assistants.describe(name=name, retry=NO_RETRY),
    "list": lambda pc, name: pc.assistants.list(retry=NO_RETRY),
    "create": lambda pc, name: pc.assistants.create(name="made", retry=NO_RETRY),
    "update": lambda pc, name: pc.assistants.update(name=name, instructions="x", retry=NO_RETRY),
    "list_files": lambda pc, name: pc.assistants.list_files(assistant_name="fixed", retry=NO_RETRY),
    "describe_file": lambda pc, name: pc.assistants.describe_file(
        assistant_name="fixed", file_id="f1", retry=NO_RETRY
    ),
    "upload": lambda pc, name: pc.assistants.upload_file(
        assistant_name="fixed", file=b"hello", file_name="a.txt", retry=NO_RETRY
    ),
    "chat": lambda pc, name: pc.assistants.chat(
        assistant_name="fixed", messages=MESSAGES, retry=NO_RETRY
    ),
    "chat_completions": lambda pc, name: pc.assistants.chat_completions(
        assistant_name="fixed", messages=MESSAGES, retry=NO_RETRY
    ),
    "context": lambda pc, name: pc.assistants.context(
        assistant_name="fixed", query="q", retry=NO_RETRY
    ),
    "evaluate": lambda pc, name: pc.assistants.evaluate_alignment(
        question="q", answer="a", ground_truth_answer="g", retry=NO_RETRY
    ),
}
STREAMS: dict[str, Call] = {"chat": _read_stream, "chat_completions": _read_completion_stream}
MODEL_OF = {
    "describe": Assistant,
    "create": Assistant,
    "update": Assistant,
    "list": AssistantList,
    "list_files": FileList,
    "describe_file": AssistantFile,
    "upload": AssistantFile,
    "chat": ChatResponse,
    "chat_completions": ChatCompletion,
    "context": ContextResponse,
    "evaluate": AlignmentResult,
}
RESULT_OF: dict[str, type] = {**MODEL_OF, "list": list, "list_files": list}


@pytest.fixture(scope="module")
def wire() -> Iterator[tuple[asyncio.AbstractEventLoop, FuzzServer, AsyncPinecone]]:
    """A private event loop running the fuzz server and a client (hypothesis drives it)."""
    set_retry_testing(True)  # calls that reconcile (uploads) still retry their checks
    loop = asyncio.new_event_loop()
    server = FuzzServer()
    loop.run_until_complete(server.start())

    async def open_client() -> AsyncPinecone:
        pc = AsyncPinecone(api_key=KEY, host=server.url)
        await pc.__aenter__()
        await pc.assistants.describe(name="fixed")  # primes the data-plane host
        return pc

    pc = loop.run_until_complete(open_client())
    try:
        yield loop, server, pc
    finally:
        loop.run_until_complete(pc.close())
        loop.run_until_complete(server.stop())
        loop.close()
        set_retry_testing(False)


async def _outcome(call: Call, pc: AsyncPinecone, name: str = "other") -> Any:
    try:
        return await asyncio.wait_for(call(pc, name), 30)
    except PineconeError as exc:
        return exc


@pytest.mark.parametrize("name", sorted(CALLS))
@settings(FUZZ, max_examples=25 * SCALE)
@given(data=st.data())
def test_every_call_survives_any_body_on_the_wire(
    wire: tuple[asyncio.AbstractEventLoop, FuzzServer, AsyncPinecone],
    name: str,
    data: st.DataObject,
) -> None:
    loop, server, pc = wire
    cls = MODEL_OF[name]
    server.sse = False
    server.status = data.draw(st.sampled_from([200, 200, 200, 201, 202, 400, 404, 409, 500, 503]))
    server.body = data.draw(bodies(cls))
    result = loop.run_until_complete(_outcome(CALLS[name], pc))
    if server.status >= 400:
        assert isinstance(result, APIError), result
        assert result.status == server.status
    elif name == "upload" and isinstance(result, ResponseParseError):
        pass
    else:
        assert isinstance(result, RESULT_OF[name] | ResponseParseError), (server.body, result)


@st.composite
def sse_bodies(draw: st.DrawFn, cls: type) -> bytes:
    """An event stream: events made of fuzzed chunks, random lines, or random bytes."""
    parts: list[bytes] = []
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["event", "event", "line", "bytes"]))
        if kind == "event":
            value = draw(st.one_of(SHAPED[cls], JSON, _shape(Any)))
            if isinstance(value, dict) and draw(st.booleans()):
                value["type"] = draw(
                    st.sampled_from(["message_start", "content_chunk", "citation", "message_end"])
                )
            parts.append(b"data: " + orjson.dumps(value) + b"\n\n")
        elif kind == "line":
            parts.append(draw(st.sampled_from([b":", b"data:", b"event: x", b"retry: 5", b""])))
            parts.append(b"\n")
        else:
            parts.append(draw(st.binary(max_size=40)))
    if draw(st.booleans()):
        parts.append(b"data: [DONE]\n\n")
    return b"".join(parts)


@pytest.mark.parametrize("name", sorted(STREAMS))
@settings(FUZZ, max_examples=40 * SCALE)
@given(data=st.data())
def test_streams_survive_any_event_stream(
    wire: tuple[asyncio.AbstractEventLoop, FuzzServer, AsyncPinecone],
    name: str,
    data: st.DataObject,
) -> None:
    loop, server, pc = wire
    server.sse = True
    server.status = 200
    server.body = data.draw(sse_bodies(ChatCompletionChunk if name != "chat" else ChatResponse))
    result = loop.run_until_complete(_outcome(STREAMS[name], pc))
    # An event carrying an error envelope (no ``type``) is reported as the API error it is.
    assert isinstance(result, list | ResponseParseError | APIError), (server.body, result)
    assert not isinstance(result, TransportError)


# -- through the wire: the emulator cuts its real answers ----------------------------------------


@pytest.fixture
async def emu_client() -> AsyncIterator[tuple[Emulator, AsyncPinecone]]:
    set_retry_testing(True)
    try:
        async with (
            Emulator(api_keys=(KEY,)) as emu,
            AsyncPinecone(api_key=KEY, host=emu.url, api_version="2026-04") as pc,
        ):
            await pc.assistants.create(name="fixed")
            await pc.assistants.upload_file(
                assistant_name="fixed", file=b"Refunds take 5 days.", file_name="faq.txt"
            )
            yield emu, pc
    finally:
        set_retry_testing(False)


ROUTES = {
    "describe": ("GET", "/assistant/assistants/{name}"),
    "list": ("GET", "/assistant/assistants"),
    "update": ("PATCH", "/assistant/assistants/{name}"),
    "list_files": ("GET", "/assistant/files/{name}"),
    "chat": ("POST", "/assistant/chat/{name}"),
    "chat_completions": ("POST", "/assistant/chat/{name}/chat/completions"),
    "context": ("POST", "/assistant/chat/{name}/context"),
    "evaluate": ("POST", "/assistant/evaluation/metrics/alignment"),
}
TRUNCATED = ["half", "empty", "html", "binary"]


@pytest.mark.parametrize("how", TRUNCATED)
@pytest.mark.parametrize("name", sorted(ROUTES))
async def test_malformed_answers_from_the_emulator_are_parse_errors(
    emu_client: tuple[Emulator, AsyncPinecone], name: str, how: str
) -> None:
    emu, pc = emu_client
    body = {"half": None, "empty": b"", "html": b"<html>oops</html>", "binary": b"\x00\xff{"}[how]
    method, path = ROUTES[name]
    emu.faults.script(method, path, [Fault.malformed_body(body)])
    outcome = await _outcome(CALLS[name], pc, "fixed")
    assert emu.faults.applied == 1
    if name == "update" and isinstance(outcome, Assistant):
        pass  # an update answer that is not an Assistant is followed by a describe
    else:
        assert isinstance(outcome, ResponseParseError), outcome
        assert outcome.status == 200
    # The next identical call is answered properly: nothing was left broken.
    result = await CALLS[name](pc, "fixed")
    assert isinstance(result, RESULT_OF[name])
