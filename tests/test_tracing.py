"""Tracing: ``trace_configs=`` reach the session we create (aiohttp's own OpenTelemetry
instrumentation works unchanged), and ``tracing=`` gives one span per API operation with what
happened inside, read with the OpenTelemetry SDK's in-memory exporter. The key is never in a
span."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from conftest import API_KEY
from opentelemetry.instrumentation.aiohttp_client import create_trace_config
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from aiopinecone import AsyncPinecone, BadRequestError, NotFoundError, RetryPolicy, track_requests
from aiopinecone.emulator import Emulator
from aiopinecone.emulator.faults import Fault


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    memory = InMemorySpanExporter()
    yield memory
    memory.clear()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> Iterator[TracerProvider]:
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield tracer_provider
    tracer_provider.shutdown()


@pytest.fixture
async def pc(emulator: Emulator, provider: TracerProvider) -> AsyncIterator[AsyncPinecone]:
    async with AsyncPinecone(api_key=API_KEY, host=emulator.url, tracing=provider) as client:
        yield client


def _only(exporter: InMemorySpanExporter, name: str) -> ReadableSpan:
    spans = [span for span in exporter.get_finished_spans() if span.name == name]
    assert len(spans) == 1, [span.name for span in exporter.get_finished_spans()]
    return spans[0]


def _no_key_anywhere(exporter: InMemorySpanExporter) -> None:
    for span in exporter.get_finished_spans():
        assert API_KEY not in span.to_json()


async def test_one_span_per_operation(
    pc: AsyncPinecone, emulator: Emulator, exporter: InMemorySpanExporter
) -> None:
    await pc.assistants.create(name="traced")
    await pc.assistants.describe(name="traced")
    names = [span.name for span in exporter.get_finished_spans()]
    assert names == ["create_assistant", "describe_assistant"]
    span = _only(exporter, "describe_assistant")
    assert span.kind is SpanKind.CLIENT
    attributes = dict(span.attributes or {})
    port = int(emulator.url.rsplit(":", 1)[1])
    assert attributes == {
        "http.request.method": "GET",
        "url.full": f"{emulator.url}/assistant/assistants/traced",
        "server.address": "127.0.0.1",
        "server.port": port,
        "pinecone.assistant.name": "traced",
        "http.response.status_code": 200,
        "aiopinecone.attempts": 1,
        "aiopinecone.rate_limited": 0,
        "aiopinecone.retry_wait_seconds": 0.0,
        "aiopinecone.rate_governor_wait_seconds": 0.0,
    }
    assert _only(exporter, "create_assistant").attributes["pinecone.assistant.name"] == "traced"  # type: ignore[index]
    _no_key_anywhere(exporter)


@pytest.mark.usefixtures("instant_retries")
async def test_attempts_and_429s_of_a_call(
    pc: AsyncPinecone, emulator: Emulator, exporter: InMemorySpanExporter
) -> None:
    emulator.store.create_assistant("busy")
    emulator.faults.script(
        "GET",
        "/assistant/assistants/busy",
        [Fault.status(429, retry_after=1), Fault.status(503), Fault.status(429, retry_after=2)],
    )
    with track_requests() as stats:
        await pc.assistants.describe(name="busy")
    attributes = _only(exporter, "describe_assistant").attributes or {}
    assert attributes["aiopinecone.attempts"] == 4
    assert attributes["http.request.resend_count"] == 3
    assert attributes["aiopinecone.rate_limited"] == 2
    assert attributes["aiopinecone.retry_wait_seconds"] >= 3.0  # type: ignore[operator]
    assert attributes["http.response.status_code"] == 200
    # The call's counters still reach an enclosing track_requests.
    assert (stats.requests, stats.retries, stats.rate_limited) == (4, 3, 2)
    assert stats.last_retry_after == 2.0


async def test_a_failed_call_is_an_error_span(
    pc: AsyncPinecone, exporter: InMemorySpanExporter
) -> None:
    with pytest.raises(NotFoundError):
        await pc.assistants.describe(name="missing")
    span = _only(exporter, "describe_assistant")
    assert span.status.status_code is StatusCode.ERROR
    assert (span.attributes or {})["error.type"] == "404"
    assert (span.attributes or {})["http.response.status_code"] == 404
    assert [event.name for event in span.events] == ["exception"]
    _no_key_anywhere(exporter)


async def test_an_echoed_key_stays_out_of_the_span(
    pc: AsyncPinecone, emulator: Emulator, exporter: InMemorySpanExporter
) -> None:
    emulator.faults.script(
        "GET",
        "/assistant/assistants/echo",
        Fault.status(400, "INVALID_ARGUMENT", f"bad key {API_KEY} here"),
    )
    with pytest.raises(BadRequestError, match="redacted"):
        await pc.assistants.describe(name="echo", retry=RetryPolicy.none())
    assert _only(exporter, "describe_assistant").status.status_code is StatusCode.ERROR
    _no_key_anywhere(exporter)


async def test_chat_has_gen_ai_attributes_and_token_usage(
    pc: AsyncPinecone, emulator: Emulator, exporter: InMemorySpanExporter
) -> None:
    emulator.store.create_assistant("bot")
    emulator.store.put_file("bot", name="faq.txt", content=b"Shipping takes 5 business days.\n")
    answer = await pc.assistants.chat(
        assistant_name="bot",
        messages=[{"role": "user", "content": "How long does shipping take?"}],
        model="gpt-4o",
    )
    attributes = _only(exporter, "chat").attributes or {}
    assert attributes["gen_ai.operation.name"] == "chat"
    assert attributes["gen_ai.provider.name"] == "pinecone"
    assert attributes["gen_ai.request.model"] == "gpt-4o"
    assert attributes["gen_ai.usage.input_tokens"] == answer.usage.prompt_tokens
    assert attributes["gen_ai.usage.output_tokens"] == answer.usage.completion_tokens
    assert attributes["pinecone.assistant.name"] == "bot"


async def test_aiohttp_instrumentation_through_trace_configs(
    emulator: Emulator, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    seen: list[str] = []

    async def on_start(_: aiohttp.ClientSession, __: SimpleNamespace, params: Any) -> None:
        seen.append(params.method)

    counting = aiohttp.TraceConfig()
    counting.on_request_start.append(on_start)
    async with AsyncPinecone(
        api_key=API_KEY,
        host=emulator.url,
        tracing=provider,
        trace_configs=[create_trace_config(tracer_provider=provider), counting],
    ) as client:
        await client.assistants.list()
    assert seen == ["GET"]
    spans = exporter.get_finished_spans()
    operation = _only(exporter, "list_assistants")
    http = [span for span in spans if span is not operation]
    assert len(http) == 1
    # aiohttp's own span is a child of the operation's span.
    assert http[0].parent is not None
    assert http[0].parent.span_id == operation.context.span_id
    _no_key_anywhere(exporter)


def test_bad_tracing_values_are_refused() -> None:
    from aiopinecone import ValidationError

    with pytest.raises(ValidationError, match="tracing must be"):
        AsyncPinecone(api_key=API_KEY, tracing="yes")
    with pytest.raises(ValidationError, match="TraceConfig"):
        AsyncPinecone(api_key=API_KEY, trace_configs=[object()])  # type: ignore[list-item]


def test_import_loads_neither_opentelemetry_nor_mcp() -> None:
    import subprocess
    import sys

    code = (
        "import sys, aiopinecone\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] in "
        "('opentelemetry', 'mcp', 'httpx2', 'aiopinecone._tracing')]\n"
        "heavy += [m for m in sys.modules if m == 'aiopinecone._tracing']\n"
        "print(heavy)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"


async def test_time_waited_for_the_rate_governor(
    emulator: Emulator, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    # The governor's own limits class (aiopinecone.RateLimits is provisioning's).
    from aiopinecone._governor import RateLimits

    emulator.store.create_assistant("paced")
    limits = RateLimits(limits={"assistants_read": 1}, window=0.3, adaptive=False, redis_url="")
    async with AsyncPinecone(
        api_key=API_KEY, host=emulator.url, tracing=provider, rate_limits=limits
    ) as client:
        with track_requests() as stats:
            for _ in range(3):
                await client.assistants.describe(name="paced")
    waits = [
        (span.attributes or {})["aiopinecone.rate_governor_wait_seconds"]
        for span in exporter.get_finished_spans()
    ]
    assert len(waits) == 3
    assert waits[0] == 0.0
    assert all(wait > 0 for wait in waits[1:])  # type: ignore[operator]
    assert stats.rate_waits == 2
    assert sum(waits) == pytest.approx(stats.rate_wait_seconds, abs=1e-5)  # type: ignore[arg-type]


async def test_a_stream_has_its_span(
    pc: AsyncPinecone, emulator: Emulator, exporter: InMemorySpanExporter
) -> None:
    emulator.store.create_assistant("bot")
    emulator.store.put_file("bot", name="faq.txt", content=b"Shipping takes 5 business days.\n")
    stream = await pc.assistants.chat(
        assistant_name="bot",
        messages=[{"role": "user", "content": "How long does shipping take?"}],
        stream=True,
    )
    async with stream:
        chunks = [chunk async for chunk in stream]
    assert chunks
    attributes = _only(exporter, "chat").attributes or {}
    assert attributes["gen_ai.operation.name"] == "chat"
    assert attributes["http.response.status_code"] == 200
    assert "gen_ai.usage.input_tokens" not in attributes  # not read whole: no usage here
    _no_key_anywhere(exporter)
