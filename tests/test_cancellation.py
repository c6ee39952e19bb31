"""Cancellation at random (seeded) points: plain calls, uploads, streams and provisioning.

After every cancellation storm: no connection is still checked out of the pool, the emulator
sees every connection closed once the client is closed, asyncio logged no destroyed task or
unretrieved exception, no warning was raised, nothing half-done was stored (a cancelled upload
never leaves a truncated file), and a later run converges to the desired state.

Seeds: three by default; ``AIOPINECONE_CANCEL_SEEDS=20`` runs seeds 1-20. Every assertion message
names the seed.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import random
import warnings
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from aiopinecone import (
    AsyncPinecone,
    PineconeError,
    RetryPolicy,
    set_retry_testing,
)
from aiopinecone.emulator import Emulator
from aiopinecone.provision import HASH_METADATA_KEY, AssistantSpec, FileSpec

KEY = "cancel-key"
SEEDS = list(range(1, int(os.environ.get("AIOPINECONE_CANCEL_SEEDS", "3")) + 1))


@pytest.fixture(autouse=True)
def _quiet_loop(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Retries instant; afterwards no asyncio error log and no warning (even at collection)."""
    set_retry_testing(True)
    caplog.set_level(logging.WARNING, logger="asyncio")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
            gc.collect()
    finally:
        set_retry_testing(False)
    complaints = [r.getMessage() for r in caplog.records if r.name == "asyncio"]
    assert not complaints, complaints
    assert not [str(w.message) for w in caught], [str(w.message) for w in caught]


def in_use(pc: AsyncPinecone) -> int:
    """Connections checked out of the client's pool (0 once every request has ended)."""
    connector = pc.connector
    return len(getattr(connector, "_acquired", ())) if connector is not None else 0


def server_connections(emu: Emulator) -> int:
    """Connections the emulator still has open."""
    return emu.open_connections


async def until(check: Callable[[], bool], what: str, limit: float = 5.0) -> None:
    """Wait (bounded) for ``check()``; fail with ``what`` otherwise."""
    for _ in range(int(limit / 0.01)):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


async def quiesce(emu: Emulator) -> None:
    """Wait (bounded) until the emulator has finished what cancelled clients left it doing.

    A cancelled call may still be under way on the server (a slow answer being prepared): it can
    land after the cancellation, like on the real service. Wait until the request log is still.
    """
    still, last = 0, -1
    for _ in range(500):
        total = emu.log.total
        still = still + 1 if total == last else 0
        if still >= 6:
            return
        last = total
        await asyncio.sleep(0.01)
    raise AssertionError("the emulator never went quiet")


async def cancel_at(rng: random.Random, coro: Awaitable[Any]) -> Any:
    """Run ``coro`` and cancel it after a random number of loop turns and a random short time.

    Returns its result, the error it raised, or the ``CancelledError``.
    """
    task = asyncio.ensure_future(coro)
    for _ in range(rng.randint(0, 40)):
        await asyncio.sleep(0)
    if rng.random() < 0.5:
        await asyncio.sleep(rng.uniform(0, 0.03))
    task.cancel()
    try:
        return await task
    except (asyncio.CancelledError, PineconeError) as exc:
        return exc


def check_outcomes(outcomes: list[Any], seed: int) -> Counter[str]:
    kinds: Counter[str] = Counter()
    for outcome in outcomes:
        assert not isinstance(outcome, BaseException) or isinstance(
            outcome, asyncio.CancelledError | PineconeError
        ), f"seed {seed}: {outcome!r}"
        kinds[type(outcome).__name__] += 1
    return kinds


async def closed_cleanly(pc: AsyncPinecone, emu: Emulator, seed: int) -> None:
    await until(lambda: in_use(pc) == 0, f"seed {seed}: connections still in use")
    await pc.close()
    await until(lambda: server_connections(emu) == 0, f"seed {seed}: server connections open")
    assert not emu.log.filter(outcome="error"), f"seed {seed}: the emulator crashed"


# -- plain calls ---------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
async def test_cancelled_plain_calls_leak_nothing(seed: int) -> None:
    rng = random.Random(seed)
    async with Emulator(api_keys=(KEY,)) as emu:
        # Slow answers and retried failures, so cancellations land in every phase of a call.
        emu.faults.chaos(seed, {"delay": 0.4, "503": 0.1, "drop_after": 0.05}, delay=(0.002, 0.04))
        pc = AsyncPinecone(api_key=KEY, host=emu.url, max_connections=8)
        names = [f"c{seed}-{i}" for i in range(12)]

        def call(i: int) -> Awaitable[Any]:
            name = names[i % len(names)]
            ops: list[Callable[[], Awaitable[Any]]] = [
                lambda: pc.assistants.create(name=name, metadata={"i": i}),
                lambda: pc.assistants.describe(name=name),
                lambda: pc.assistants.list(),
                lambda: pc.assistants.update(name=name, instructions=f"v{i}"),
                lambda: pc.assistants.delete(name=name),
                lambda: pc.assistants.list_files(assistant_name=name),
            ]
            return rng.choice(ops)()

        try:
            outcomes = await asyncio.gather(*(cancel_at(rng, call(i)) for i in range(60)))
            kinds = check_outcomes(list(outcomes), seed)
            assert kinds["CancelledError"] >= 10, f"seed {seed}: {kinds}"
            await until(lambda: in_use(pc) == 0, f"seed {seed}: connections still in use")
            # A later run converges: every assistant exists with its final instructions.
            emu.faults.clear()
            await quiesce(emu)
            for name in names:
                if name not in emu.store:
                    await pc.assistants.create(name=name)
                await pc.assistants.update(name=name, instructions="final")
            assert {a.name for a in await pc.assistants.list()} == set(names), f"seed {seed}"
            assert all(emu.store.get_assistant(n).instructions == "final" for n in names)
            await closed_cleanly(pc, emu, seed)
        finally:
            await pc.close()


# -- uploads -------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("version", ["2025-10", "2026-04"])
async def test_cancelled_uploads_leave_no_partial_file(
    seed: int, version: str, tmp_path: Path
) -> None:
    rng = random.Random(seed)
    content = b"".join(b"Line %d of a long handbook.\n" % i for i in range(60_000))  # ~1.6 MB
    path = tmp_path / "handbook.txt"
    path.write_bytes(content)
    async with Emulator(api_keys=(KEY,)) as emu:
        emu.store.create_assistant("books")
        emu.faults.chaos(seed, {"delay": 0.3}, paths=["/assistant/files/**"], delay=(0.01, 0.05))
        pc = AsyncPinecone(api_key=KEY, host=emu.url, api_version=version, max_connections=4)
        try:
            outcomes = await asyncio.gather(
                *(
                    cancel_at(
                        rng,
                        pc.assistants.upload_file(
                            assistant_name="books",
                            file_path=path,
                            metadata={"n": i},
                            wait=rng.random() < 0.5,
                        ),
                    )
                    for i in range(8)
                )
            )
            kinds = check_outcomes(list(outcomes), seed)
            assert kinds["CancelledError"] >= 1, f"seed {seed}: {kinds}"
            await until(lambda: in_use(pc) == 0, f"seed {seed}: connections still in use")
            emu.faults.clear()
            await quiesce(emu)
            stored = emu.store.list_files("books")
            assert all(f.content == content for f in stored), f"seed {seed}: a truncated file"
            assert len(stored) <= 8, f"seed {seed}: {len(stored)} files for 8 uploads"
            # Each landed upload is whole and usable; a new upload still works.
            done = await pc.assistants.upload_file(
                assistant_name="books", file_path=path, metadata={"n": "last"}, wait=True
            )
            assert done.is_available, f"seed {seed}"
            await closed_cleanly(pc, emu, seed)
        finally:
            await pc.close()


# -- streams -------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
async def test_cancelled_streams_release_their_connection(seed: int) -> None:
    rng = random.Random(seed)
    words = " ".join(f"refunds{i} shipping{i} returns{i}" for i in range(3000))
    async with Emulator(api_keys=(KEY,)) as emu:
        emu.store.create_assistant("talk")
        emu.store.put_file("talk", name="policy.txt", content=words.encode())
        pc = AsyncPinecone(api_key=KEY, host=emu.url, max_connections=4)
        question = [{"role": "user", "content": "refunds shipping returns"}]

        async def read(i: int) -> int:
            if i % 2:
                stream: Any = await pc.assistants.chat(
                    assistant_name="talk", messages=question, stream=True
                )
            else:
                stream = await pc.assistants.chat_completions(
                    assistant_name="talk", messages=question, stream=True
                )
            count = 0
            if i % 3 == 0:  # the documented way: leave the block early
                async with stream:
                    async for _ in stream:
                        count += 1
                        if count >= rng.randint(1, 5):
                            break
                return count
            async for _ in stream:  # the careless way: the task is simply cancelled
                count += 1
                await asyncio.sleep(0)
            return count

        try:
            outcomes = await asyncio.gather(*(cancel_at(rng, read(i)) for i in range(24)))
            kinds = check_outcomes(list(outcomes), seed)
            assert kinds["CancelledError"] >= 1, f"seed {seed}: {kinds}"
            await until(lambda: in_use(pc) == 0, f"seed {seed}: streams still hold connections")
            # The pool still works: a whole answer comes through.
            stream = await pc.assistants.chat(assistant_name="talk", messages=question, stream=True)
            assert await stream.collect(), f"seed {seed}"
            await closed_cleanly(pc, emu, seed)
        finally:
            await pc.close()


# -- provisioning --------------------------------------------------------------------------------


def state_of(emu: Emulator) -> dict[str, Any]:
    return {
        a.name: (
            a.instructions,
            a.metadata,
            sorted(
                (f.name, f.content, (f.metadata or {}).get(HASH_METADATA_KEY) is not None)
                for f in emu.store.list_files(a.name)
            ),
        )
        for a in emu.store.list_assistants()
    }


def wanted(specs: list[AssistantSpec]) -> dict[str, Any]:
    return {
        s.name: (
            s.instructions,
            s.metadata,
            sorted((f.name, f.path.read_bytes(), True) for f in s.files),
        )
        for s in specs
    }


@pytest.mark.parametrize("seed", SEEDS)
async def test_cancelled_provisioning_resumes_to_the_exact_fleet(seed: int, tmp_path: Path) -> None:
    rng = random.Random(seed)
    docs = []
    for i in range(4):
        doc = tmp_path / f"guide-{i}.md"
        doc.write_text(f"Guide {i}: answer within {i + 1} days.\n" * 50)
        docs.append(doc)
    specs = [
        AssistantSpec(
            name=f"p{seed}-{i:02d}",
            instructions=f"Assistant {i}",
            metadata={"i": i},
            files=[FileSpec(path=d) for d in rng.sample(docs, rng.randint(0, 2))],
        )
        for i in range(30)
    ]
    fast: dict[str, Any] = {
        "concurrency": 8,
        "poll_interval": (0.01, 0.03),
        "ready_estimate": 0.0,
    }
    async with Emulator(api_keys=(KEY,), ready_delay=0.02, file_processing_delay=0.02) as emu:
        emu.faults.chaos(seed, {"delay": 0.3}, delay=(0.002, 0.02))
        pc = AsyncPinecone(api_key=KEY, host=emu.url, retry=RetryPolicy(max_attempts=6))
        try:
            for round_ in range(3):  # cancel at a random point, up to three times in a row
                run = pc.assistants.provisioner(specs, **fast)
                task = asyncio.ensure_future(run.apply())
                cut = rng.randint(1, 120)
                start = emu.log.total
                await until(
                    lambda: task.done() or emu.log.total - start >= cut,  # noqa: B023
                    f"seed {seed}: {cut} requests",
                    limit=30,
                )
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                report = run.report
                outcomes = Counter(a.outcome for a in report.assistants)
                assert set(outcomes) <= {"ok", "cancelled", "not_started"}, (
                    f"seed {seed} round {round_}: {outcomes}"
                )
                done = {a.name for a in report.assistants if a.outcome == "ok"}
                have = state_of(emu)
                want = wanted(specs)
                assert all(have.get(n) == want[n] for n in done), (
                    f"seed {seed} round {round_}: an assistant reported ok is not as specified"
                )
                await until(lambda: in_use(pc) == 0, f"seed {seed}: connections still in use")
                await quiesce(emu)
            emu.faults.clear()
            await quiesce(emu)
            final = await pc.assistants.provision(specs, **fast)
            assert final.ok, f"seed {seed}: {final.summary_table()}"
            assert state_of(emu) == wanted(specs), f"seed {seed}: the fleet did not converge"
            await closed_cleanly(pc, emu, seed)
        finally:
            await pc.close()
