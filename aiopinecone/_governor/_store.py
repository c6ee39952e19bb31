"""The budget store: the atomic accounting of one project's rate budget per operation class.

The governor splits rate control in two:

- the *controller* (``_controller.py``, pure, per class and per process) decides what the
  budget is: ``limit`` units per ``window`` seconds, learnt from the server's answers;
- the *store* (this module) does the accounting against that budget, atomically, for every task
  of a process (:class:`MemoryStore`) or every process of a project (a Redis store: the same
  semantics in one Lua script per call, the clock being Redis ``TIME``).

Accounting model (a sliding-window log, the shape of Pinecone's per-minute limits):

- A **grant** is the right to send one request costing ``cost`` units (1 for a request, an
  estimate of input tokens for a token budget). It is *open* (in flight) from :meth:`take`
  until :meth:`settle`; open grants count against the budget, so the client never has more in
  flight than the budget allows.
- ``settle(counted=True)``: the server answered (anything but 429), or the request ended without
  an answer (it may have been counted). The grant becomes a log entry stamped with the store's
  clock *at settle time* (never earlier than the server counted it, so the client's window
  always closes after the server's) with its final cost (``cost`` may correct the estimate, from
  the answer's ``usage``).
- ``settle(counted=False)``: the server answered 429 (it did not count the request). The grant
  is removed.
- A log entry counts while ``stamp + window > now``; the ``window`` of each call is the one the
  controller uses now (entries older than it are forgotten).
- **blocked until**: a ``Retry-After`` blocks the whole class, for every task and process.
- **state**: the controller's learnt numbers (a flat mapping of floats), shared so that every
  process starts from what one of them learnt; last writer wins.

Every wait is returned as *seconds from now* so that the store's clock (Redis ``TIME``) never
mixes with a process's monotonic clock.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Final, Protocol, runtime_checkable

from ._book import ClassBook

if TYPE_CHECKING:
    from ._budgets import TokenPart

__all__ = ["ON_SETTLE", "BudgetStore", "Grant", "MemoryStore", "SharedLearning"]

ON_SETTLE: Final = math.inf
"""The wait :meth:`BudgetStore.take` returns when only a settle (an open grant ending, or a
larger limit) can make room: entries leaving the window would not be enough."""

GRANT_TTL: Final = 600.0
"""Seconds after which a grant never settled (a crashed process) is settled as counted by the
store itself, stamped at its take time. Longer than any sane request, so a live request is never
expired."""


class Grant:
    """One open grant: ``key`` (the class), ``id`` (unique in the store), ``cost`` (units);
    ``used``: the units counted right after the take (log + open grants, this one included),
    which tells the controller whether the budget was the bottleneck; ``taken_at``: when it was
    taken (the clock of whoever took it).

    The same object is the gate's ticket (``probe``: it went as a probe past the budget, and
    ``expected``: when the window would have let it go) and the governor's permit (``waited``,
    ``settled``, ``tokens``): an attempt allocates one object, here (a plain slotted class: it
    is made on every request).
    """

    __slots__ = (
        "cost",
        "expected",
        "id",
        "key",
        "probe",
        "settled",
        "taken_at",
        "tokens",
        "used",
        "waited",
    )

    def __init__(
        self, key: str, id: int | str, cost: float, used: float = 0.0, taken_at: float = 0.0
    ) -> None:
        self.key = key
        self.id = id
        self.cost = cost
        self.used = used
        self.taken_at = taken_at
        self.probe = False
        self.expected = 0.0
        """A probe: when the window would have let it go (the time it was taken, + the wait)."""
        self.waited = 0.0
        """Seconds the permit waited for the budget."""
        self.settled = False
        self.tokens: TokenPart | None = None
        """A chat or context attempt's request permit: its token permit too (``_budgets``)."""

    def __repr__(self) -> str:
        return f"Grant(key={self.key!r}, id={self.id!r}, cost={self.cost!r}, probe={self.probe})"


@runtime_checkable
class BudgetStore(Protocol):
    """Atomic per-class accounting of a rate budget (see the module docstring for the model).

    Implementations: :class:`MemoryStore` (one process), a Redis store (many processes). Each
    method is one atomic step against the class ``key``'s state.
    """

    async def take(self, key: str, *, cost: float, limit: float, window: float) -> Grant | float:
        """Take a grant of ``cost`` units if the budget has room, else say how long to wait.

        Atomically, with ``now`` the store's clock:

        1. if ``now < blocked_until(key)``: return ``blocked_until - now`` (> 0);
        2. forget log entries with ``stamp + window <= now``; settle as counted (stamped at
           their take time) open grants older than :data:`GRANT_TTL`;
        3. ``used`` = sum of the costs of the remaining log entries and of the open grants;
        4. if ``used + cost <= limit``, or ``used == 0`` (a single request larger than the whole
           limit must still pass when nothing else counts, else it would wait forever): record
           an open grant stamped ``now`` and return it (``Grant.used = used + cost``);
        5. else return the smallest ``w > 0`` such that once the entries with
           ``stamp + window <= now + w`` are gone, ``used + cost <= limit`` (open grants still
           counted), or, with no open grant, the log is empty (step 4's lone request: a token
           permit may cost more than the whole limit); :data:`ON_SETTLE` (``math.inf``) when no
           such ``w`` exists.

        ``limit`` and ``window`` are the controller's current values (> 0); ``cost`` >= 0.
        """
        ...

    async def settle(self, grant: Grant, *, counted: bool, cost: float | None = None) -> None:
        """End an open grant: ``counted`` -> a log entry stamped ``now`` with ``cost`` (default:
        the grant's cost), else removed (a 429). Settling an unknown or already settled grant
        (expired by :data:`GRANT_TTL`, or the store was reset) does nothing."""
        ...

    async def block(self, key: str, seconds: float) -> None:
        """``blocked_until(key) = max(blocked_until(key), now + seconds)`` (a ``Retry-After``)."""
        ...

    async def usage(self, key: str, window: float) -> float:
        """Units logged (settled as counted) for ``key`` with ``stamp + window > now``; open
        grants are not included. Read-only; called on a 429 (what the server accepted)."""
        ...

    async def load_state(self, key: str) -> Mapping[str, float] | None:
        """The controller state last saved for ``key`` (None if never saved)."""
        ...

    async def save_state(self, key: str, state: Mapping[str, float]) -> None:
        """Save the controller state of ``key`` (replaces the previous one)."""
        ...


@runtime_checkable
class SharedLearning(Protocol):
    """What a store shared by several processes adds so that the project learns as one: slow
    start against one shared limit, grown by compare-and-set (the project overshoots the
    server's limit once, not once per process), and probes held off for every process."""

    @property
    def shared(self) -> bool:
        """False while the shared backend is unreachable (the process then learns alone)."""
        ...

    async def take_learning(
        self, key: str, *, cost: float, limit: float, window: float, learning: bool = False
    ) -> tuple[Grant | float, float | None]:
        """:meth:`BudgetStore.take`; ``learning``: against the shared slow-start limit (set
        from ``limit`` if none is). Returns the take and that limit (None: not shared)."""
        ...

    async def grow(self, key: str, old: float, new: float) -> float | None:
        """Shared limit ``old`` -> ``new`` unless another process changed it; returns it."""
        ...

    async def settle_step(
        self, grant: Grant, old: float, new: float, *, saturated: bool = True
    ) -> tuple[float | None, bool]:
        """Settle an acceptance in the shared slow start at ``old`` (it counts for the step,
        over every process; once the step is in, a ``saturated`` one grows it to ``new``);
        returns the shared limit and whether its step is over although ``old`` was stale
        (grow it with :meth:`grow`)."""
        ...

    async def hold_probes(self, key: str, seconds: float) -> None:
        """No probe past the budget of ``key`` from any process for ``seconds``."""
        ...

    async def refused(self, grant: Grant, block: float | None, *, real: bool = False) -> None:
        """``settle(counted=False)`` and ``block(block)`` (when given) in one atomic step;
        ``real``: a real limit, the shared slow start grows no more."""
        ...

    async def publish_cut(
        self, key: str, state: Mapping[str, float]
    ) -> tuple[bool, Mapping[str, float] | None]:
        """End the project's slow start with ``state`` once: (True, published) for the
        first process, (False, the state to adopt) for the others (None: nothing shared)."""
        ...


class MemoryStore:
    """The :class:`BudgetStore` of one process (every task of every client that shares it).

    Its methods never suspend; :meth:`take_now` and :meth:`settle_now` are the same steps as
    plain calls, for the governor's fast path (no coroutine on the hot path). ``clock`` is
    monotonic seconds.
    """

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._books: dict[str, ClassBook] = {}
        self._states: dict[str, dict[str, float]] = {}
        self.ids = itertools.count(1)
        """Grant ids (a lane takes them too: ``_lane.py``)."""

    def book(self, key: str) -> ClassBook:
        """The accounting of class ``key`` (created on first use)."""
        book = self._books.get(key)
        if book is None:
            book = self._books[key] = ClassBook()
        return book

    def take_now(
        self, key: str, cost: float, limit: float, window: float, now: float | None = None
    ) -> Grant | float:
        """:meth:`take` as a plain call; ``now``: the store's clock read by the caller."""
        if now is None:
            now = self._clock()
        book = self._books.get(key) or self.book(key)
        if now < book.blocked_until:
            return book.blocked_until - now
        if now - GRANT_TTL > book.oldest_open:
            self._expire_open(book, now)
        book.resolution = window * 1e-3
        log = book.log
        # `stamp + window <= now`, the very sum handed out as a wait: `stamp <= now - window`
        # can differ by a rounding error and never expire (a busy loop).
        if log and log[0][0] + window <= now:
            book.expire(now, window)
        used = book.logged + book.in_flight
        if used + cost <= limit or used <= 0.0:
            grant_id = next(self.ids)
            open_ = book.open
            if not open_:
                book.oldest_open = now
            open_[grant_id] = (now, cost)
            book.in_flight += cost
            return Grant(key, grant_id, cost, used + cost, now)
        need = used + cost - limit  # units that must leave the window
        freed = 0.0
        for stamp, entry_cost in log:
            freed += entry_cost
            if freed >= need:
                return max(stamp + window - now, 1e-6)
        if log and book.in_flight <= 0.0:  # larger than the limit: alone once the log is empty
            return max(log[-1][0] + window - now, 1e-6)
        return ON_SETTLE

    def _expire_open(self, book: ClassBook, now: float) -> None:
        # Open grants are kept in take order: the first is the oldest (`oldest_open` is at
        # most its take time, so this runs when one may be expired, then catches up).
        for grant_id, (taken, cost) in list(book.open.items()):
            if now - taken <= GRANT_TTL:
                book.oldest_open = taken
                return
            del book.open[grant_id]
            book.in_flight -= cost
            book.append(taken, cost)
        book.oldest_open = math.inf

    def settle_now(
        self, grant: Grant, counted: bool, cost: float | None = None, now: float | None = None
    ) -> None:
        """:meth:`settle` as a plain call; ``now``: the store's clock read by the caller."""
        book = self._books.get(grant.key)
        if book is None:
            return
        entry = book.open.pop(grant.id, None)
        if entry is None:
            return
        if book.open:
            book.in_flight -= entry[1]
        else:
            book.oldest_open = math.inf
            if book.lane_open:
                book.in_flight -= entry[1]
            else:
                book.in_flight = 0.0  # no float drift across a long run
        if counted:
            stamp = self._clock() if now is None else now
            if cost is None:
                cost = entry[1]
            log = book.log
            if log and 0.0 <= stamp - log[-1][0] <= book.resolution:
                # The common case inline (see ClassBook.append): merged into the last entry.
                log[-1] = (stamp, log[-1][1] + cost)
                book.logged += cost
            else:
                book.append(stamp, cost)

    def block_now(self, key: str, seconds: float) -> None:
        """:meth:`block` as a plain call."""
        book = self.book(key)
        book.blocked_until = max(book.blocked_until, self._clock() + seconds)

    def blocked_for(self, key: str) -> float:
        """Seconds the class stays blocked (0 if it is not)."""
        book = self._books.get(key)
        return 0.0 if book is None else max(0.0, book.blocked_until - self._clock())

    def usage_now(self, key: str, window: float) -> float:
        """:meth:`usage` as a plain call."""
        book = self._books.get(key)
        if book is None:
            return 0.0
        now = self._clock()
        return sum(c for stamp, c in book.log if stamp + window > now)

    def in_flight(self, key: str) -> float:
        """Units of ``key``'s open grants."""
        book = self._books.get(key)
        return 0.0 if book is None else book.in_flight

    async def take(self, key: str, *, cost: float, limit: float, window: float) -> Grant | float:
        """See :meth:`BudgetStore.take`."""
        return self.take_now(key, cost, limit, window)

    async def settle(self, grant: Grant, *, counted: bool, cost: float | None = None) -> None:
        """See :meth:`BudgetStore.settle`."""
        self.settle_now(grant, counted, cost)

    async def block(self, key: str, seconds: float) -> None:
        """See :meth:`BudgetStore.block`."""
        self.block_now(key, seconds)

    async def usage(self, key: str, window: float) -> float:
        """See :meth:`BudgetStore.usage`."""
        return self.usage_now(key, window)

    async def load_state(self, key: str) -> Mapping[str, float] | None:
        """See :meth:`BudgetStore.load_state`."""
        return self.load_state_now(key)

    async def save_state(self, key: str, state: Mapping[str, float]) -> None:
        """See :meth:`BudgetStore.save_state`."""
        self.save_state_now(key, state)

    def load_state_now(self, key: str) -> dict[str, float] | None:
        """:meth:`load_state` as a plain call (a copy)."""
        state = self._states.get(key)
        return None if state is None else dict(state)

    def save_state_now(self, key: str, state: Mapping[str, float]) -> None:
        """:meth:`save_state` as a plain call."""
        self._states[key] = dict(state)
