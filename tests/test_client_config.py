"""AsyncPinecone construction: configuration sources, validation, sessions, closing, redaction."""

from __future__ import annotations

import aiohttp
import pytest

from aiopinecone import AsyncPinecone, PineconeError, RetryPolicy, ValidationError
from aiopinecone.emulator import Emulator

API_KEY = "test-key"  # accepted by the conftest emulator

SECRET = "pcsk_very-secret-key-123"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PINECONE_API_KEY", raising=False)
    monkeypatch.delenv("PINECONE_CONTROLLER_HOST", raising=False)


def test_missing_key_is_a_clear_error() -> None:
    with pytest.raises(ValidationError, match="PINECONE_API_KEY"):
        AsyncPinecone()
    with pytest.raises(ValidationError):
        AsyncPinecone(api_key="")
    with pytest.raises(ValidationError):
        AsyncPinecone(api_key="   ")


def test_key_with_control_characters_is_refused_without_echoing_it() -> None:
    with pytest.raises(ValidationError) as info:
        AsyncPinecone(api_key=SECRET + "\r\nX-Evil: 1")
    assert SECRET not in str(info.value)


def test_key_and_host_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PINECONE_API_KEY", SECRET)
    monkeypatch.setenv("PINECONE_CONTROLLER_HOST", "https://controller.example.com/")
    pc = AsyncPinecone()
    assert pc.host == "https://controller.example.com"


async def test_key_and_host_from_environment_are_what_requests_use(
    monkeypatch: pytest.MonkeyPatch, emulator: Emulator
) -> None:
    monkeypatch.setenv("PINECONE_API_KEY", API_KEY)
    monkeypatch.setenv("PINECONE_CONTROLLER_HOST", emulator.url + "/")
    async with AsyncPinecone() as pc:
        assert await pc.assistants.list() == []  # the emulator accepts only API_KEY
    assert emulator.log.count(method="GET", path="/assistant/assistants") == 1


def test_arguments_win_over_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PINECONE_API_KEY", "from-env")
    monkeypatch.setenv("PINECONE_CONTROLLER_HOST", "https://env.example.com")
    pc = AsyncPinecone(api_key=SECRET, host="https://arg.example.com")
    assert pc.host == "https://arg.example.com"


async def test_arguments_win_over_environment_in_requests(
    monkeypatch: pytest.MonkeyPatch, emulator: Emulator
) -> None:
    monkeypatch.setenv("PINECONE_API_KEY", "from-env")
    monkeypatch.setenv("PINECONE_CONTROLLER_HOST", "https://env.example.com")
    async with AsyncPinecone(api_key=API_KEY, host=emulator.url) as pc:
        assert await pc.assistants.list() == []  # the emulator accepts only API_KEY
    assert emulator.log.count(method="GET", path="/assistant/assistants") == 1


def test_defaults() -> None:
    pc = AsyncPinecone(api_key=SECRET)
    assert pc.host == "https://api.pinecone.io"
    assert pc.api_version == "2026-07"  # the newest (issue 14; it was 2025-10)
    assert pc.retry == RetryPolicy()
    assert pc.evaluation_host("us") + "/assistant" == "https://prod-1-data.ke.pinecone.io/assistant"
    assert (
        pc.evaluation_host("eu") + "/assistant" == "https://prod-eu-data.ke.pinecone.io/assistant"
    )


def test_custom_host_also_serves_evaluation() -> None:
    pc = AsyncPinecone(api_key=SECRET, host="http://127.0.0.1:9999")
    assert pc.evaluation_host("eu") + "/assistant" == "http://127.0.0.1:9999/assistant"
    pc = AsyncPinecone(api_key=SECRET, evaluation_host="https://eval.example.com")
    assert pc.evaluation_host() + "/assistant" == "https://eval.example.com/assistant"


@pytest.mark.parametrize("version", ["2025-04", "2025-10", "2026-04"])
def test_known_versions(version: str) -> None:
    assert AsyncPinecone(api_key=SECRET, api_version=version).api_version == version


@pytest.mark.parametrize("version", ["2024-07", "2027-01", "", "latest"])
def test_unknown_version(version: str) -> None:
    with pytest.raises(ValidationError, match="api_version"):
        AsyncPinecone(api_key=SECRET, api_version=version)


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("api.pinecone.io", "https://api.pinecone.io"),
        ("https://API.Pinecone.io/", "https://api.pinecone.io"),
        ("http://localhost:8080", "http://localhost:8080"),
        ("http://127.0.0.1:5080", "http://127.0.0.1:5080"),
        ("http://[::1]:5080", "http://[::1]:5080"),
        ("https://proxy.example.com/pinecone/", "https://proxy.example.com/pinecone"),
    ],
)
def test_host_normalization(host: str, expected: str) -> None:
    assert AsyncPinecone(api_key=SECRET, host=host).host == expected


@pytest.mark.parametrize(
    "host",
    [
        "",
        "ftp://api.pinecone.io",
        "https://",
        "https://exa mple.com",
        "https://api.pinecone.io:99999",
        "https://api.pinecone.io:port",
        "https://api.pinecone.io/?x=1",
        "https://user:pw@api.pinecone.io",
    ],
)
def test_malformed_host(host: str) -> None:
    with pytest.raises(ValidationError):
        AsyncPinecone(api_key=SECRET, host=host)


def test_plain_http_to_a_remote_host_is_refused_unless_allowed() -> None:
    with pytest.raises(ValidationError, match="allow_insecure_http"):
        AsyncPinecone(api_key=SECRET, host="http://pinecone.internal:8080")
    pc = AsyncPinecone(
        api_key=SECRET, host="http://pinecone.internal:8080", allow_insecure_http=True
    )
    assert pc.host == "http://pinecone.internal:8080"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_connections": 0},
        {"max_connections": -1},
        {"max_connections_per_host": -1},
        {"timeout": 0},
        {"timeout": -5},
        {"retry": "twice"},
        {"session": "not a session"},
    ],
)
def test_bad_options(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        AsyncPinecone(api_key=SECRET, **kwargs)  # type: ignore[arg-type]


def test_repr_never_shows_the_key() -> None:
    pc = AsyncPinecone(api_key=SECRET)
    assert SECRET not in repr(pc)
    assert "redacted" in repr(pc)
    assert SECRET not in repr(pc.assistants)


async def test_session_is_created_lazily_inside_the_loop_and_closed(emulator: Emulator) -> None:
    pc = AsyncPinecone(api_key=API_KEY, host=emulator.url)
    # Nothing created at construction (read as a pair: mypy must not narrow the properties).
    assert (pc.connector, pc.session) == (None, None)
    await pc.assistants.list()
    connector = pc.connector
    assert connector is not None
    session = pc.session
    assert session is not None
    await pc.close()
    assert session.closed
    assert connector.closed
    assert pc.closed
    await pc.close()  # idempotent


async def test_closed_client_refuses_requests(emulator: Emulator) -> None:
    async with AsyncPinecone(api_key=API_KEY, host=emulator.url) as pc:
        await pc.assistants.list()
    with pytest.raises(PineconeError, match="closed"):
        await pc.assistants.list()


async def test_never_used_client_closes_cleanly() -> None:
    async with AsyncPinecone(api_key=SECRET):
        pass
    pc = AsyncPinecone(api_key=SECRET)
    await pc.close()


async def test_callers_session_is_used_and_never_closed(emulator: Emulator) -> None:
    async with aiohttp.ClientSession() as session:
        async with AsyncPinecone(api_key=API_KEY, host=emulator.url, session=session) as pc:
            await pc.assistants.create(name="mine")
            assert pc.session is session
        assert not session.closed
        # still usable by its owner after the client is gone
        async with session.get(f"{emulator.url}/assistant/assistants") as response:
            assert response.status == 401  # no key: the emulator refuses, but it answered
    assert emulator.log.count(path="/assistant/assistants", method="POST") == 1


async def test_every_request_carries_key_version_and_user_agent(emulator: Emulator) -> None:
    seen: list[dict[str, str]] = []

    async def trace(
        _session: aiohttp.ClientSession,
        _ctx: object,
        params: aiohttp.TraceRequestStartParams,
    ) -> None:
        seen.append(dict(params.headers))

    config = aiohttp.TraceConfig()
    config.on_request_start.append(trace)
    async with (
        aiohttp.ClientSession(trace_configs=[config]) as session,
        AsyncPinecone(
            api_key=API_KEY, host=emulator.url, session=session, api_version="2026-04"
        ) as pc,
    ):
        await pc.assistants.create(name="hdr")
        await pc.assistants.describe(name="hdr")
    assert len(seen) == 2
    for headers in seen:
        assert headers["Api-Key"] == API_KEY
        assert headers["X-Pinecone-Api-Version"] == "2026-04"
        assert headers["User-Agent"].startswith("aiopinecone/")
    entries = emulator.log.filter(path="/assistant/assistants/**")
    assert {e.api_version for e in entries} == {"2026-04"}
