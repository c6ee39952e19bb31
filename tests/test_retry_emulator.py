"""Each retry rule against the emulator; its request log proves the number of attempts."""

from __future__ import annotations

import email.utils
import socket
import time

import pytest

from aiopinecone import (
    AsyncPinecone,
    BadRequestError,
    ConflictError,
    NotFoundError,
    QuotaExceededError,
    RateLimitError,
    RequestTimeoutError,
    RetryPolicy,
    ServerError,
    TransportError,
    track_requests,
)
from aiopinecone.emulator import Emulator
from aiopinecone.emulator.faults import Fault

pytestmark = pytest.mark.usefixtures("instant_retries")

API_KEY = "test-key"  # accepted by the conftest emulator
LIST = "/assistant/assistants"
ONE = "/assistant/assistants/{name}"


def count(emulator: Emulator, method: str, path: str) -> int:
    return int(emulator.log.count(method=method, path=path))


async def test_429_is_retried_then_succeeds(client: AsyncPinecone, emulator: Emulator) -> None:
    emulator.faults.script("GET", LIST, [Fault.status(429, retry_after=1), Fault.status(429)])
    with track_requests() as stats:
        assert await client.assistants.list() == []
    assert count(emulator, "GET", LIST) == 3
    assert (stats.requests, stats.retries, stats.rate_limited) == (3, 2, 2)
    assert stats.last_retry_after == 1.0


async def test_429_on_create_is_retried_without_duplicates(
    client: AsyncPinecone, emulator: Emulator
) -> None:
    emulator.faults.script("POST", LIST, [Fault.status(429, retry_after=0)])
    created = await client.assistants.create(name="rl")
    assert created.name == "rl"
    assert count(emulator, "POST", LIST) == 2
    assert count(emulator, "GET", ONE) == 0  # nothing ambiguous: no reconciliation
    assert len(emulator.store) == 1


async def test_retry_after_is_honoured_and_charged_to_the_budget(
    emulator: Emulator,
) -> None:
    # 10 s budget; each 429 asks for 4 s: after two waits (8 s) the third does not fit.
    policy = RetryPolicy(max_attempts=10, max_elapsed=10.0, max_retry_after=60.0)
    emulator.faults.script("GET", LIST, [Fault.status(429, retry_after=4)] * 5)
    async with AsyncPinecone(api_key=API_KEY, host=emulator.url, retry=policy) as pc:
        with pytest.raises(RateLimitError) as info:
            await pc.assistants.list()
    assert info.value.attempts == 3
    assert count(emulator, "GET", LIST) == 3


@pytest.mark.parametrize("retry_after", [61, 3600])
async def test_retry_after_above_the_cap_gives_up_now(
    client: AsyncPinecone, emulator: Emulator, retry_after: int
) -> None:
    emulator.faults.script("GET", LIST, [Fault.status(429, retry_after=retry_after)])
    with pytest.raises(RateLimitError) as info:
        await client.assistants.list()
    assert info.value.retry_after == retry_after
    assert info.value.attempts == 1
    assert count(emulator, "GET", LIST) == 1


async def test_retry_after_as_http_date(client: AsyncPinecone, emulator: Emulator) -> None:
    soon = email.utils.formatdate(time.time() + 2, usegmt=True)
    far = email.utils.formatdate(time.time() + 7200, usegmt=True)
    emulator.faults.script("GET", LIST, [Fault.status(429, retry_after=soon)])
    assert await client.assistants.list() == []
    assert count(emulator, "GET", LIST) == 2
    emulator.faults.script("GET", LIST, [Fault.status(429, retry_after=far)])
    with pytest.raises(RateLimitError):
        await client.assistants.list()
    assert count(emulator, "GET", LIST) == 3


async def test_garbage_retry_after_falls_back_to_backoff(
    client: AsyncPinecone, emulator: Emulator
) -> None:
    emulator.faults.script("GET", LIST, [Fault.status(429, retry_after="soon-ish")])
    assert await client.assistants.list() == []
    assert count(emulator, "GET", LIST) == 2


async def test_quota_and_other_4xx_are_never_retried(
    client: AsyncPinecone, emulator: Emulator
) -> None:
    emulator.faults.script("GET", LIST, [Fault.status(429, "QUOTA_EXCEEDED", "quota")])
    with pytest.raises(QuotaExceededError):
        await client.assistants.list()
    emulator.faults.script("GET", LIST, [Fault.status(400)])
    with pytest.raises(BadRequestError):
        await client.assistants.list()
    emulator.faults.script("GET", ONE, [Fault.status(404)])
    with pytest.raises(NotFoundError):
        await client.assistants.describe(name="x")
    assert emulator.log.count() == 3


@pytest.mark.parametrize(
    ("method", "path", "call"),
    [
        ("GET", LIST, "list"),
        ("GET", ONE, "describe"),
        ("PATCH", ONE, "update"),
        ("DELETE", ONE, "delete"),
    ],
)
@pytest.mark.parametrize("fault", [Fault.status(500), Fault.status(503), Fault.drop_before()])
async def test_5xx_and_transport_errors_are_retried_for_idempotent_requests(
    client: AsyncPinecone,
    emulator: Emulator,
    method: str,
    path: str,
    call: str,
    fault: Fault,
) -> None:
    emulator.store.create_assistant("x")
    emulator.faults.script(method, path, [fault, fault])
    assistants = client.assistants
    if call == "list":
        await assistants.list()
    elif call == "describe":
        await assistants.describe(name="x")
    elif call == "update":
        await assistants.update(name="x", instructions="new")
    else:
        await assistants.delete(name="x")
    assert emulator.log.count(method=method) == 3


async def test_retries_stop_at_max_attempts(emulator: Emulator) -> None:
    emulator.faults.script("GET", LIST, [Fault.status(503)], repeat=True)
    async with AsyncPinecone(
        api_key=API_KEY, host=emulator.url, retry=RetryPolicy(max_attempts=3)
    ) as pc:
        with pytest.raises(ServerError) as info:
            await pc.assistants.list()
    assert info.value.attempts == 3
    assert count(emulator, "GET", LIST) == 3


async def test_per_call_policy_overrides_the_client_default(emulator: Emulator) -> None:
    emulator.faults.script("GET", LIST, [Fault.status(503)], repeat=True)
    async with AsyncPinecone(api_key=API_KEY, host=emulator.url, retry=RetryPolicy.none()) as pc:
        with pytest.raises(ServerError):
            await pc.assistants.list()
        assert count(emulator, "GET", LIST) == 1
        with pytest.raises(ServerError):
            await pc.assistants.list(retry=RetryPolicy(max_attempts=5))
        assert count(emulator, "GET", LIST) == 6


async def test_non_idempotent_post_is_not_retried_on_5xx_or_lost_connection(
    client: AsyncPinecone, emulator: Emulator
) -> None:
    core = client._core
    for fault in (Fault.status(500), Fault.drop_before()):
        emulator.faults.script("POST", "/assistant/chat/{name}", [fault])
        with pytest.raises((ServerError, TransportError)) as info:
            await core.request(
                "POST", f"{emulator.url}/assistant/chat/x", op="chat", json={"messages": []}
            )
        assert isinstance(info.value, ServerError | TransportError)
        assert info.value.attempts == 1
    assert emulator.log.count(method="POST") == 2


async def test_connect_failures_are_retried_even_for_post() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # connect_budget=0: connect failures count as ordinary attempts (the budget is tested in
    # test_outage.py)
    async with AsyncPinecone(
        api_key=API_KEY, host=f"http://127.0.0.1:{port}", retry=RetryPolicy(connect_budget=0.0)
    ) as pc:
        with pytest.raises(TransportError) as info:
            await pc._core.request(
                "POST", f"http://127.0.0.1:{port}/assistant/chat/x", op="chat", json={}
            )
    assert info.value.attempts == 4
    assert not info.value.ambiguous


async def test_timeouts_are_retried_for_idempotent_requests(
    client: AsyncPinecone, emulator: Emulator
) -> None:
    emulator.faults.script("GET", LIST, [Fault.delay(2.0)])
    with track_requests() as stats:
        assert await client.assistants.list(timeout=0.3) == []
    assert (stats.requests, stats.retries) == (2, 1)
    # the abandoned request is logged once the emulator notices the client left
    assert count(emulator, "GET", LIST) in (1, 2)
    assert emulator.log.filter(method="GET", path=LIST, status=200)


async def test_timeout_exhausting_retries(client: AsyncPinecone, emulator: Emulator) -> None:
    emulator.faults.script("GET", LIST, [Fault.delay(2.0)], repeat=True)
    with pytest.raises(RequestTimeoutError) as info:
        await client.assistants.list(timeout=0.2, retry=RetryPolicy(max_attempts=2))
    assert info.value.attempts == 2


@pytest.mark.parametrize(
    "fault", [Fault.perform_then_status(500), Fault.perform_then_status(503), Fault.drop_after()]
)
async def test_delete_meeting_404_after_a_lost_response_has_succeeded(
    client: AsyncPinecone, emulator: Emulator, fault: Fault
) -> None:
    emulator.store.create_assistant("gone")
    emulator.faults.script("DELETE", ONE, [fault])
    await client.assistants.delete(name="gone")  # no NotFoundError
    assert emulator.log.count(method="DELETE") == 2
    assert [e.status for e in emulator.log.filter(method="DELETE")][-1] == 404
    assert "gone" not in emulator.store


async def test_delete_meeting_404_after_only_rate_limits_is_not_found(
    client: AsyncPinecone, emulator: Emulator
) -> None:
    emulator.faults.script("DELETE", ONE, [Fault.status(429)])
    with pytest.raises(NotFoundError):
        await client.assistants.delete(name="never-existed")
    assert emulator.log.count(method="DELETE") == 2


@pytest.mark.parametrize(
    "fault", [Fault.drop_after(), Fault.perform_then_status(500), Fault.perform_then_status(503)]
)
@pytest.mark.parametrize("duplicate_status", [409, 429])
async def test_lost_response_create_returns_the_assistant(
    fault: Fault, duplicate_status: int
) -> None:
    async with (
        Emulator(api_keys=(API_KEY,), duplicate_status=duplicate_status) as emu,
        AsyncPinecone(api_key=API_KEY, host=emu.url) as pc,
    ):
        emu.faults.script("POST", LIST, [fault])
        created = await pc.assistants.create(
            name="lost", instructions="Be kind.", metadata={"team": "x"}, region="us"
        )
        assert (created.name, created.instructions, created.metadata) == (
            "lost",
            "Be kind.",
            {"team": "x"},
        )
        assert emu.log.count(method="POST") == 2
        assert [e.status for e in emu.log.filter(method="POST")][-1] == duplicate_status
        assert emu.log.count(method="GET", path="/assistant/assistants/lost") == 1
        assert len(emu.store) == 1


async def test_retried_create_meeting_a_different_assistant_is_a_conflict(
    client: AsyncPinecone, emulator: Emulator
) -> None:
    # Someone else's assistant of that name exists; our first attempt failed without effect.
    emulator.store.create_assistant("taken", instructions="theirs")
    emulator.faults.script("POST", LIST, [Fault.status(503)])
    with pytest.raises(ConflictError) as info:
        await client.assistants.create(name="taken", instructions="ours")
    assert "instructions" in str(info.value)
    assert info.value.attempts == 2
    assert emulator.log.count(method="POST") == 2
    assert emulator.store.get_assistant("taken").instructions == "theirs"


@pytest.mark.parametrize("region", ["eu"])
async def test_reconciliation_compares_region_where_the_server_reports_it(
    emulator: Emulator, region: str
) -> None:
    emulator.store.create_assistant("zone", region="us")
    emulator.faults.script("POST", LIST, [Fault.status(500)])
    async with AsyncPinecone(api_key=API_KEY, host=emulator.url, api_version="2026-04") as pc:
        with pytest.raises(ConflictError, match="region"):
            await pc.assistants.create(name="zone", region=region)


async def test_a_genuine_duplicate_on_the_first_attempt_is_a_conflict(
    client: AsyncPinecone, emulator: Emulator
) -> None:
    emulator.store.create_assistant("mine", instructions="same")
    with pytest.raises(ConflictError) as info:
        await client.assistants.create(name="mine", instructions="same")
    assert not info.value.ambiguous
    assert emulator.log.count(method="GET") == 0
