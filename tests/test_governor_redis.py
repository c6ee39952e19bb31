"""The Redis budget store against a real redis-server: the BudgetStore semantics shared by several
stores (as several processes would), Retry-After and learnt limits shared, cancellation, and Redis
dying and coming back mid-run (local fallback, one warning, sharing again)."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from collections.abc import AsyncIterator, Callable

import pytest
from redis_server import RedisServer

from aiopinecone._governor import ON_SETTLE, BudgetStore, Grant
from aiopinecone._governor._redis import RedisStore, redis_store_from_env

StoreFactory = Callable[..., RedisStore]


@pytest.fixture
async def stores(redis_url: str) -> AsyncIterator[StoreFactory]:
    made: list[RedisStore] = []

    def make(url: str = redis_url, **kwargs: float) -> RedisStore:
        store = RedisStore(url, namespace="test", reconnect_interval=0.05, **kwargs)
        made.append(store)
        return store

    yield make
    for store in made:
        await store.aclose()


async def test_is_a_budget_store(stores: StoreFactory) -> None:
    assert isinstance(stores(), BudgetStore)


async def test_open_grants_of_every_process_count(stores: StoreFactory) -> None:
    a, b = stores(), stores()
    assert isinstance(await a.take("w", cost=1, limit=3, window=60), Grant)
    assert isinstance(await b.take("w", cost=1, limit=3, window=60), Grant)
    third = await a.take("w", cost=1, limit=3, window=60)
    assert isinstance(third, Grant)
    assert third.used == 3  # the units counted with it: every process's
    # Three open grants, two processes: only a settle can make room.
    assert await b.take("w", cost=1, limit=3, window=60) == ON_SETTLE
    probe = await b.take("w", cost=1, limit=float("inf"), window=60)  # a probe past the budget
    assert isinstance(probe, Grant)
    await b.settle(probe, counted=False)
    await a.settle(third, counted=False)  # a 429: the slot comes back for everybody
    assert isinstance(await b.take("w", cost=1, limit=3, window=60), Grant)
    # Another class, another budget.
    assert isinstance(await b.take("r", cost=1, limit=3, window=60), Grant)


async def test_counted_entries_leave_a_window_after_their_settle(stores: StoreFactory) -> None:
    a, b = stores(), stores()
    first = await a.take("w", cost=1, limit=2, window=60)
    second = await b.take("w", cost=1, limit=2, window=60)
    assert isinstance(first, Grant)
    assert isinstance(second, Grant)
    await a.settle(first, counted=True)
    await b.settle(second, counted=True)
    wait = await a.take("w", cost=1, limit=2, window=60)
    assert isinstance(wait, float)
    assert 59 < wait <= 60  # the first entry leaves one window after its settle
    assert await b.usage("w", 60) == 2  # what every process had accepted
    assert await b.usage("nothing", 60) == 0
    # A short window: once it has passed, there is room again.
    g = await a.take("s", cost=1, limit=1, window=0.2)
    assert isinstance(g, Grant)
    await a.settle(g, counted=True)
    wait = await b.take("s", cost=1, limit=1, window=0.2)
    assert isinstance(wait, float)
    assert 0 < wait <= 0.2
    await asyncio.sleep(wait)
    assert await a.usage("s", 0.2) == 0
    assert isinstance(await b.take("s", cost=1, limit=1, window=0.2), Grant)


async def test_costs_and_corrections(stores: StoreFactory) -> None:
    a = stores()
    for final in (5, 6, 7):
        g = await a.take("t", cost=10, limit=30, window=60)
        assert isinstance(g, Grant)
        await a.settle(g, counted=True, cost=final)  # corrected from the answer's usage
    # used 18 of 30: a cost of 12 passes, then nothing more (entries leave in about a minute).
    assert isinstance(await a.take("t", cost=12, limit=30, window=60), Grant)
    wait = await a.take("t", cost=1, limit=30, window=60)
    assert isinstance(wait, float)
    assert 0 < wait <= 60
    # A request larger than the whole limit passes alone.
    assert isinstance(await a.take("big", cost=500, limit=100, window=60), Grant)
    assert await a.take("big", cost=1, limit=100, window=60) == ON_SETTLE


async def test_retry_after_blocks_the_class_for_every_process(stores: StoreFactory) -> None:
    a, b = stores(), stores()
    await a.block("w", 30)
    await a.block("w", 1)  # never shortens
    wait = await b.take("w", cost=1, limit=10, window=60)
    assert isinstance(wait, float)
    assert 29 < wait <= 30
    assert isinstance(await b.take("r", cost=1, limit=10, window=60), Grant)


async def test_learnt_limits_are_shared(stores: StoreFactory) -> None:
    a, b = stores(), stores()
    assert await b.load_state("w") is None
    await a.save_state("w", {"limit": 42.5, "window": 60.0})
    assert await b.load_state("w") == {"limit": 42.5, "window": 60.0}
    await b.save_state("w", {"limit": 50.0})
    assert await a.load_state("w") == {"limit": 50.0}  # replaced, not merged


async def test_settle_twice_or_unknown_does_nothing(stores: StoreFactory) -> None:
    a = stores()
    g = await a.take("w", cost=1, limit=1, window=60)
    assert isinstance(g, Grant)
    await a.settle(g, counted=False)
    await a.settle(g, counted=True)
    await a.settle(Grant("w", "999:1.0", 1.0), counted=True)
    assert isinstance(await a.take("w", cost=1, limit=1, window=60), Grant)


async def test_a_crashed_processes_grant_expires(stores: StoreFactory) -> None:
    crashed, alive = stores(grant_ttl=0.2), stores(grant_ttl=0.2)
    assert isinstance(await crashed.take("w", cost=1, limit=1, window=0.2), Grant)
    assert await alive.take("w", cost=1, limit=1, window=0.2) == ON_SETTLE
    await asyncio.sleep(0.45)  # past the ttl, then past the window of its stamp
    assert isinstance(await alive.take("w", cost=1, limit=1, window=0.2), Grant)


async def test_a_cancelled_take_leaves_no_grant_behind(stores: StoreFactory) -> None:
    a = stores()
    for _ in range(20):
        task = asyncio.create_task(a.take("c", cost=1, limit=1, window=60))
        await asyncio.sleep(0)
        task.cancel()
        try:
            got = await task
        except asyncio.CancelledError:
            continue
        assert isinstance(got, Grant)
        await a.settle(got, counted=False)
    for _ in range(100):  # orphans are given back in the background
        got = await a.take("c", cost=1, limit=1, window=60)
        if isinstance(got, Grant):
            break
        await asyncio.sleep(0.01)
    assert isinstance(got, Grant)


def sharing(*stores: RedisStore) -> bool:
    return all(s.shared for s in stores)


async def test_redis_dying_and_coming_back(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="aiopinecone")
    a = RedisStore(redis_server.url, namespace="t", reconnect_interval=0.05)
    b = RedisStore(redis_server.url, namespace="t", reconnect_interval=0.05)
    try:
        held = await a.take("w", cost=1, limit=2, window=60)
        assert isinstance(held, Grant)
        redis_server.kill()
        # Every call still answers, from the local store; one warning per store, not per call.
        grants = [await b.take("w", cost=1, limit=2, window=60) for _ in range(3)]
        assert [isinstance(g, Grant) for g in grants] == [True, True, False]
        await b.block("w", 0.01)
        assert await b.usage("w", 60) == 0
        await b.save_state("w", {"limit": 2.0})
        assert await b.load_state("w") == {"limit": 2.0}
        await a.settle(held, counted=True)  # queued for when Redis is back
        for g in grants[:2]:
            assert isinstance(g, Grant)
            await b.settle(g, counted=True)
        assert not any(s.shared for s in (a, b))
        warnings = [r for r in caplog.records if "limiting in this process" in r.message]
        assert len(warnings) == 2
        assert all(r.levelno == logging.WARNING for r in warnings)

        redis_server.start()  # empty: no persistence
        for _ in range(400):
            if sharing(a, b):
                break
            await asyncio.sleep(0.05)
        assert sharing(a, b)
        assert any("answers again" in r.message for r in caplog.records)
        # Sharing again: b's grant counts against a's budget.
        assert isinstance(await b.take("w", cost=1, limit=1, window=60), Grant)
        assert await a.take("w", cost=1, limit=1, window=60) == ON_SETTLE
    finally:
        await a.aclose()
        await b.aclose()


async def test_redis_unreachable_from_the_start(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    redis_server.kill()
    store = RedisStore(redis_server.url, reconnect_interval=0.05)
    try:
        got = await store.take("w", cost=1, limit=1, window=60)
        assert isinstance(got, Grant)
        await store.settle(got, counted=True)
        assert await store.take("w", cost=1, limit=1, window=60) != ON_SETTLE  # counted locally
        assert sum("limiting in this process" in r.message for r in caplog.records) == 1
    finally:
        await store.aclose()


async def test_url_from_the_environment(redis_url: str) -> None:
    assert redis_store_from_env(environ={}) is None
    store = redis_store_from_env(environ={"AIOPINECONE_RATE_REDIS_URL": redis_url})
    assert store is not None
    try:
        assert store.url == redis_url
        assert "redis://127.0.0.1" in repr(store)
    finally:
        await store.aclose()


def test_no_password_in_repr() -> None:
    store = RedisStore("redis://user:hunter2@127.0.0.1:1/0")
    assert "hunter2" not in repr(store)


def test_redis_py_is_optional() -> None:
    script = (
        "import sys\n"
        "import aiopinecone\n"
        "assert 'redis' not in sys.modules, 'import aiopinecone must not import redis-py'\n"
        "sys.modules['redis'] = None\n"
        "sys.modules['redis.asyncio'] = None\n"
        "from aiopinecone._governor._redis import RedisStore\n"
        "try:\n"
        "    RedisStore('redis://127.0.0.1:1/0')\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert "aiopinecone[redis]" in out.stdout


async def test_the_clients_store_from_rate_limits(redis_url: str) -> None:
    from aiopinecone._governor import RateLimits
    from aiopinecone._governor._redis import project_namespace, shared_store

    env = {"AIOPINECONE_RATE_REDIS_URL": redis_url}
    adaptive = RateLimits.preset("adaptive")
    assert shared_store(adaptive, api_key="k", host="h", environ={}) is None
    assert shared_store(RateLimits.preset("off"), api_key="k", host="h", environ=env) is None
    never = RateLimits.preset("adaptive", redis_url="")
    assert shared_store(never, api_key="k", host="h", environ=env) is None
    told = RateLimits.preset("standard", redis_url=redis_url)
    for limits, environ in ((adaptive, env), (told, {})):
        store = shared_store(limits, api_key="secret-key", host="h", environ=environ)
        assert store is not None
        try:
            assert store.url == redis_url
            assert store.namespace == project_namespace("secret-key", "h")
            assert "secret-key" not in store.namespace
            assert project_namespace("other-key", "h") != store.namespace
        finally:
            await store.aclose()
    with pytest.raises(ValueError, match="redis://"):
        RateLimits.preset("adaptive", redis_url="http://127.0.0.1:6379")
    assert "secret" not in repr(RateLimits.preset("adaptive", redis_url="redis://:secret@h/0"))


async def test_a_new_process_starts_from_what_another_learnt(stores: StoreFactory) -> None:
    from aiopinecone._governor import Governor, RateLimits

    learnt = {"limit": 37.0, "window": 60.0, "slow_start": 0.0}
    await stores().save_state("assistants_write", learnt)
    governor = Governor(RateLimits.preset("adaptive"), store=stores())
    permit = await governor.acquire("create_assistant")
    governor.settle(permit, status=200, retry_after=None)
    await governor.aclose()
    assert governor.gate("assistants_write").controller.limit == 37.0
    # A class nobody learnt keeps its start guess.
    permit = await governor.acquire("delete_assistant")
    governor.settle(permit, status=200, retry_after=None)
    await governor.aclose()
    assert governor.gate("assistants_delete").controller.limit == 20.0


async def test_one_process_probes_past_the_budget_at_a_time(stores: StoreFactory) -> None:
    a, b = stores(), stores()
    inf = float("inf")
    probe = await a.take("w", cost=1, limit=inf, window=60)
    assert isinstance(probe, Grant)
    assert isinstance(probe.id, str)
    assert probe.id.startswith("p")
    assert not isinstance(await b.take("w", cost=1, limit=inf, window=60), Grant)
    assert isinstance(await b.take("r", cost=1, limit=inf, window=60), Grant)  # per class
    await a.settle(probe, counted=True)  # accepted: the next probe may go at once
    second = await b.take("w", cost=1, limit=inf, window=60)
    assert isinstance(second, Grant)
    await b.settle(second, counted=False)  # refused: nobody probes for a quarter window
    wait = await a.take("w", cost=1, limit=inf, window=60)
    assert isinstance(wait, float)
    assert 14 < wait <= 15


async def test_processes_hear_of_new_learnt_numbers(stores: StoreFactory) -> None:
    a, b = stores(), stores()
    assert isinstance(await b.take("w", cost=1, limit=10, window=60), Grant)
    assert not b.state_changed("w")
    await a.save_state("w", {"limit": 12.0, "window": 60.0})
    assert not a.state_changed("w")  # its own save is no news to itself
    assert isinstance(await b.take("w", cost=1, limit=10, window=60), Grant)
    assert b.state_changed("w")
    assert await b.load_state("w") == {"limit": 12.0, "window": 60.0}
    assert not b.state_changed("w")
    await b.save_state("w", {"limit": 12.0, "window": 60.0})  # the same numbers: not saved
    assert isinstance(await a.take("w", cost=1, limit=10, window=60), Grant)
    assert not a.state_changed("w")


async def test_window_age_is_the_oldest_entry_of_any_process(stores: StoreFactory) -> None:
    a, b = stores(), stores()
    assert await a.window_age("w", 60) is None
    g = await b.take("w", cost=1, limit=10, window=60)
    assert isinstance(g, Grant)
    await b.settle(g, counted=True)
    await asyncio.sleep(0.05)
    age = await a.window_age("w", 60)
    assert age is not None
    assert 0.05 <= age < 60
