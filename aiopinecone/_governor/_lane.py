"""The hot path of one operation class: a permit and its answer in one plain call each.

For a class whose budget is counted in this process (a :class:`~._store.MemoryStore`) and whose
queue is empty, almost every request takes the same few steps: the budget has room, the class is
not blocked, and the answer is not a 429. :class:`Lane` takes exactly those steps and declines
everything else (``None``), which then goes the general way (:meth:`Governor.acquire`,
:meth:`ClassGate.settle`) with every rule.

Those steps are the common case of ``ClassGate.try_take`` + ``MemoryStore.take_now`` and of
``ClassGate.accept`` + ``MemoryStore.settle_now``, repeated here on purpose: per-request CPU is a
target of the client (``benchmarks/client_cost``: within 5% of bare aiohttp), and one call each
way instead of three or four, with a tuple for a permit instead of an object, is what most of it
takes (``benchmarks/RESULTS.md``, "Issue 11"). The algorithm is not repeated: an answer goes to
the controller as from the gate, and the window's expiry and the log's entries are the book's
own methods. ``tests/test_governor_lane.py`` drives a governor through its lanes and one through
the general path with the same requests under a fake clock, and checks that their books and
controllers stay equal step by step: change one, change the other.

**Answers are told in tallies.** While nothing but counts moves per answer (no task waits in
the class, and the controller says :meth:`~._controller.Controller.may_tally`), a lane adds an
answer to its tally (a few sums) and tells the book and the controller the whole tally at once
(:meth:`Lane.fold`): at the first answer one log resolution (``window / 1000``) after the tally
began, and before anything else reads them (the general path of any client of the book:
``ClassBook.fold_lanes``; reports). The log gets one entry stamped at the tally's last answer,
as the book merges answers that close anyway; until then the tally's units stay counted in
flight, so the budget never shows more room than it has. The controller gets the tally as one
answer of the mean round trip counted as many times (``accepted_together``: a tally of one is
exactly :meth:`~._controller.Controller.accepted`). Anything else (a task waiting, a 429 episode,
a pause, a window being verified) tells each answer at once, as the general path does.

**Permits are granted ahead.** When a take leaves the budget room for many more
(``CREDIT_ROOM``) and answers may be tallied, the lane grants the next ``CREDIT`` permits of cost
1 at once: the book counts them in flight from then on, and each of those takes is a decrement
(spent in :meth:`Governor.try_acquire`, one call less). A permit granted ahead never took the
budget's last units (the room was there). Whatever reads the book first (the general path of
any client, reports) takes back those not used (:meth:`Lane.revoke`), so a waiting task, a
429, a block or another client sees the real room.

A lane's permit is a tuple :data:`LanePermit` ``(taken_at, cost, used, lane)``: one small
allocation per request. The book counts it in flight (``in_flight``, ``lane_open``) but keeps no
record of it: only the core takes lane permits and it settles each exactly once, however its
attempt ends, so none is ever left for the store's :data:`~._store.GRANT_TTL` to expire (the
lane does not look for expired grants either: the next general take does). A permit the general
path must settle (a 429, no answer, a corrected cost) becomes an open grant of the book first
(:meth:`Lane.grant_of`).
"""

from __future__ import annotations

import math
import weakref
from itertools import count
from typing import TYPE_CHECKING, Final, TypeAlias

from ._book import ClassBook
from ._store import Grant, MemoryStore

if TYPE_CHECKING:
    from ._governor import Governor
    from ._waiting import ClassQueue

__all__ = ["AHEAD", "CREDIT", "FOLD_AFTER", "Lane", "LanePermit"]

LanePermit: TypeAlias = "tuple[float, float, float, Lane]"
"""``(taken_at, cost, used, lane)``: ``used`` is the units counted right after the take."""

FOLD_AFTER: Final = 1.0
"""How long a tally gathers answers, in log resolutions (``window / 1000``; 0: one answer)."""

_TAKEN_AT: Final = 0
_COST: Final = 1
_USED: Final = 2
_NEVER: Final = -math.inf
AHEAD: Final = -math.inf
"""The ``used`` of a permit granted ahead: it never took the budget's last units."""
CREDIT: Final = 16
"""Permits of cost 1 a lane grants ahead at once, when the budget keeps room for many more."""
CREDIT_ROOM: Final = 4 * CREDIT
"""The room a budget must keep after a take for the lane to grant permits ahead."""


class Lane:
    """The hot path of one class (``queue``) over its book in ``store`` (see the module)."""

    __slots__ = (
        "book",
        "count",
        "credit",
        "fold_at",
        "full",
        "gate",
        "ids",
        "last",
        "owner",
        "pending",
        "queue",
        "rtt_sum",
        "saturated",
        "stale",
        "stats",
        "step_from",
    )

    def __init__(self, queue: ClassQueue, store: MemoryStore, owner: Governor) -> None:
        self.queue = queue
        # Weak: a client dropped unclosed leaves its lane on the project's book; the book
        # folds and revokes it once more, then lets it go (ClassBook.fold_lanes).
        self.owner = weakref.ref(owner)
        self.gate = queue.gate
        self.stats = queue.stats
        self.book: ClassBook = store.book(queue.gate.key)
        self.book.lanes.append(self)
        self.ids: count[int] = store.ids
        # The tally: answers not yet told to the book and the controller.
        self.count = 0
        self.pending = self.stale = self.rtt_sum = self.last = 0.0
        self.saturated = False
        self.fold_at = _NEVER  # the next answer from then on folds the tally first
        self.credit = 0  # permits of cost 1 granted ahead (see the module)
        self.step_from = self.full = math.inf  # the tally's view of its controller

    def take(self, cost: float, now: float) -> LanePermit | None:
        """A permit at ``now`` when the budget has room and nothing else needs doing; ``None``
        otherwise (the general path decides: a wait, a probe, a block). The credit is spent
        before (:meth:`Governor.try_acquire`: one call less per request)."""
        book = self.book
        if self.queue.waiters or now < book.blocked_until:
            return None
        c = self.gate.controller
        log = book.log
        if log and log[0][0] + c.window <= now:
            book.expire(now, c.window)
        used = book.logged + book.in_flight + cost
        if used > c.limit:
            return None
        book.resolution = c.window * 1e-3
        granted = 1
        # (A take of cost 1 comes here only once the credit is spent: try_acquire.)
        if cost == 1.0 and used + CREDIT_ROOM <= c.limit and c.may_tally():
            self.credit = CREDIT  # far from the limit: the next permits granted ahead
            granted += CREDIT
        book.in_flight += granted * cost
        book.lane_open += granted
        c.outstanding += granted
        self.stats.granted += granted
        return (now, cost, used, self)

    def answered(self, permit: LanePermit, now: float) -> None:
        """The server answered ``permit``'s request at ``now`` (anything but a 429)."""
        # (A task that joins the queue folds the tally first: fold_at is then _NEVER.)
        if now >= self.fold_at:
            if self.count:
                self.fold()
            if not self._tally_from(now):
                self._tell(permit, now)
                return
        taken_at, cost, used, _ = permit
        self.count += 1
        self.pending += cost
        self.last = now
        self.rtt_sum += now - taken_at
        if taken_at < self.step_from:
            self.stale += cost  # taken before the controller's count began (step_began)
        if used >= self.full - cost:
            self.saturated = True  # this grant took the budget's last units

    def _tally_from(self, now: float) -> bool:
        """Begin a tally at ``now`` if answers may be told together (see the module)."""
        c = self.gate.controller
        if self.queue.waiters or not c.may_tally():
            return False
        self.fold_at = now + self.book.resolution * FOLD_AFTER
        self.step_from = c.step_began - 1e-9
        self.full = c.limit
        return True

    def fold(self) -> None:
        """Tell the book and the controller the tally's answers (it has one at least)."""
        book = self.book
        n = self.count
        cost = self.pending
        last = self.last
        book.lane_done(n, cost)
        book.append(last, cost)
        self.gate.controller.accepted_together(
            last, cost, n, cost - self.stale, self.saturated, self.rtt_sum
        )
        self.count = 0
        self.pending = self.stale = self.rtt_sum = 0.0
        self.saturated = False
        self.fold_at = _NEVER

    def _tell(self, permit: LanePermit, now: float) -> None:
        """One answer told at once (``permit``'s, at ``now``), as the general path does."""
        book = self.book
        book.fold_lanes()  # (another client's lane may tally for the same controller)
        cost = permit[_COST]
        book.lane_done(1, cost)
        book.append(now, cost)
        c = self.gate.controller
        queue = self.queue
        # saturated: this grant took the budget's last units, or tasks wait for it
        saturated = permit[_USED] >= c.limit - cost
        if queue.waiters:
            saturated = True
        c.accepted(now, cost, saturated, False, permit[_TAKEN_AT])
        changed = queue.changed
        if changed is not None:
            queue.changed = None
            if not changed.done():
                changed.set_result(None)

    def grant_of(self, permit: LanePermit) -> Grant:
        """``permit`` as an open :class:`Grant` of the book, for the general path to settle (a
        429, no answer, a corrected cost)."""
        book = self.book
        grant_id = next(self.ids)
        if not book.open:
            book.oldest_open = permit[_TAKEN_AT]
        book.open[grant_id] = (permit[_TAKEN_AT], permit[_COST])
        book.lane_open -= 1
        return Grant(self.gate.key, grant_id, permit[_COST], permit[_USED], permit[_TAKEN_AT])

    def revoke(self) -> None:
        """Give back the permits granted ahead (it has one at least): they were never used."""
        n, self.credit = self.credit, 0
        self.book.lane_done(n, n)
        self.gate.controller.outstanding -= n
        self.stats.granted -= n

    def close(self) -> None:
        """Fold what is left, give back what was granted ahead, and leave the book (the client
        closed)."""
        if self.count:
            self.fold()
        if self.credit:
            self.revoke()
        if self in self.book.lanes:
            self.book.lanes.remove(self)
