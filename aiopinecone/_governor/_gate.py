"""One operation class: its controller in front of the store (the rules of a permit, once).

:meth:`ClassGate.try_take` and :meth:`ClassGate.settle` are plain calls for the in-memory store
(no coroutine on the hot path; also what the fake-clock simulation drives); ``atake`` and
``asettle`` are the same steps for a store that does I/O (Redis).
"""

from __future__ import annotations

import math
from typing import Final

from ._controller import Controller
from ._store import BudgetStore, Grant, MemoryStore, SharedLearning

__all__ = ["ACCEPTED", "RATE_LIMITED", "UNKNOWN", "ClassGate", "Ticket"]

ACCEPTED: Final = "accepted"
RATE_LIMITED: Final = "rate_limited"
UNKNOWN: Final = "unknown"


Ticket = Grant
"""A grant as the gate hands it out: ``probe`` (it went past the budget) and ``expected`` set
(one object per attempt: see :class:`~._store.Grant`)."""


class ClassGate:
    """The controller and the store of one class (``key``)."""

    __slots__ = ("controller", "key", "local", "shared", "store")

    def __init__(self, key: str, controller: Controller, store: BudgetStore) -> None:
        self.key = key
        self.controller = controller
        self.store = store
        self.local: MemoryStore | None = store if isinstance(store, MemoryStore) else None
        self.shared: SharedLearning | None = (
            store if self.local is None and isinstance(store, SharedLearning) else None
        )

    def fold_lanes(self) -> None:
        """Before the general path reads or writes the class: the lanes' tallies told, their
        credit taken back (``_lane.py``; every client's lanes of the book)."""
        if self.local is not None:
            self.local.book(self.key).fold_lanes()

    # -- taking -----------------------------------------------------------------------------

    def try_take(self, now: float, cost: float, waited_since: float) -> Ticket | float:
        """A ticket now, or the seconds to wait before trying again (in-memory store only)."""
        store = self.local
        assert store is not None
        c = self.controller
        got = store.take_now(self.key, cost, c.limit, c.window, now)
        if type(got) is not Grant and c.open_test(cost):
            got = store.take_now(self.key, cost, c.limit, c.window, now)
        if type(got) is Grant:
            c.outstanding += 1
            return got
        assert isinstance(got, float)
        probe = None
        if c.may_probe(now, waited_since, got):
            probe = store.take_now(self.key, cost, math.inf, c.window, now)
        return self._after_refusal(now, got, waited_since, probe)

    async def atake(self, now: float, cost: float, waited_since: float) -> Ticket | float:
        """:meth:`try_take` for any store."""
        c = self.controller
        shared = self.shared
        if shared is not None and shared.shared and c.slow_start and math.isfinite(c.limit):
            # Slow start of the project: against the one shared limit, read with the take.
            got, limit = await shared.take_learning(
                self.key, cost=cost, limit=c.limit, window=c.window, learning=True
            )
            if limit is not None:
                c.adopt_limit(now, limit)
        else:
            got = await self.store.take(self.key, cost=cost, limit=c.limit, window=c.window)
            if not isinstance(got, Grant) and c.open_test(cost):
                got = await self.store.take(self.key, cost=cost, limit=c.limit, window=c.window)
        if isinstance(got, Grant):
            c.outstanding += 1
            got.taken_at = now
            return got
        probe = None
        if c.may_probe(now, waited_since, got):
            if shared is not None and shared.shared and c.slow_start:
                probe = (
                    await shared.take_learning(
                        self.key, cost=cost, limit=math.inf, window=c.window, learning=True
                    )
                )[0]
            else:
                probe = await self.store.take(self.key, cost=cost, limit=math.inf, window=c.window)
        wait = self._after_refusal(now, got, waited_since, probe)
        if isinstance(wait, float) and shared is not None and c.slow_start and shared.shared:
            # Another process's answer may grow the shared limit any moment, and nothing
            # wakes this one then: look again after a round trip while the project learns.
            return min(wait, max(c.srtt, 1e-3))
        return wait

    async def atake_past(self, now: float, cost: float) -> Ticket | float:
        """A grant past the budget (a ``Retry-After`` block still holds): see
        :meth:`Controller.may_overdraw`."""
        c = self.controller
        if self.local is not None:
            got = self.local.take_now(self.key, cost, math.inf, c.window, now)
        else:
            got = await self.store.take(self.key, cost=cost, limit=math.inf, window=c.window)
        if isinstance(got, Grant):
            c.outstanding += 1
            got.taken_at = now
            return got
        return got

    def _after_refusal(
        self, now: float, wait: float, waited_since: float, probe: Grant | float | None
    ) -> Ticket | float:
        c = self.controller
        if isinstance(probe, Grant):
            c.probe_started()
            c.outstanding += 1
            probe.probe, probe.taken_at, probe.expected = True, now, now + wait
            return probe
        if probe is not None:
            # Blocked by a Retry-After (the probe waits like everyone), or a shared store lets
            # one process probe at a time: never longer than the window's own wait.
            return min(wait, probe)
        return min(wait, c.next_probe(now, waited_since) - now)

    # -- settling ---------------------------------------------------------------------------

    def release(self, now: float, ticket: Ticket) -> None:
        """Give back a grant that was never used (its task was cancelled before sending). Only
        the in-memory store hands grants on; elsewhere a grant left open expires by itself."""
        c = self.controller
        c.outstanding -= 1
        if ticket.probe:
            c.probe_in_flight = False
        if self.local is not None:
            self.local.settle_now(ticket, False, None, now)

    def settle(
        self,
        now: float,
        ticket: Ticket,
        outcome: str,
        *,
        retry_after: float | None = None,
        cost: float | None = None,
        waiting: bool = False,
    ) -> None:
        """Report how the request ended (in-memory store only)."""
        if outcome == ACCEPTED:
            self.accept(now, ticket, cost, waiting)
            return
        store = self.local
        assert store is not None
        c = self.controller
        if outcome == RATE_LIMITED:
            store.settle_now(ticket, False, None, now)
            usage = store.usage_now(self.key, c.window)
            block = c.rate_limited(
                now,
                usage=usage,
                retry_after=retry_after,
                probe=ticket.probe,
                expected=ticket.expected - now if ticket.probe else None,
                taken_at=ticket.taken_at,
                cost=ticket.cost,
                position=ticket.used - ticket.cost,
            )
            if block > 0:
                store.block_now(self.key, block)
        else:
            store.settle_now(ticket, True, cost, now)
            c.unknown(now, probe=ticket.probe)

    def accept(self, now: float, ticket: Ticket, cost: float | None, waiting: bool) -> None:
        """:meth:`settle` of an accepted request (in-memory store only; the governor's fast
        path calls it directly)."""
        store = self.local
        assert store is not None
        store.settle_now(ticket, True, cost, now)
        c = self.controller
        if cost is None:
            cost = ticket.cost
            c.accepted(
                now, cost, waiting or ticket.used >= c.limit - cost, ticket.probe, ticket.taken_at
            )
            return
        # A corrected estimate (a token permit): the budget was the bottleneck only if what the
        # server counted filled it (estimates in flight may be far off).
        c.accepted(
            now,
            cost,  # what was counted
            store.usage_now(self.key, c.window) >= c.limit - cost,
            ticket.probe,
            ticket.taken_at,
        )

    async def asettle(
        self,
        now: float,
        ticket: Ticket,
        outcome: str,
        *,
        retry_after: float | None = None,
        cost: float | None = None,
        waiting: bool = False,
    ) -> None:
        """:meth:`settle` for any store; the learnt numbers are shared after a change."""
        store = self.store
        c = self.controller
        if outcome == ACCEPTED:
            if cost is None:
                saturated = waiting or ticket.used >= c.limit - ticket.cost
            else:  # a token permit: see settle
                saturated = await store.usage(self.key, c.window) + cost >= c.limit - cost
            shared = self.shared
            learning = (
                shared is not None and shared.shared and c.slow_start and math.isfinite(c.limit)
            )
            before, limit = c.limit, None
            if shared is not None and learning and not ticket.probe and cost is None:
                # Slow start of the project: the store counts every process's acceptances
                # towards the step and grows the one shared limit; this process adopts it.
                limit, due = await shared.settle_step(
                    ticket, before, c.step_target(ticket.cost), saturated=saturated
                )
                if due and limit is not None and saturated:
                    c.adopt_limit(now, limit)
                    before = c.limit
                    grown = await shared.grow(self.key, before, c.step_target(ticket.cost))
                    limit = limit if grown is None else grown
            else:
                await store.settle(ticket, counted=True, cost=cost)
            c.accepted(
                now,
                cost=ticket.cost if cost is None else cost,  # a token permit: what was counted
                saturated=saturated and not learning,  # shared: the store counts the step
                probe=ticket.probe,
                taken_at=ticket.taken_at,
            )
            if shared is not None and learning and c.slow_start:
                if ticket.probe and c.limit != before:
                    grown, c.limit = c.limit, before
                    limit = await shared.grow(self.key, before, grown)
                    if limit is None:
                        c.limit = grown  # Redis not reached: this process's own step
                if limit is not None:
                    c.adopt_limit(now, limit)
            if ticket.probe:
                await store.save_state(self.key, c.state())
        elif outcome == RATE_LIMITED:
            shared = self.shared
            if shared is not None:
                await shared.refused(
                    ticket, retry_after, real=c.slow_start and c.real_wait(retry_after)
                )
            else:
                await store.settle(ticket, counted=False)
            learning = c.slow_start
            if shared is not None and learning:
                # Another process may have published the first real limit already: adopt it
                # rather than cut again for the same episode.
                state = await store.load_state(self.key)
                if state and not state.get("slow_start", 1.0):
                    c.load(state, now=now)
            usage = await store.usage(self.key, c.window)
            window_age = getattr(store, "window_age", None)
            if window_age is not None and c.slow_start:
                # Several processes: the burst began with the first of anyone's entries.
                age = await window_age(self.key, c.window)
                if age is not None:
                    c.burst_began(now - age)
            block = c.rate_limited(
                now,
                usage=usage,
                retry_after=retry_after,
                probe=ticket.probe,
                expected=ticket.expected - now if ticket.probe else None,
                taken_at=ticket.taken_at,
                cost=ticket.cost,
                position=ticket.used - ticket.cost,
            )
            if block > 0:
                await store.block(self.key, block)
            if shared is not None and learning and not c.slow_start:
                # The first real limit: one cut for the project (the first process publishes
                # it, the others adopt it).
                first, published = await shared.publish_cut(self.key, c.state())
                if first and published:
                    # Raised to the last step every grant of which was accepted, at least.
                    c.limit = max(c.limit, published.get("limit", c.limit))
                elif published and not published.get("slow_start", 1.0):
                    c.load(published, now=now)
            if shared is not None and ticket.probe and not c.slow_start:
                # A refused probe: the other processes wait for the next one as this one does.
                await shared.hold_probes(self.key, c.probe_at - now)
            await store.save_state(self.key, c.state())
        else:
            await store.settle(ticket, counted=True, cost=cost)
            c.unknown(now, probe=ticket.probe)
