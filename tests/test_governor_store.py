"""The in-memory budget store: the exact accounting the BudgetStore protocol documents.

A fake clock drives it; a Redis store must pass the same table (see ``STORE_CASES``).
"""

from __future__ import annotations

import math

import pytest

from aiopinecone._governor import ON_SETTLE, BudgetStore, Grant, MemoryStore


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(clock: FakeClock) -> MemoryStore:
    return MemoryStore(clock=clock)


def test_memory_store_is_a_budget_store(store: MemoryStore) -> None:
    assert isinstance(store, BudgetStore)


async def test_takes_until_the_limit_counting_open_grants(store: MemoryStore) -> None:
    grants = [await store.take("w", cost=1, limit=3, window=10) for _ in range(3)]
    assert all(isinstance(g, Grant) for g in grants)
    # Three open grants fill the budget; nothing is logged yet, so only a settle helps.
    assert await store.take("w", cost=1, limit=3, window=10) == ON_SETTLE


async def test_a_429_gives_the_slot_back(store: MemoryStore) -> None:
    a = await store.take("w", cost=1, limit=1, window=10)
    assert isinstance(a, Grant)
    await store.settle(a, counted=False)
    assert isinstance(await store.take("w", cost=1, limit=1, window=10), Grant)


async def test_counted_entries_leave_the_window_at_settle_time_plus_window(
    store: MemoryStore, clock: FakeClock
) -> None:
    a = await store.take("w", cost=1, limit=2, window=10)
    b = await store.take("w", cost=1, limit=2, window=10)
    assert isinstance(a, Grant)
    assert isinstance(b, Grant)
    clock.now += 1
    await store.settle(a, counted=True)  # stamped 1001
    clock.now += 2
    await store.settle(b, counted=True)  # stamped 1003
    assert await store.usage("w", 10) == 2
    wait = await store.take("w", cost=1, limit=2, window=10)
    assert wait == pytest.approx(8.0)  # a leaves at 1011, now 1003
    clock.now += 8
    assert await store.usage("w", 10) == 1  # a left; open grants are not usage
    assert isinstance(await store.take("w", cost=1, limit=2, window=10), Grant)
    # Two units must leave for a cost of 2: b's stamp decides (1013 - 1011).
    wait = await store.take("w", cost=2, limit=2, window=10)
    assert wait == ON_SETTLE  # the open grant of 1 unit never leaves by itself


async def test_wait_counts_the_units_that_must_leave(store: MemoryStore, clock: FakeClock) -> None:
    for step in range(3):
        g = await store.take("t", cost=10, limit=30, window=60)
        assert isinstance(g, Grant)
        await store.settle(g, counted=True, cost=5 + step)  # 5, 6, 7 after correction
        clock.now += 1
    # used 18 of 30; a cost of 20 needs 8 to leave: the entries of 5 and 6 (stamps 1000, 1001).
    assert await store.take("t", cost=20, limit=30, window=60) == pytest.approx(1061 - 1003)


async def test_a_cost_above_the_limit_passes_alone(store: MemoryStore) -> None:
    g = await store.take("t", cost=500, limit=100, window=60)
    assert isinstance(g, Grant)
    assert await store.take("t", cost=1, limit=100, window=60) == ON_SETTLE


async def test_blocked_until(store: MemoryStore, clock: FakeClock) -> None:
    await store.block("w", 5)
    await store.block("w", 2)  # never shortens
    assert await store.take("w", cost=1, limit=10, window=60) == pytest.approx(5)
    assert isinstance(await store.take("r", cost=1, limit=10, window=60), Grant)  # per class
    clock.now += 5
    assert isinstance(await store.take("w", cost=1, limit=10, window=60), Grant)


async def test_settle_twice_or_unknown_is_a_no_op(store: MemoryStore) -> None:
    g = await store.take("w", cost=1, limit=1, window=60)
    assert isinstance(g, Grant)
    await store.settle(g, counted=False)
    await store.settle(g, counted=True)
    await store.settle(Grant("nope", 99, 1.0), counted=True)
    assert isinstance(await store.take("w", cost=1, limit=1, window=60), Grant)


async def test_a_grant_never_settled_expires(store: MemoryStore, clock: FakeClock) -> None:
    g = await store.take("w", cost=1, limit=1, window=60)
    assert isinstance(g, Grant)
    clock.now += 601
    # Settled by the store as counted at its take time, long out of the window.
    assert isinstance(await store.take("w", cost=1, limit=1, window=60), Grant)


async def test_state_round_trip(store: MemoryStore) -> None:
    assert await store.load_state("w") is None
    await store.save_state("w", {"limit": 42.0, "window": 60.0})
    assert await store.load_state("w") == {"limit": 42.0, "window": 60.0}


def test_on_settle_is_infinite() -> None:
    assert math.isinf(ON_SETTLE)
