"""The lanes (``_governor/_lane.py``) take the same steps as the general path.

A lane repeats the common case of ``ClassGate`` + ``MemoryStore`` in one call each way (the hot
path). Here two governors under one fake clock get the same requests and answers: one through
``try_acquire`` (its lanes, falling back to ``acquire`` when a lane declines), one through
``acquire`` alone (the general path, as before lanes existed). After every step their books,
controllers and counts must be equal, whatever the limit shape, the answers (2xx, 5xx, no
answer, 429 with and without Retry-After) and the timing.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from aiopinecone._governor import Governor, MemoryStore, RateLimits, _lane
from aiopinecone._governor._controller import Controller


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


OPS = ("describe_assistant", "list_assistants", "create_assistant")


def at_once(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """The permit ``acquire`` gives without waiting, or None (it would wait: the waiter is
    withdrawn, as a cancelled caller's is)."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    coroutine.close()
    return None


def _slots(obj: object) -> dict[str, Any]:
    names = {n for cls in type(obj).__mro__ for n in getattr(cls, "__slots__", ())}
    return {name: getattr(obj, name) for name in sorted(names) if hasattr(obj, name)}


def _comparable(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    if hasattr(value, "__slots__") and not isinstance(value, type):
        return {k: _comparable(v) for k, v in _slots(value).items()}
    if isinstance(value, tuple):
        return tuple(_comparable(v) for v in value)
    return value


def controller_view(c: Controller) -> dict[str, Any]:
    return {k: _comparable(v) for k, v in _slots(c).items()}


def book_view(store: MemoryStore, key: str, window: float, now: float) -> dict[str, Any]:
    book = store.book(key)
    # (The general path expires the log's head at every take; a lane granting ahead does not:
    # the same entries count.)
    book.expire(now, window)
    return {
        "log": list(book.log),
        "logged": book.logged,
        "in_flight": book.in_flight,
        "open": len(book.open) + book.lane_open,
        "blocked_until": book.blocked_until,
        "resolution": book.resolution,
    }


def view(gov: Governor, now: float) -> dict[str, Any]:
    assert isinstance(gov.store, MemoryStore)
    return {
        cls: {
            "controller": controller_view(c),
            "book": book_view(gov.store, cls, c.window, now),
            "stats": _slots(gov.stats[cls]),
        }
        for cls, c in gov.controllers().items()
    }


LIMITS: dict[str, Callable[[], RateLimits]] = {
    "adaptive": RateLimits.default,
    "exact": lambda: RateLimits(limits={"assistants_read": 30, "assistants_write": 6}, window=2.0),
    # room for the lanes to grant permits ahead (``_lane.CREDIT``)
    "roomy": lambda: RateLimits(
        limits={"assistants_read": 300, "assistants_write": 100}, window=2.0
    ),
}


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("limits", sorted(LIMITS))
async def test_lanes_and_the_general_path_keep_the_same_books(
    limits: str, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A tally of one answer at a time: told to the controller exactly as the general path
    # tells it (larger tallies and credit: tests/test_governor_tally.py).
    monkeypatch.setattr(_lane, "FOLD_AFTER", 0.0)
    rng = random.Random(seed)
    clock = FakeClock()
    lanes = Governor(LIMITS[limits](), clock=clock)
    general = Governor(LIMITS[limits](), clock=clock)
    open_: list[tuple[Any, Any]] = []
    took_lane = 0
    for _ in range(400):
        clock.now += rng.choice((0.0, 0.0005, 0.003, 0.02, 0.2, 1.5))
        if not open_ or rng.random() < 0.55:
            for _ in range(rng.randint(1, 6)):
                op = rng.choice(OPS)
                mine = lanes.try_acquire(op, 1.0)
                if mine is None:
                    mine = at_once(lanes.acquire(op, deadline=None))
                else:
                    took_lane += 1
                theirs = at_once(general.acquire(op, deadline=None))
                assert (mine is None) == (theirs is None)
                if mine is not None:
                    open_.append((mine, theirs))
        else:
            for _ in range(rng.randint(1, len(open_))):
                mine, theirs = open_.pop(rng.randrange(len(open_)))
                status, retry_after = rng.choices(
                    [(200, None), (503, None), (None, None), (429, None), (429, 0.5)],
                    weights=[80, 4, 3, 8, 5],
                )[0]
                lanes.settle(mine, status, retry_after)
                general.settle(theirs, status, retry_after)
        assert view(lanes, clock.now) == view(general, clock.now)
    assert took_lane > 50  # the lanes were used (not a test of the general path twice)


async def test_a_lane_declines_a_blocked_class_and_a_full_budget() -> None:
    clock = FakeClock()
    gov = Governor(RateLimits(limits={"assistants_write": 2}, window=10.0), clock=clock)
    assert gov.try_acquire("create_assistant", 1.0) is None  # first use: the general path
    first = at_once(gov.acquire("create_assistant", deadline=None))
    second = gov.try_acquire("create_assistant", 1.0)
    assert second is not None
    assert gov.try_acquire("create_assistant", 1.0) is None  # the budget is full
    gov.settle(second, 429, 3.0)  # a lane permit's 429 goes the general way: a block
    assert gov.try_acquire("create_assistant", 1.0) is None
    clock.now += 3.0
    again = gov.try_acquire("create_assistant", 1.0)
    assert again is not None
    gov.settle(first, 200, None)
    gov.settle(again, None, None)
    snap = gov.snapshot()["assistants_write"]
    assert (snap["granted"], snap["rate_limited"]) == (3, 1)
    store = gov.store
    assert isinstance(store, MemoryStore)
    book = store.book("assistants_write")
    assert (book.in_flight, book.lane_open, book.open) == (0.0, 0, {})
    assert book.logged == 2.0  # the 200 and the lost answer count; the 429 does not
