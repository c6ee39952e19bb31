"""The total timeout of buffered requests, kept by one timer per client (``_deadlines.py``).

Against the emulator (a delayed answer) and a raw socket server that sends a response head and
then stalls in the body; the rule that tells a timeout's own cancellation from a caller's, on a
real event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from aiopinecone import AsyncPinecone, RequestTimeoutError, RetryPolicy
from aiopinecone._deadlines import Deadline, Deadlines
from aiopinecone.emulator import Emulator
from aiopinecone.emulator.faults import Fault

API_KEY = "test-key"  # accepted by the conftest emulator
NO_RETRY = RetryPolicy.none()
DESCRIBE = "/assistant/assistants/{name}"


def _deadlines(pc: AsyncPinecone) -> Deadlines:
    deadlines: Deadlines = pc._core.transport._deadlines
    return deadlines


def _free_slots(pc: AsyncPinecone) -> int:
    slots = pc._core.transport._slots
    assert slots is not None
    return slots.free


async def test_an_answer_later_than_the_timeout_is_a_timeout(
    client: AsyncPinecone, emulator: Emulator
) -> None:
    await client.assistants.create(name="x")
    free = _free_slots(client)
    emulator.faults.script("GET", DESCRIBE, [Fault.delay(3.0)])
    with pytest.raises(RequestTimeoutError) as info:
        await client.assistants.describe(name="x", retry=NO_RETRY, timeout=0.2)
    assert "within the 0.2 s timeout" in str(info.value)
    assert info.value.ambiguous  # it reached the server
    assert _deadlines(client).pending() == 0
    assert _free_slots(client) == free
    # The client goes on: the next call has a deadline of its own and succeeds.
    assert (await client.assistants.describe(name="x", timeout=5.0)).name == "x"
    assert _deadlines(client).pending() == 0


async def test_a_later_call_with_a_shorter_timeout_is_not_held_by_an_earlier_longer_one(
    client: AsyncPinecone, emulator: Emulator
) -> None:
    await client.assistants.create(name="x")
    emulator.faults.script("GET", DESCRIBE, [Fault.delay(0.6), Fault.delay(3.0)])
    slow_but_in_time = asyncio.create_task(
        client.assistants.describe(name="x", retry=NO_RETRY, timeout=30.0)
    )
    await asyncio.sleep(0.1)  # the first describe is in flight (its answer comes after 0.6 s)
    with pytest.raises(RequestTimeoutError, match=r"within the 0\.2 s timeout"):
        await client.assistants.describe(name="x", retry=NO_RETRY, timeout=0.2)
    assert not slow_but_in_time.done()  # the 0.2 s call did not wait for the 30 s one's timer
    assert (await slow_but_in_time).name == "x"
    assert _deadlines(client).pending() == 0


async def test_cancelling_a_call_is_a_cancellation_not_a_timeout(
    client: AsyncPinecone, emulator: Emulator
) -> None:
    await client.assistants.create(name="x")
    free = _free_slots(client)
    emulator.faults.script("GET", DESCRIBE, [Fault.delay(3.0)])
    call = asyncio.create_task(client.assistants.describe(name="x", retry=NO_RETRY, timeout=30.0))
    await asyncio.sleep(0.2)  # in flight: its answer comes after 3 s
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert _deadlines(client).pending() == 0
    assert _free_slots(client) == free


async def test_calls_with_timeouts_of_their_own_leave_nothing_behind(
    client: AsyncPinecone,
) -> None:
    await client.assistants.create(name="x")
    timeouts = [0.3 + i / 1000 for i in range(20)]
    await asyncio.gather(*(client.assistants.describe(name="x", timeout=t) for t in timeouts))
    deadlines = _deadlines(client)
    assert deadlines.pending() == 0
    await asyncio.sleep(0.5)  # the timer fired at the first deadline: it swept the empty lanes
    assert deadlines._lanes == {}


@pytest.fixture
async def stalled_body_server() -> AsyncIterator[str]:
    """An HTTP server that sends a response head announcing 100 bytes, sends 10, then stalls."""
    stop = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100\r\n\r\n" + b'{"name": "'
        )
        await writer.drain()
        await stop.wait()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop.set()
        server.close()
        await server.wait_closed()


async def test_a_body_that_stalls_times_out_at_the_total(stalled_body_server: str) -> None:
    async with AsyncPinecone(api_key=API_KEY, host=stalled_body_server) as pc:
        free = _free_slots(pc)
        with pytest.raises(RequestTimeoutError, match=r"within the 0\.3 s timeout"):
            await pc.assistants.describe(name="x", retry=NO_RETRY, timeout=0.3)
        assert _deadlines(pc).pending() == 0
        assert _free_slots(pc) == free


async def test_a_deadline_expires_its_task_and_withdraws_its_cancel() -> None:
    deadlines = Deadlines()
    seen: list[bool] = []

    async def call() -> None:
        deadline = deadlines.start(0.05)
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            seen.append(deadlines.timed_out(deadline))
        finally:
            deadlines.stop(deadline)

    task = asyncio.create_task(call())
    await task
    assert seen == [True]
    assert task.cancelling() == 0  # the timeout's own cancel was withdrawn
    deadlines.close()


async def test_a_caller_cancel_beside_the_expiry_wins() -> None:
    deadlines = Deadlines()
    started = asyncio.Event()
    held: list[Deadline] = []
    seen: list[bool] = []

    async def call() -> None:
        deadline = deadlines.start(30.0)
        held.append(deadline)
        started.set()
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            seen.append(deadlines.timed_out(deadline))
            raise

    task = asyncio.create_task(call())
    await started.wait()
    # The timer's expiry and a caller's cancel in the same turn.
    deadlines._expire(held[0][1])
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert seen == [False]  # the caller's cancellation propagates, not a timeout
    deadlines.close()


async def test_an_expiry_ended_some_other_way_does_not_mark_the_next_deadline() -> None:
    deadlines = Deadlines()
    seen: list[bool] = []

    async def call() -> None:
        me = asyncio.current_task()
        assert me is not None
        first = deadlines.start(30.0)
        deadlines._expire(me)  # its time passes...
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(0)  # ...but the attempt ends without asking timed_out()
        me.uncancel()
        deadlines.stop(first)
        second = deadlines.start(30.0)
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            seen.append(deadlines.timed_out(second))
            raise

    task = asyncio.create_task(call())
    await asyncio.sleep(0.01)
    task.cancel()  # the caller's
    with pytest.raises(asyncio.CancelledError):
        await task
    assert seen == [False]  # a cancellation, not the first deadline's timeout
    deadlines.close()


async def test_deadlines_of_one_timeout_expire_in_order_and_the_timer_rearms() -> None:
    deadlines = Deadlines()
    expired: list[int] = []

    async def call(i: int, seconds: float) -> None:
        deadline = deadlines.start(seconds)
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            if deadlines.timed_out(deadline):
                expired.append(i)
                return
            raise

    tasks = [asyncio.create_task(call(i, 0.05)) for i in range(3)]
    await asyncio.sleep(0)
    tasks.append(asyncio.create_task(call(3, 0.2)))
    await asyncio.sleep(0.1)
    assert expired == [0, 1, 2]  # the 0.2 s one still runs: the timer re-armed for it
    assert deadlines.pending() == 1
    await asyncio.gather(*tasks)
    assert expired == [0, 1, 2, 3]
    assert deadlines.pending() == 0
    deadlines.close()


def test_deadlines_follow_the_client_to_another_event_loop() -> None:
    deadlines = Deadlines()

    async def ends_in_time() -> None:
        deadlines.stop(deadlines.start(0.5))  # leaves the timer armed on this loop

    async def times_out() -> bool:
        deadline = deadlines.start(0.6)  # later than the first loop's timer
        try:
            await asyncio.sleep(3)
        except asyncio.CancelledError:
            return deadlines.timed_out(deadline)
        finally:
            deadlines.stop(deadline)
        return False

    with asyncio.Runner() as runner:
        runner.run(ends_in_time())
    # The first loop is closed with its timer: the second gets a timer of its own.
    with asyncio.Runner() as runner:
        assert runner.run(times_out()) is True
    deadlines.close()


def test_a_deadline_outside_a_task_is_refused() -> None:
    deadlines = Deadlines()

    async def first() -> None:
        deadlines.stop(deadlines.start(1.0))

    with asyncio.Runner() as runner:
        runner.run(first())
        loop = runner.get_loop()
        # A callback of the same loop (no task running): refused, not filed under a task.
        refused: list[BaseException] = []

        def outside() -> None:
            try:
                deadlines.start(1.0)
            except RuntimeError as exc:
                refused.append(exc)

        loop.call_soon(outside)
        runner.run(asyncio.sleep(0.01))
    assert len(refused) == 1
    assert "inside an asyncio task" in str(refused[0])
    deadlines.close()
