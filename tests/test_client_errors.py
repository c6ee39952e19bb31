"""Every error class, produced by the emulator over real sockets and mapped by the client."""

from __future__ import annotations

import builtins
import socket

import pytest

from aiopinecone import (
    APIError,
    AsyncPinecone,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitError,
    RequestTimeoutError,
    ResponseParseError,
    RetryPolicy,
    ServerError,
    TransportError,
)
from aiopinecone.emulator import Emulator
from aiopinecone.emulator.faults import Fault

API_KEY = "test-key"  # accepted by the conftest emulator
NO_RETRY = RetryPolicy.none()
DESCRIBE = "/assistant/assistants/{name}"


@pytest.mark.parametrize(
    ("fault", "expected", "code"),
    [
        (Fault.status(400, "INVALID_ARGUMENT", "bad thing"), BadRequestError, "INVALID_ARGUMENT"),
        (Fault.status(401), AuthenticationError, "UNAUTHENTICATED"),
        (Fault.status(403, "PERMISSION_DENIED", "no"), PermissionDeniedError, "PERMISSION_DENIED"),
        (Fault.status(403, "FORBIDDEN", "project quota reached"), QuotaExceededError, "FORBIDDEN"),
        (Fault.status(404), NotFoundError, "NOT_FOUND"),
        (Fault.status(409), ConflictError, "ALREADY_EXISTS"),
        (Fault.status(429), RateLimitError, "RESOURCE_EXHAUSTED"),
        (Fault.status(429, "QUOTA_EXCEEDED", "quota"), QuotaExceededError, "QUOTA_EXCEEDED"),
        (Fault.status(500), ServerError, "UNKNOWN"),
        (Fault.status(503), ServerError, "UNAVAILABLE"),
        (Fault.status(412), APIError, "FAILED_PRECONDITION"),
    ],
)
async def test_scripted_statuses_map_to_typed_errors(
    client: AsyncPinecone,
    emulator: Emulator,
    fault: Fault,
    expected: type[APIError],
    code: str,
) -> None:
    emulator.faults.script("GET", DESCRIBE, [fault])
    with pytest.raises(APIError) as info:
        await client.assistants.describe(name="x", retry=NO_RETRY)
    assert type(info.value) is expected
    assert info.value.code == code
    last = emulator.log.last()
    assert last is not None
    assert info.value.status == last.status
    assert info.value.message
    assert info.value.attempts == 1


async def test_wrong_key_is_an_authentication_error(emulator: Emulator) -> None:
    async with AsyncPinecone(api_key="wrong-key", host=emulator.url) as pc:
        with pytest.raises(AuthenticationError) as info:
            await pc.assistants.list()
    assert info.value.status == 401
    assert "wrong-key" not in str(info.value)
    assert emulator.log.count() == 1  # never retried


async def test_a_key_echoed_by_the_server_is_redacted(
    client: AsyncPinecone, emulator: Emulator
) -> None:
    emulator.faults.script(
        "GET", DESCRIBE, [Fault.status(401, "UNAUTHENTICATED", f"Invalid API key {API_KEY}")]
    )
    with pytest.raises(AuthenticationError) as info:
        await client.assistants.describe(name="x")
    assert API_KEY not in str(info.value)
    assert API_KEY not in repr(info.value)
    assert "<redacted>" in info.value.message


async def test_not_found(client: AsyncPinecone) -> None:
    with pytest.raises(NotFoundError) as info:
        await client.assistants.describe(name="missing")
    assert "missing" in info.value.message


@pytest.mark.parametrize("duplicate_status", [409, 429])
async def test_duplicate_is_a_conflict_whatever_the_status(duplicate_status: int) -> None:
    async with (
        Emulator(api_keys=(API_KEY,), duplicate_status=duplicate_status) as emu,
        AsyncPinecone(api_key=API_KEY, host=emu.url) as pc,
    ):
        await pc.assistants.create(name="dup")
        with pytest.raises(ConflictError) as info:
            await pc.assistants.create(name="dup")
        assert info.value.status == duplicate_status
        assert emu.log.count(method="POST") == 2  # a duplicate is never retried


async def test_quota_is_never_retried() -> None:
    async with (
        Emulator(api_keys=(API_KEY,), quota=1) as emu,
        AsyncPinecone(api_key=API_KEY, host=emu.url) as pc,
    ):
        await pc.assistants.create(name="one")
        with pytest.raises(QuotaExceededError) as info:
            await pc.assistants.create(name="two")
        assert info.value.code == "QUOTA_EXCEEDED"
        assert not isinstance(info.value, RateLimitError)
        assert info.value.attempts == 1
        assert emu.log.count(method="POST") == 2


async def test_rate_limit_carries_retry_after(client: AsyncPinecone, emulator: Emulator) -> None:
    emulator.faults.script("GET", DESCRIBE, [Fault.status(429, retry_after=7)])
    with pytest.raises(RateLimitError) as info:
        await client.assistants.describe(name="x", retry=NO_RETRY)
    assert info.value.retry_after == 7.0


@pytest.mark.parametrize(
    ("body", "content_type", "expected_text"),
    [
        (b"", None, "empty body"),
        (
            b"<html><head><title>502 Bad Gateway</title></head></html>",
            "text/html",
            "502 Bad Gateway",
        ),
        (b"upstream connect error or disconnect/reset", "text/plain", "upstream connect error"),
    ],
)
async def test_proxy_bodies_still_explain(
    client: AsyncPinecone,
    emulator: Emulator,
    body: bytes,
    content_type: str | None,
    expected_text: str,
) -> None:
    emulator.faults.script(
        "GET", DESCRIBE, [Fault.status(502, body=body, content_type=content_type)]
    )
    with pytest.raises(ServerError) as info:
        await client.assistants.describe(name="x", retry=NO_RETRY)
    assert info.value.status == 502
    assert info.value.code is None
    assert expected_text in str(info.value)


async def test_request_id_is_kept(client: AsyncPinecone, emulator: Emulator) -> None:
    emulator.faults.script(
        "GET", DESCRIBE, [Fault.status(500, headers={"x-pinecone-request-id": "req-42"})]
    )
    with pytest.raises(ServerError) as info:
        await client.assistants.describe(name="x", retry=NO_RETRY)
    assert info.value.request_id == "req-42"
    assert "req-42" in str(info.value)


async def test_malformed_success_body_is_a_parse_error(
    client: AsyncPinecone, emulator: Emulator
) -> None:
    await client.assistants.create(name="x")
    emulator.faults.script("GET", DESCRIBE, [Fault.malformed_body()])
    with pytest.raises(ResponseParseError) as info:
        await client.assistants.describe(name="x")
    assert info.value.status == 200
    assert info.value.path == "$"


async def test_dropped_connection_is_a_transport_error(
    client: AsyncPinecone, emulator: Emulator
) -> None:
    emulator.faults.script("GET", DESCRIBE, [Fault.drop_before()])
    with pytest.raises(TransportError) as info:
        await client.assistants.describe(name="x", retry=NO_RETRY)
    assert info.value.ambiguous
    assert "/assistant/assistants/x" in str(info.value)
    # aiohttp's own hidden re-send of idempotent requests is off: one attempt means one request
    assert emulator.log.count() == 1


async def test_connection_refused_is_an_unambiguous_transport_error() -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nobody listens
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with AsyncPinecone(api_key=API_KEY, host=f"http://127.0.0.1:{port}") as pc:
        with pytest.raises(TransportError) as info:
            await pc.assistants.list(retry=NO_RETRY)
    assert not info.value.ambiguous
    assert "cannot connect" in str(info.value)


async def test_timeout_is_typed(client: AsyncPinecone, emulator: Emulator) -> None:
    emulator.faults.script("GET", DESCRIBE, [Fault.delay(2.0)])
    with pytest.raises(RequestTimeoutError) as info:
        await client.assistants.describe(name="x", retry=NO_RETRY, timeout=0.2)
    assert isinstance(info.value, TransportError)
    assert isinstance(info.value, builtins.TimeoutError)
