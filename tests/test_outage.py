"""A brief outage loses nothing: connect failures are retried on a time budget (issue 12).

The outage is real: the emulator's listening socket is closed (its connections too) and, about
a second later, a server is bound again on the same port with the same state.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import attrs
import pytest

from aiopinecone import (
    AsyncPinecone,
    RetryPolicy,
    TransportError,
    track_requests,
)
from aiopinecone._retry import RetryState
from aiopinecone.emulator import Emulator
from aiopinecone.provision import AssistantSpec, FileSpec

KEY = "outage-key"
OUTAGE = 1.0  # seconds the server is gone


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(
        api_keys=(KEY,), ready_delay=0.05, file_processing_delay=0.03, delete_delay=0.0
    ) as e:
        yield e


async def outage(emu: Emulator, seconds: float = OUTAGE) -> None:
    """Stop the emulator, wait, and serve again on the same port (same store)."""
    port = int(emu.url.rsplit(":", 1)[1])
    await emu.stop()
    await asyncio.sleep(seconds)
    emu.config = attrs.evolve(emu.config, port=port)
    await emu.start()


async def test_a_batch_of_calls_survives_a_one_second_outage(emu: Emulator) -> None:
    async with AsyncPinecone(api_key=KEY, host=emu.url) as pc:
        done = 0
        started_outage = asyncio.Event()

        async def work(i: int) -> None:
            nonlocal done
            await pc.assistants.create(name=f"o{i}", instructions="x")
            await pc.assistants.describe(name=f"o{i}")
            await pc.assistants.list()
            done += 1
            if done == 5:
                started_outage.set()

        with track_requests() as stats:
            semaphore = asyncio.Semaphore(4)

            async def bounded(i: int) -> None:
                async with semaphore:
                    await work(i)

            tasks = [asyncio.create_task(bounded(i)) for i in range(30)]
            await asyncio.wait_for(started_outage.wait(), 30)
            await outage(emu)
            results = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 60)
    failures = [r for r in results if isinstance(r, BaseException)]
    assert failures == []
    assert sorted(a.name for a in emu.store.list_assistants()) == sorted(f"o{i}" for i in range(30))
    # the calls met the outage and waited it out (the report of a run reads these)
    assert stats.connect_retries > 0
    assert stats.outage_seconds > 0


async def test_a_provisioning_run_survives_a_one_second_outage(
    emu: Emulator, tmp_path: Path
) -> None:
    doc = tmp_path / "faq.md"
    doc.write_text("# FAQ\nQ: Is it up? A: Again.\n")
    specs = [
        AssistantSpec(name=f"p{i}", instructions=f"n{i}", files=(FileSpec(path=doc),))
        for i in range(16)
    ]
    async with AsyncPinecone(api_key=KEY, host=emu.url) as pc:
        provisioner = pc.assistants.provisioner(
            specs,
            concurrency=4,
            poll_interval=(0.01, 0.05),
            ready_estimate=0.02,
        )
        run = asyncio.create_task(provisioner.apply())
        for _ in range(2000):  # until the run is well under way
            if len(emu.store.list_assistants()) >= 4 or run.done():
                break
            await asyncio.sleep(0.005)
        assert not run.done()
        await outage(emu)
        report = await asyncio.wait_for(run, 60)
    assert report.ok, report.summary_table()
    assert report.counts()["failed"] == 0
    assert sorted(a.name for a in emu.store.list_assistants()) == sorted(s.name for s in specs)
    assert report.outage_seconds > 0
    assert report.to_dict()["outage_seconds"] > 0
    assert "for the server to accept connections again" in report.summary_table()


def closed_port() -> int:
    with socket.socket() as sock:  # a port that was free a moment ago: nobody listens
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.usefixtures("instant_retries")
async def test_connect_failures_are_retried_for_the_budget_then_reported() -> None:
    port = closed_port()
    policy = RetryPolicy(max_attempts=2, connect_budget=30.0)
    async with AsyncPinecone(api_key=KEY, host=f"http://127.0.0.1:{port}", retry=policy) as pc:
        with track_requests() as stats, pytest.raises(TransportError) as info:
            await pc.assistants.create(name="never", instructions="x")
    error = info.value
    assert error.connect_failed
    assert not error.ambiguous
    assert "cannot connect" in str(error)
    # far more attempts than max_attempts: the budget (30 s, charged instantly here) decides
    assert error.attempts > 2
    assert stats.connect_retries == error.attempts - 1
    assert stats.outage_seconds >= 29.0  # the delays charged to the budget, not slept


@pytest.mark.usefixtures("instant_retries")
async def test_without_a_connect_budget_connect_failures_count_as_attempts() -> None:
    port = closed_port()
    async with AsyncPinecone(
        api_key=KEY,
        host=f"http://127.0.0.1:{port}",
        retry=RetryPolicy(max_attempts=3, connect_budget=0.0),
    ) as pc:
        with pytest.raises(TransportError) as info:
            await pc.assistants.describe(name="x")
    assert info.value.attempts == 3
    async with AsyncPinecone(
        api_key=KEY, host=f"http://127.0.0.1:{port}", retry=RetryPolicy.none()
    ) as pc:
        with pytest.raises(TransportError) as info:
            await pc.assistants.describe(name="x")
    assert info.value.attempts == 1


def test_connect_retries_back_off_within_the_budget() -> None:
    policy = RetryPolicy(max_attempts=1, connect_budget=10.0, jitter=False, initial_delay=0.5)
    state = RetryState(policy)
    refused = TransportError("refused", ambiguous=False, connect_failed=True)
    delays = []
    for attempt in range(1, 50):
        # charge the budget as sleeping would (the state's clock is time.monotonic)
        delay = state.next_delay(refused, attempt=attempt, idempotent=False)
        if delay is None:
            break
        delays.append(delay)
        state._skipped += delay
    assert delays[:4] == [0.5, 1.0, 2.0, 4.0]
    assert max(delays) <= 5.0  # a server that is back is noticed within seconds
    assert len(delays) < 49
    # an ambiguous transport error or a 5xx is still bound by max_attempts
    reset = TransportError("reset", ambiguous=True)
    assert RetryState(policy).next_delay(reset, attempt=1, idempotent=True) is None


def test_the_connect_budget_is_validated() -> None:
    with pytest.raises(ValueError, match="connect_budget"):
        RetryPolicy(connect_budget=-1.0)
    assert RetryPolicy().connect_budget == 30.0
    assert RetryPolicy.none().connect_budget == 0.0
