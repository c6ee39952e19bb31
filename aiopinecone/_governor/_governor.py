"""The governor of one client: a permit per attempt, per operation class, FIFO within a class.

It implements the core's admission seam (``acquire``/``settle``). When a class has room and no
one is queued, :meth:`Governor.acquire` returns without suspending (no task switch); otherwise
the caller joins the class's FIFO queue, whose head alone asks the store and sleeps until the
store's wait ends, a probe is due or an answer changes the budget. Waiting is cancellable and
bounded by the call's deadline (:class:`~aiopinecone.RequestTimeoutError` past it).
"""

from __future__ import annotations

import asyncio
import functools
import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from .._admission import Permit
from .._retry import is_testing
from ._budgets import TokenBook, acquire_with_tokens, settle_with_tokens
from ._classstats import ClassStats, class_report, log_rate_limited, record_wait
from ._config import PRESETS, TOKEN_CLASS, RateLimits, class_of
from ._controller import Controller
from ._gate import ACCEPTED, RATE_LIMITED, UNKNOWN, ClassGate
from ._lane import AHEAD, Lane, LanePermit
from ._projects import ProjectStore
from ._store import BudgetStore, Grant, MemoryStore
from ._waiting import (
    ClassQueue,
    Waiter,
    expire_by,
    hand_on,
    late,
    sleep,
    stop_expiry,
    wake_queue,
)

if TYPE_CHECKING:
    from .._admission import TokenCharge

__all__ = ["Governor", "GovernorPermit"]

OVERDRAW_RESERVE: Final = 0.1
"""While the limit is the start guess, a call that has waited for the budget until this share
of its time is left goes past it (see ``Controller.may_overdraw``; one process's budget)."""


GovernorPermit = Grant
"""The permit of one attempt (opaque to the core; settle it exactly once): the store's grant
itself, with ``waited``, ``settled`` and ``tokens`` (see :class:`~._store.Grant`)."""


class Governor:
    """The rate governor: budgets per operation class for every request of a client.

    ``AsyncPinecone(rate_limits=...)`` builds one on its project's store (``_projects``: one
    budget per project in a thread); pass a ``Governor`` itself as ``rate_limits=`` to several
    clients to share one budget. ``limits``: a :class:`~aiopinecone.RateLimits` (default:
    adaptive); ``store``: where the accounting lives (default: a store of its own).
    :meth:`snapshot` reports what each class learnt and did. ``clock``: monotonic seconds (a
    :class:`MemoryStore` passed as ``store`` must read the same clock: the governor hands it
    the time it read).
    """

    def __init__(
        self,
        limits: RateLimits | None = None,
        *,
        store: BudgetStore | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = RateLimits.default() if limits is None else limits
        self.store: BudgetStore = MemoryStore(clock=clock) if store is None else store
        self._clock = clock
        self._gates: dict[str, ClassGate] = {}
        self._queues: dict[str, ClassQueue] = {}
        self.stats: dict[str, ClassStats] = {}
        self._by_op: dict[str, ClassQueue] = {}
        self._lanes: dict[str, Lane] = {}  # per op, when its class's store is in memory
        self._class_lanes: dict[str, Lane] = {}  # the same lanes, per class
        self._tasks: set[asyncio.Task[Any]] = set()
        self._loaded: set[str] = set()
        self.token_books: dict[str, TokenBook] = {}
        """Per token class: what was estimated, what the answers counted (``_budgets``)."""
        if isinstance(self.store, ProjectStore):
            self.store.join(self)  # a default client's: its project's budget (``_projects``)

    @property
    def enabled(self) -> bool:
        """False when switched off (``rate_limits="off"``): the client then skips it."""
        return self.limits.enabled

    def gate(self, cls: str) -> ClassGate:
        """The gate of operation class ``cls`` (created on first use)."""
        gate = self._gates.get(cls)
        if gate is None:
            if isinstance(self.store, ProjectStore):  # what the project learnt (``_projects``)
                gate = self.store.gate(cls, self._controller(cls), self, self._clock())
            else:
                gate = ClassGate(cls, self._controller(cls), self.store)
            self._gates[cls] = gate
            stats = self.stats[cls] = ClassStats()
            self._queues[cls] = ClassQueue(gate, stats)
        return gate

    def _controller(self, cls: str) -> Controller:
        limit = self.limits.limits.get(cls)
        return Controller(
            limit=math.inf if limit is None else limit,
            window=self.limits.window,
            adaptive=self.limits.adaptive,
            levels=tuple(plan[cls] for plan in PRESETS.values() if cls in plan),
            estimated=cls in TOKEN_CLASS.values(),
        )

    def configure(self, limits: RateLimits) -> None:
        """Use ``limits`` from now on (a provisioning run's ``rate_preset``): every class
        starts over from them; what the store counted stays counted."""
        self.limits = limits
        for cls, gate in self._gates.items():
            gate.fold_lanes()
            gate.controller = self._controller(cls)

    def _queue_of(self, op: str) -> ClassQueue:
        queue = self._by_op.get(op)
        if queue is None:
            queue = self._by_op[op] = self._queues[self.gate(class_of(op)).key]
            local = queue.gate.local
            if local is not None:
                key = queue.gate.key
                lane = self._class_lanes.get(key)
                if lane is None:
                    lane = self._class_lanes[key] = Lane(queue, local, self)
                self._lanes[op] = lane
        return queue

    # -- the admission seam -------------------------------------------------------------------

    def try_acquire(self, op: str, cost: float = 1.0) -> GovernorPermit | LanePermit | None:
        """The permit of one attempt of ``op`` at once when its class has room and no task
        waits (a plain call: no coroutine, no task switch; ``_lane.py``); ``None``: await
        :meth:`acquire`. Settle it exactly once, as any permit (a lane's permit is a bare
        tuple: a second settle is not detected)."""
        lane = self._lanes.get(op)
        if lane is None:
            return None
        if lane.credit and cost == 1.0:  # a permit granted ahead (``_lane.py``)
            lane.credit -= 1
            return (self._clock(), 1.0, AHEAD, lane)
        return lane.take(cost, self._clock())

    async def acquire(
        self,
        op: str,
        *,
        cost: float = 1.0,
        deadline: float | None = None,
        tokens: TokenCharge | None = None,
    ) -> GovernorPermit:
        """The permit of one attempt of ``op``; waits (cancellably) while its class is full.
        ``tokens``: a chat or context call's input tokens (its token class's permit too)."""
        queue = self._by_op.get(op) or self._queue_of(op)
        gate = queue.gate
        gate.fold_lanes()
        if tokens is not None:
            return await acquire_with_tokens(self, op, cost, deadline, tokens)
        if gate.local is not None and not queue.waiters:
            now = self._clock()
            got = gate.try_take(now, cost, now)
            if type(got) is Grant:
                queue.stats.granted += 1
                return got
        return await self._wait(gate, queue, cost, deadline)

    async def _wait(
        self, gate: ClassGate, queue: ClassQueue, cost: float, deadline: float | None
    ) -> GovernorPermit:
        loop = asyncio.get_running_loop()
        me = Waiter(loop.create_future(), cost, deadline)
        queue.waiters.append(me)
        clock = self._clock
        began = clock()
        granted: Grant | None = None
        try:
            if queue.waiters[0] is not me:
                # Behind the head: a bare future, no timer of its own (the queue's wakes it
                # past its deadline), no coroutine frame more per wait.
                if deadline is not None:
                    if deadline <= began:
                        raise late(clock, gate.key, began)
                    expire_by(queue, deadline, clock, loop)
                await me.future
                if deadline is not None and clock() >= deadline:
                    raise late(clock, gate.key, began)
                granted = me.future.result()
                if granted is not None:  # handed on by the waiter before it
                    return self._waited(gate, granted, began)
            since = self._clock()
            while True:
                if gate.local is None and self._stale(gate.key):
                    await self._load_shared(gate)
                now = self._clock()
                if gate.local is not None:
                    gate.fold_lanes()
                    got = gate.try_take(now, me.cost, since)  # (a token permit's may shrink)
                else:
                    got = await gate.atake(now, me.cost, since)
                if isinstance(got, Grant):
                    if gate.local is not None:
                        hand_on(gate, queue, me, now)
                    return self._waited(gate, got, began)
                if not gate.local and math.isinf(got):
                    # Look again after the time the budget takes to free this cost (a token
                    # permit's cost is many units).
                    c = gate.controller
                    got = c.window * min(max(me.cost, 1.0) / max(c.limit, 1.0), 1.0)
                if deadline is not None and gate.local and gate.controller.may_overdraw():
                    # The start guess must not fail a call: near its deadline it goes past.
                    # (Not a budget shared through Redis: every process would overdraw it.)
                    left = deadline - now - max(OVERDRAW_RESERVE * (deadline - began), 0.01)
                    if left <= 0.0:
                        past = await gate.atake_past(now, me.cost)
                        if isinstance(past, Grant):
                            return self._waited(gate, past, began)
                        got = min(got, past)
                    else:
                        got = min(got, left)
                changed = loop.create_future()
                queue.changed = changed
                await sleep(changed, max(got, 1e-4), deadline, self._clock, gate.key, began)
        except BaseException:
            if granted is None and me.future.done() and not me.future.cancelled():
                granted = me.future.result()
            if granted is not None:  # granted, but this task will not use it
                gate.release(self._clock(), granted)
            raise
        finally:
            if me in queue.waiters:
                queue.waiters.remove(me)
            if queue.waiters:
                head = queue.waiters[0].future
                if not head.done():
                    head.set_result(None)
            elif queue.timer is not None:
                stop_expiry(queue)

    def _waited(self, gate: ClassGate, got: Grant, began: float) -> Grant:
        got.waited = self._clock() - began
        record_wait(self._queues[gate.key].stats, gate.key, got.waited, got.probe)
        return got

    def _stale(self, cls: str) -> bool:
        """A shared store: whether ``cls`` must (re)load the learnt numbers (first use, or
        another process saved new ones: ``state_changed``, seen by the last take)."""
        if cls not in self._loaded:
            return True
        changed = getattr(self.store, "state_changed", None)
        return changed is not None and bool(changed(cls))

    async def _load_shared(self, gate: ClassGate) -> None:
        """A shared store (Redis): adopt what another process learnt (first use, and after
        another process saved new numbers)."""
        self._loaded.add(gate.key)
        state = await self.store.load_state(gate.key)
        if state and gate.controller.adaptive:
            gate.controller.load(state)

    def settle(
        self,
        permit: Permit,
        status: int | None,
        retry_after: float | None,
        *,
        cost: float | None = None,
    ) -> None:
        """How the attempt ended: ``status`` (None: no answer), ``Retry-After`` seconds,
        ``cost``: the corrected cost (tokens from the answer's ``usage``), if known."""
        if permit.__class__ is tuple:  # a lane's permit (try_acquire)
            lane: Lane = permit[3]
            if status is not None and status != 429 and cost is None:
                lane.answered(permit, self._clock())
                return
            permit = lane.grant_of(permit)
        assert isinstance(permit, Grant)
        queue = self._queues[permit.key]
        queue.gate.fold_lanes()
        if permit.tokens is not None:
            settle_with_tokens(self, permit, status, retry_after)
            return
        if permit.settled:
            return
        permit.settled = True
        gate = queue.gate
        if status is not None and status != 429 and gate.local is not None:
            # The common case, in a few steps: answered, in-memory store.
            gate.accept(self._clock(), permit, cost, bool(queue.waiters))
            changed = queue.changed
            if changed is not None:
                queue.changed = None
                if not changed.done():
                    changed.set_result(None)
            return
        outcome = ACCEPTED if status is not None and status != 429 else UNKNOWN
        if status == 429:
            outcome = RATE_LIMITED
            queue.stats.rate_limited += 1
            if retry_after is not None and is_testing():
                retry_after = 0.0  # retry waits are instant in test suites (set_retry_testing)
        now = self._clock()
        if gate.local is not None:
            gate.settle(
                now,
                permit,
                outcome,
                retry_after=retry_after,
                cost=cost,
                waiting=bool(queue.waiters),
            )
        else:
            task = asyncio.get_running_loop().create_task(
                gate.asettle(
                    now,
                    permit,
                    outcome,
                    retry_after=retry_after,
                    cost=cost,
                    waiting=bool(queue.waiters),
                )
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            # The budget changes once the store has answered: wake the queue then too (else
            # the head sleeps out a whole window on the budget it saw before this answer).
            task.add_done_callback(functools.partial(wake_queue, queue))
        if outcome == RATE_LIMITED:
            log_rate_limited(gate.key, retry_after, gate.controller)
        changed = queue.changed
        if changed is not None and not changed.done():
            changed.set_result(None)

    def shift_waiting(self, cls: str, delta: float) -> None:
        """Change the cost of every permit of ``cls`` still waiting by ``delta`` units (at least
        1 each; a token class's estimate has learnt what the service adds) and let them look
        again."""
        queue = self._queues.get(cls)
        if queue is not None and queue.waiters:
            for waiter in queue.waiters:
                waiter.cost = max(1.0, waiter.cost + delta)
            wake_queue(queue)

    def give_back(self, permit: Grant) -> None:
        """Return a permit that was granted but never used (its attempt was not sent): not
        counted, nothing learnt; the class's queue may take its room at once."""
        if permit.settled:
            return
        permit.settled = True
        gate = self._queues[permit.key].gate
        gate.fold_lanes()
        gate.release(self._clock(), permit)
        if gate.local is None:
            task = asyncio.get_running_loop().create_task(gate.store.settle(permit, counted=False))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            task.add_done_callback(functools.partial(wake_queue, self._queues[gate.key]))
        wake_queue(self._queues[gate.key])

    def controllers(self) -> dict[str, Controller]:
        """The controller of every class used so far (read-only use: reports, ETAs), told
        what the lanes tallied."""
        self._fold_all()
        return {cls: gate.controller for cls, gate in self._gates.items()}

    def _fold_all(self) -> None:
        for gate in self._gates.values():
            gate.fold_lanes()

    # -- reports ----------------------------------------------------------------------------

    def snapshot(self) -> dict[str, dict[str, float | int | bool]]:
        """Per class used so far: the budget now (limit per window), whether learning, counts."""
        self._fold_all()
        return {
            cls: class_report(gate, self.stats[cls], self.token_books.get(cls))
            for cls, gate in self._gates.items()
        }

    async def aclose(self) -> None:
        """Wait for settles still being sent to a remote store; a project's store keeps what
        this governor learnt for the project's next clients."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        for lane in self._class_lanes.values():
            lane.close()
        if isinstance(self.store, ProjectStore):
            self.store.leave(self)
