"""One project, one budget per process: default clients share their project's store.

Default options (adaptive, never told the limit) against the emulator's per-minute limits, time
scaled; counts only, no timings. The autouse ``fresh_projects`` fixture (conftest) makes each
test start like a fresh process.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time

import aiopinecone
from aiopinecone import AsyncPinecone, RateLimits
from aiopinecone._governor import Governor, Grant, MemoryStore
from aiopinecone._governor._projects import (
    ProjectStore,
    forget_projects,
    project_namespace,
    project_store,
)
from aiopinecone._governor._redis import RedisStore
from aiopinecone.emulator import Emulator

KEY = "test-key"
OTHER_KEY = "other-key"
WRITE = "assistants_write"
START = 20.0  # the adaptive start guess of assistants_write (Starter's)


def rejected(emu: Emulator) -> int:
    return emu.limiter.counters[WRITE].rejected


async def create(pc: AsyncPinecone, prefix: str, count: int) -> None:
    await asyncio.gather(*(pc.assistants.create(name=f"{prefix}{i:02d}") for i in range(count)))


def eight_per_minute() -> Emulator:
    """An emulator that takes 8 creates per 1.2 s "minute"."""
    return Emulator(api_keys=(KEY,), rate_limits={WRITE: 8}, time_scale=0.02, ready_delay=0.0)


async def learnt_client(emu: Emulator) -> AsyncPinecone:
    """A client (closed) that learnt the limit: 16 creates, the second 8 fill the window again."""
    async with AsyncPinecone(api_key=KEY, host=emu.url) as first:
        await create(first, "a", 16)
    return first


async def test_a_new_client_starts_from_what_the_last_one_learnt_and_counted() -> None:
    # 8 creates per 1.2 s "minute". The first client learns the limit (16 creates: the second 8
    # fill the window again); the next one, made at once, adopts the limit and sees that window.
    async with eight_per_minute() as emu:
        first = await learnt_client(emu)
        learnt = first.governor.snapshot()[WRITE]
        assert learnt["limit"] == 8.0
        assert not learnt["learning"]
        before = rejected(emu)
        async with AsyncPinecone(api_key=KEY, host=emu.url) as second:
            assert second.governor.store is first.governor.store
            await create(second, "b", 8)
            state = second.governor.snapshot()[WRITE]
        assert state["limit"] == 8.0  # adopted, not the start guess
        assert not state["learning"]
        assert state["window_s"] == learnt["window_s"]
        # The burst waited for the window the first client had filled: nothing refused but a
        # probe (sent past the budget on purpose, to measure the server). A client starting
        # from the guess with an empty window would have sent all 8 into a full one.
        assert state["waited"] > 0
        assert rejected(emu) - before == state["rate_limited"] <= state["probes"]


async def test_forget_projects_starts_the_next_client_afresh() -> None:
    async with eight_per_minute() as emu:
        first = await learnt_client(emu)
        assert not first.governor.snapshot()[WRITE]["learning"]
        aiopinecone.forget_projects()  # e.g. a test suite between two tests
        async with AsyncPinecone(api_key=KEY, host=emu.url) as second:
            assert second.governor.store is not first.governor.store
            controller = second.governor.gate(WRITE).controller
            assert controller.slow_start
            assert controller.limit == START  # the start guess again, not the 8 learnt


async def test_clients_open_at_once_share_one_budget() -> None:
    async with (
        Emulator(api_keys=(KEY,), rate_limits={WRITE: 8}, time_scale=0.005, ready_delay=0.0) as emu,
        AsyncPinecone(api_key=KEY, host=emu.url) as a,
        AsyncPinecone(api_key=KEY, host=emu.url) as b,
    ):
        await asyncio.gather(create(a, "a", 24), create(b, "b", 24))
        assert a.governor.snapshot()[WRITE]["limit"] == 8.0
        assert b.governor.snapshot()[WRITE]["limit"] == 8.0
        # One budget: the first burst is one start guess (20 sent, 12 refused), then the limit
        # learnt is the project's. Two budgets would send two guesses (32 refused in the first
        # window alone) and each learn its own share (measured: 38 refused in all; shared: 14).
        assert rejected(emu) <= 20
        assert emu.limiter.counters[WRITE].accepted == 48


async def test_another_key_host_namespace_or_window_is_another_budget() -> None:
    async with (
        Emulator(api_keys=(KEY, OTHER_KEY), rate_limits={WRITE: 8}, time_scale=0.005) as emu,
        Emulator(api_keys=(KEY,)) as other_host,
    ):
        async with AsyncPinecone(api_key=KEY, host=emu.url) as first:
            await create(first, "a", 12)
            assert first.governor.snapshot()[WRITE]["limit"] == 8.0
        assert isinstance(first.governor.store, ProjectStore)
        assert first.governor.store.namespace == project_namespace(KEY, emu.url)
        others = {
            "key": AsyncPinecone(api_key=OTHER_KEY, host=emu.url),
            "host": AsyncPinecone(api_key=KEY, host=other_host.url),
            "namespace": AsyncPinecone(
                api_key=KEY, host=emu.url, rate_limits=RateLimits(limits={}, namespace="elsewhere")
            ),
            # Numbers learnt against another "minute" are not adopted (same store).
            "window": AsyncPinecone(
                api_key=KEY, host=emu.url, rate_limits=RateLimits.preset("adaptive", window=2.0)
            ),
        }
        for name, pc in others.items():
            async with pc:
                await pc.assistants.create(name=f"x-{name}")
                state = pc.governor.snapshot()[WRITE]
                if name != "namespace":  # (no limit given there: learns from none)
                    assert (state["limit"], state["learning"]) == (START, True), name
                assert (pc.governor.store is first.governor.store) == (name == "window"), name
        # The same namespace given explicitly is the same budget.
        named = RateLimits.preset("adaptive").__class__(
            limits=RateLimits.default().limits,
            adaptive=True,
            namespace=project_namespace(KEY, emu.url),
        )
        async with AsyncPinecone(api_key=OTHER_KEY, host=emu.url, rate_limits=named) as same:
            assert same.governor.store is first.governor.store


async def test_a_client_of_another_thread_has_its_own_budget() -> None:
    async with Emulator(api_keys=(KEY,), rate_limits={WRITE: 8}, time_scale=0.005) as emu:
        async with AsyncPinecone(api_key=KEY, host=emu.url) as first:
            await create(first, "a", 12)

        async def in_thread() -> tuple[bool, float, bool]:
            async with AsyncPinecone(api_key=KEY, host=emu.url) as pc:
                await pc.assistants.create(name="t0")
                state = pc.governor.snapshot()[WRITE]
                shared = pc.governor.store is first.governor.store
                return shared, float(state["limit"]), bool(state["learning"])

        shared, limit, learning = await asyncio.to_thread(asyncio.run, in_thread())
        assert (shared, limit, learning) == (False, START, True)


def test_the_registry_is_per_namespace_and_thread() -> None:
    a = project_store("p1")
    assert project_store("p1") is a
    assert project_store("p2") is not a
    seen: list[ProjectStore] = []
    thread = threading.Thread(target=lambda: seen.append(project_store("p1")))
    thread.start()
    thread.join()
    assert seen[0] is not a
    forget_projects()  # as a fresh process
    assert project_store("p1") is not a


def test_a_state_kept_mid_slow_start_is_a_step_to_confirm() -> None:
    store = ProjectStore("p")
    mid = {"limit": 45.0, "window": 60.0, "slow_start": 1.0, "base_window": 60.0}
    store.save_state_now(WRITE, mid)
    controller = Governor(RateLimits.default(), store=store).gate(WRITE).controller
    assert (controller.limit, controller.slow_start) == (45.0, True)
    now = time.monotonic()
    controller.outstanding += 1
    controller.accepted(now, 1.0, True, False, now)
    # 45 was the step being tested, not one the server had accepted: one answer does not grow
    # it (Controller.load would have: its step counter starts afresh).
    assert controller.limit == 45.0


def test_a_slow_start_kept_goes_on_with_its_step() -> None:
    # A client per batch: the next client takes over the step where the last one left it, so
    # it waits for no more acceptances than one client would have (it would wait on the
    # window the last ones filled while its step started over).
    store = ProjectStore("p")
    first = Governor(RateLimits.default(), store=store)
    c = first.gate(WRITE).controller
    now = time.monotonic()
    c.limit = 105.0
    c._steps.begin(now, 52.5, 105.0, 1.0)  # the step to Enterprise's test: 53 grants
    for _ in range(40):
        c.outstanding += 1
        c.accepted(now + 0.01, 1.0, True, False, now)
    assert c.limit == 105.0
    store.leave(first)
    second_client = Governor(RateLimits.default(), store=store)
    second = second_client.gate(WRITE).controller
    assert (second.limit, second.slow_start) == (105.0, True)
    for _ in range(13):
        second.outstanding += 1
        second.accepted(now + 0.02, 1.0, True, False, now + 0.001)
    assert second.limit == 210.0  # the 53rd acceptance of the step
    store.leave(second_client)
    # A client whose slow start grew no further still leaves its step's progress.
    third_client = Governor(RateLimits.default(), store=store)
    third = third_client.gate(WRITE).controller
    for _ in range(50):
        third.outstanding += 1
        third.accepted(now + 0.03, 1.0, True, False, now + 0.025)
    assert third.limit == 210.0
    store.leave(third_client)
    kept = store.load_state_now(WRITE)
    assert kept is not None
    assert (kept["limit"], kept["step_ok"]) == (210.0, 50.0)


def test_a_limit_met_is_adopted_with_its_window_and_probe_time() -> None:
    store = ProjectStore("p")
    probe_at = time.monotonic() + 100.0
    learnt = {"limit": 8.0, "window": 0.3, "slow_start": 0.0, "base_window": 60.0}
    store.save_state_now(WRITE, {**learnt, "probe_at": probe_at})
    controller = Governor(RateLimits.default(), store=store).gate(WRITE).controller
    assert (controller.limit, controller.window) == (8.0, 0.3)
    assert not controller.slow_start
    assert controller.learnt
    assert controller.probe_at == probe_at  # no sooner than the last client would have
    # Told another window ("minute"): not adopted.
    other = Governor(RateLimits.preset("adaptive", window=2.0), store=store).gate(WRITE)
    assert (other.controller.limit, other.controller.slow_start) == (START, True)


def test_a_queue_kept_waiting_by_another_clients_grants_looks_again() -> None:
    limits = RateLimits(limits={WRITE: 1})
    now = time.monotonic()
    store = ProjectStore("p")
    a, b = Governor(limits, store=store), Governor(limits, store=store)
    assert isinstance(a.gate(WRITE).try_take(now, 1.0, now), Grant)
    # Only an answer can free the budget (ON_SETTLE), and it will be a's: nothing would wake
    # b's queue, so b looks again after a round trip.
    wait = b.gate(WRITE).try_take(now, 1.0, now)
    assert isinstance(wait, float)
    assert math.isfinite(wait)
    alone = Governor(limits, store=ProjectStore("q")).gate(WRITE)
    assert isinstance(alone.try_take(now, 1.0, now), Grant)
    assert alone.try_take(now, 1.0, now) == math.inf  # its own answer wakes its queue


async def test_a_slow_start_is_continued_not_restarted() -> None:
    # No server limit: the first client grows its guess; the next goes on from there.
    async with Emulator(api_keys=(KEY,), ready_delay=0.0) as emu:
        async with AsyncPinecone(api_key=KEY, host=emu.url) as first:
            await create(first, "a", 60)
            grown = first.governor.snapshot()[WRITE]
        assert grown["learning"]
        assert grown["limit"] > START
        async with AsyncPinecone(api_key=KEY, host=emu.url) as second:
            await second.assistants.create(name="b")
            state = second.governor.snapshot()[WRITE]
        assert state["learning"]
        assert state["limit"] >= grown["limit"]


async def test_the_token_overhead_learnt_is_kept() -> None:
    async with Emulator(api_keys=(KEY,), ready_delay=0.0) as emu:
        emu.store.create_assistant("helper")
        question = [{"role": "user", "content": "hello there"}]
        async with AsyncPinecone(api_key=KEY, host=emu.url) as first:
            await first.assistants.chat(assistant_name="helper", messages=question)
            learnt = first.governor.token_books["chat_tokens"].overhead
            assert learnt.learnt
        async with AsyncPinecone(api_key=KEY, host=emu.url) as second:
            book = second.governor.token_books.get("chat_tokens")
            assert book is not None  # before any chat: the estimate starts from it
            assert book.overhead.learnt
            assert book.overhead.value == learnt.value


async def test_an_explicit_governor_redis_or_off_is_unchanged(redis_url: str) -> None:
    async with Emulator(api_keys=(KEY,)) as emu:
        governor = Governor(RateLimits.default())
        async with AsyncPinecone(api_key=KEY, host=emu.url, rate_limits=governor) as pc:
            await pc.assistants.create(name="g")
        assert type(governor.store) is MemoryStore
        async with AsyncPinecone(api_key=KEY, host=emu.url, rate_limits="off") as off:
            assert not off.governor.enabled
            assert not isinstance(off.governor.store, ProjectStore)
        shared = RateLimits.preset("adaptive", redis_url=redis_url)
        async with AsyncPinecone(api_key=KEY, host=emu.url, rate_limits=shared) as pc:
            assert isinstance(pc.governor.store, RedisStore)
        # Nothing of the above reached the project's store.
        async with AsyncPinecone(api_key=KEY, host=emu.url) as default:
            store = default.governor.store
            assert isinstance(store, ProjectStore)
            assert store.load_state_now(WRITE) is None
