"""Control plane against the emulator: every method, on every API version."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson
import pytest

from aiopinecone import (
    Assistant,
    AssistantFailedError,
    AsyncPinecone,
    ConflictError,
    NotFoundError,
    ResponseParseError,
    ValidationError,
    WaitTimeoutError,
)
from aiopinecone.emulator import Emulator
from aiopinecone.emulator.faults import Fault

API_KEY = "test-key"  # accepted by the conftest emulator

VERSIONS = ["2025-04", "2025-10", "2026-04"]


class Recorder:
    """Request bodies as aiohttp sent them (via its public tracing hooks)."""

    def __init__(self) -> None:
        self.bodies: list[tuple[str, str, bytes]] = []
        self.config = aiohttp.TraceConfig()
        self.config.on_request_chunk_sent.append(self._chunk)

    async def _chunk(
        self, _s: aiohttp.ClientSession, _c: object, params: aiohttp.TraceRequestChunkSentParams
    ) -> None:
        self.bodies.append((params.method, params.url.path, params.chunk))

    def json_bodies(self, method: str) -> list[Any]:
        return [orjson.loads(b) for m, _p, b in self.bodies if m == method and b]


@pytest.fixture(params=VERSIONS)
async def versioned(
    request: pytest.FixtureRequest, emulator: Emulator
) -> AsyncIterator[tuple[AsyncPinecone, Recorder]]:
    recorder = Recorder()
    async with (
        aiohttp.ClientSession(trace_configs=[recorder.config]) as session,
        AsyncPinecone(
            api_key=API_KEY, host=emulator.url, api_version=request.param, session=session
        ) as pc,
    ):
        yield pc, recorder


async def test_create_describe_list_update_delete(
    versioned: tuple[AsyncPinecone, Recorder], emulator: Emulator
) -> None:
    pc, recorder = versioned
    created = await pc.assistants.create(
        name="support", instructions="Be kind.", metadata={"team": "x"}, region="eu"
    )
    assert isinstance(created, Assistant)
    assert (created.name, created.instructions, created.metadata) == (
        "support",
        "Be kind.",
        {"team": "x"},
    )
    assert created.status in ("Ready", "Initializing")
    assert created.host == emulator.url
    assert created.created_at is not None
    assert created.created_at.tzinfo is not None
    if pc.api_version == "2026-04":
        assert created.region == "eu"
    assert recorder.json_bodies("POST") == [
        {"name": "support", "region": "eu", "instructions": "Be kind.", "metadata": {"team": "x"}}
    ]

    described = await pc.assistants.describe(name="support")
    assert described.name == "support"
    assert described.is_ready

    listed = await pc.assistants.list()
    assert [a.name for a in listed] == ["support"]

    updated = await pc.assistants.update(name="support", instructions="Be brief.")
    assert updated.instructions == "Be brief."
    assert updated.metadata == {"team": "x"}  # untouched
    assert recorder.json_bodies("PATCH") == [{"instructions": "Be brief."}]

    updated = await pc.assistants.update(name="support", metadata={})
    assert updated.metadata in ({}, None)
    assert updated.instructions == "Be brief."
    assert recorder.json_bodies("PATCH")[-1] == {"metadata": {}}

    await pc.assistants.delete(name="support")
    with pytest.raises(NotFoundError):
        await pc.assistants.describe(name="support")
    assert await pc.assistants.list() == []


async def test_create_sends_only_what_was_given(client: AsyncPinecone, emulator: Emulator) -> None:
    created = await client.assistants.create(name="bare")
    assert created.instructions is None
    record = emulator.store.get_assistant("bare")
    assert record.metadata is None
    assert record.region == "us"


async def test_update_never_sends_null(client: AsyncPinecone, emulator: Emulator) -> None:
    await client.assistants.create(name="keep", instructions="i", metadata={"a": 1})
    before = emulator.log.count()
    with pytest.raises(ValidationError, match="metadata=None"):
        await client.assistants.update(name="keep", metadata=None)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="instructions=None"):
        await client.assistants.update(name="keep", instructions=None)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="at least one"):
        await client.assistants.update(name="keep")
    assert emulator.log.count() == before  # nothing was sent
    record = emulator.store.get_assistant("keep")
    assert (record.instructions, record.metadata) == ("i", {"a": 1})


async def test_update_both_fields(versioned: tuple[AsyncPinecone, Recorder]) -> None:
    pc, recorder = versioned
    await pc.assistants.create(name="both")
    updated = await pc.assistants.update(name="both", instructions="", metadata={"k": [1, 2]})
    assert updated.metadata == {"k": [1, 2]}
    assert recorder.json_bodies("PATCH") == [{"instructions": "", "metadata": {"k": [1, 2]}}]


async def test_update_with_the_spec_shaped_answer_describes(
    client: AsyncPinecone, emulator: Emulator
) -> None:
    await client.assistants.create(name="spec")
    spec_body = b'{"assistant_name": "spec", "instructions": "new", "metadata": null}'
    emulator.faults.script(
        "PATCH",
        "/assistant/assistants/{name}",
        [Fault.perform_then_status(200, body=spec_body, content_type="application/json")],
    )
    updated = await client.assistants.update(name="spec", instructions="new")
    assert updated.status == "Ready"
    assert updated.instructions == "new"
    assert emulator.log.count(method="GET", path="/assistant/assistants/spec") == 1


async def test_update_and_delete_of_a_missing_assistant(client: AsyncPinecone) -> None:
    with pytest.raises(NotFoundError):
        await client.assistants.update(name="ghost", instructions="x")
    with pytest.raises(NotFoundError):
        await client.assistants.delete(name="ghost")


async def test_duplicate_create_is_a_conflict(client: AsyncPinecone, emulator: Emulator) -> None:
    await client.assistants.create(name="dup")
    with pytest.raises(ConflictError) as info:
        await client.assistants.create(name="dup")
    assert info.value.attempts == 1
    assert emulator.log.count(method="POST") == 2
    assert emulator.log.count(method="GET") == 0  # no reconciliation for a first-attempt conflict


@pytest.mark.parametrize("version", VERSIONS)
async def test_names_are_checked_per_version_before_sending(
    emulator: Emulator, version: str
) -> None:
    async with AsyncPinecone(api_key=API_KEY, host=emulator.url, api_version=version) as pc:
        name_50 = "a" * 50
        if version == "2025-04":
            with pytest.raises(ValidationError, match="45"):
                await pc.assistants.create(name=name_50)
        else:
            await pc.assistants.create(name=name_50)
        # Only what is certainly wrong (the service accepts mixed case, see test_emulator_fidelity).
        for bad in ("a b", "a/b", "é", "", "a" * 64, "../etc"):
            for call in (
                pc.assistants.create(name=bad),
                pc.assistants.describe(name=bad),
                pc.assistants.update(name=bad, instructions="x"),
                pc.assistants.delete(name=bad),
                pc.assistants.wait_until_ready(name=bad),
            ):
                with pytest.raises(ValidationError):
                    await call
        expected = 0 if version == "2025-04" else 1
        assert emulator.log.count() == expected


@pytest.mark.parametrize(
    "kwargs",
    [
        {"region": "ap"},
        {"region": "US"},
        {"metadata": ["not", "a", "dict"]},
        {"metadata": {"big": "x" * 17000}},
        {"instructions": "x" * 17000},
        {"instructions": 42},
        {"wait": True, "wait_timeout": -1},
    ],
)
async def test_create_input_errors_before_any_request(
    client: AsyncPinecone, emulator: Emulator, kwargs: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError):
        await client.assistants.create(name="x", **kwargs)
    assert emulator.log.count() == 0


async def test_list_follows_every_page_on_2026_04(emulator: Emulator) -> None:
    for i in range(230):
        emulator.store.create_assistant(f"a{i:03d}")
    async with AsyncPinecone(api_key=API_KEY, host=emulator.url, api_version="2026-04") as pc:
        listed = await pc.assistants.list()
        assert [a.name for a in listed] == [f"a{i:03d}" for i in range(230)]
        gets = emulator.log.filter(method="GET", path="/assistant/assistants")
        assert len(gets) == 3
        assert all(e.query.get("limit") == "100" for e in gets)
        assert "pagination_token" not in gets[0].query
        assert all("pagination_token" in e.query for e in gets[1:])

        page = await pc.assistants.list_page(page_size=7)
        assert len(page.assistants) == 7
        assert page.pagination is not None
        assert page.pagination.next
        nxt = await pc.assistants.list_page(page_size=7, pagination_token=page.pagination.next)
        assert nxt.assistants[0].name == "a007"


async def test_list_is_one_request_before_2026_04(emulator: Emulator) -> None:
    for i in range(120):
        emulator.store.create_assistant(f"b{i:03d}")
    async with AsyncPinecone(api_key=API_KEY, host=emulator.url, api_version="2025-10") as pc:
        assert len(await pc.assistants.list()) == 120
    gets = emulator.log.filter(method="GET", path="/assistant/assistants")
    assert len(gets) == 1
    assert gets[0].query == {}


async def test_list_stops_on_a_repeated_token(emulator: Emulator) -> None:
    body = b'{"assistants": [], "pagination": {"next": "same"}}'
    emulator.faults.script(
        "GET",
        "/assistant/assistants",
        [Fault.perform_then_status(200, body=body, content_type="application/json")],
        repeat=True,
    )
    async with AsyncPinecone(api_key=API_KEY, host=emulator.url, api_version="2026-04") as pc:
        with pytest.raises(ResponseParseError, match="repeated"):
            await pc.assistants.list()
    assert emulator.log.count(method="GET") == 2


async def test_list_ignores_a_stray_token_before_2026_04(
    client: AsyncPinecone, emulator: Emulator
) -> None:
    """2025-10 lists are not paginated: a token in the answer is not followed."""
    body = b'{"assistants": [], "pagination": {"next": "stray"}}'
    emulator.faults.script(
        "GET",
        "/assistant/assistants",
        [Fault.perform_then_status(200, body=body, content_type="application/json")],
        repeat=True,
    )
    assert await client.assistants.list() == []
    assert emulator.log.count(method="GET") == 1


@pytest.mark.parametrize("page_size", [0, 101, -1, True, "10"])
async def test_list_page_size_is_checked(client: AsyncPinecone, page_size: object) -> None:
    with pytest.raises(ValidationError):
        await client.assistants.list_page(page_size=page_size)  # type: ignore[arg-type]


async def test_create_wait_returns_ready(emulator: Emulator, instant_retries: None) -> None:
    async with Emulator(api_keys=(API_KEY,), ready_delay=0.3) as slow:
        async with AsyncPinecone(api_key=API_KEY, host=slow.url) as pc:
            created = await pc.assistants.create(name="slowpoke", wait=True, wait_timeout=30)
            assert created.is_ready
        polls = slow.log.count(method="GET", path="/assistant/assistants/slowpoke")
        assert polls >= 1


async def test_wait_stops_on_failure(client: AsyncPinecone, emulator: Emulator) -> None:
    emulator.store.create_assistant("broken")
    emulator.store.fail_assistant("broken", "InitializationFailed")
    with pytest.raises(AssistantFailedError) as info:
        await client.assistants.wait_until_ready(name="broken", timeout=30)
    assert info.value.status == "InitializationFailed"
    assert "broken" in str(info.value)
    assert emulator.log.count(method="GET") == 1


async def test_wait_stops_on_terminating(instant_retries: None) -> None:
    async with Emulator(api_keys=(API_KEY,), delete_delay=60.0) as emu:
        emu.store.create_assistant("leaving")
        emu.store.delete_assistant("leaving")
        async with AsyncPinecone(api_key=API_KEY, host=emu.url) as pc:
            with pytest.raises(AssistantFailedError, match="Terminating"):
                await pc.assistants.wait_until_ready(name="leaving", timeout=30)


async def test_wait_timeout_is_typed(instant_retries: None) -> None:
    async with (
        Emulator(api_keys=(API_KEY,), ready_delay=600.0) as emu,
        AsyncPinecone(api_key=API_KEY, host=emu.url) as pc,
    ):
        with pytest.raises(WaitTimeoutError) as info:
            await pc.assistants.create(name="never", wait=True, wait_timeout=0.3)
        assert info.value.last_status == "Initializing"
        assert isinstance(info.value, TimeoutError)  # also the builtin


async def test_wait_polls_with_growing_intervals() -> None:
    # Real sleeps: with intervals 1, 2, 4 s (jittered down to 75%), an assistant that takes
    # 3.5 s gets at most 4 describes; a fixed 0.5 s poll would make 7.
    async with Emulator(api_keys=(API_KEY,), ready_delay=3.5) as emu:
        async with AsyncPinecone(api_key=API_KEY, host=emu.url) as pc:
            await pc.assistants.create(name="patient", wait=True, wait_timeout=60)
        assert 1 <= emu.log.count(method="GET", path="/assistant/assistants/patient") <= 4


async def test_delete_wait_until_gone(instant_retries: None) -> None:
    async with Emulator(api_keys=(API_KEY,), delete_delay=0.3) as emu:
        emu.store.create_assistant("bye")
        async with AsyncPinecone(api_key=API_KEY, host=emu.url) as pc:
            await pc.assistants.delete(name="bye", wait=True, wait_timeout=30)
            with pytest.raises(NotFoundError):
                await pc.assistants.describe(name="bye")
        assert "bye" not in emu.store


async def test_results_prime_the_host_cache(client: AsyncPinecone, emulator: Emulator) -> None:
    await client.assistants.create(name="cached")
    describe = "/assistant/assistants/cached"
    # Cached: the data-plane call goes straight to the host the create answered.
    assert await client.assistants.list_files(assistant_name="cached") == []
    assert emulator.log.count(method="GET", path=describe) == 0
    assert emulator.log.count(method="GET", path="/assistant/files/cached") == 1
    await client.assistants.delete(name="cached")
    # Forgotten: the next data-plane call has to resolve the host again (and finds no assistant).
    with pytest.raises(NotFoundError):
        await client.assistants.list_files(assistant_name="cached")
    assert emulator.log.count(method="GET", path=describe) == 1
