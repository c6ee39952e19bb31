"""The accounting of one operation class in this process: its window log and what is in flight.

A :class:`ClassBook` is :class:`~._store.MemoryStore`'s record of one class (the store's rules
read and write it) and what a lane (``_lane.py``) books a request in. Its own rules are the
log's: :meth:`ClassBook.expire` and :meth:`ClassBook.append`; before anything but a lane reads
or writes it, the lanes' tallies are told (:meth:`ClassBook.fold_lanes`).
"""

from __future__ import annotations

import math
from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._lane import Lane

__all__ = ["ClassBook"]


class ClassBook:
    """The accounting of one class: the window log and the open grants (a plain slotted class:
    it is read and written on every request)."""

    __slots__ = (
        "blocked_until",
        "in_flight",
        "lane_open",
        "lanes",
        "log",
        "logged",
        "oldest_open",
        "open",
        "resolution",
    )

    def __init__(self) -> None:
        self.log: deque[tuple[float, float]] = deque()  # (stamp, cost), stamps ascending
        self.logged = 0.0  # sum of the log's costs
        self.open: dict[int | str, tuple[float, float]] = {}  # id -> (taken at, cost)
        self.lane_open = 0  # lane permits in flight (counted in in_flight: _lane.py)
        self.in_flight = 0.0  # sum of the open grants' costs
        self.oldest_open = math.inf  # at most the take time of the oldest open grant
        self.blocked_until = 0.0
        self.resolution = 0.0  # entries closer than this share one (window / 1000)
        self.lanes: list[Lane] = []  # of every client of the book (their tallies: _lane.py)

    def fold_lanes(self) -> None:
        """Tell the book (and their controllers) what the lanes' tallies hold, and take back
        the permits they granted ahead; then forget the lanes of clients dropped unclosed."""
        gone = False
        for lane in self.lanes:
            if lane.count:
                lane.fold()
            if lane.credit:
                lane.revoke()
            if lane.owner() is None:
                gone = True
        if gone:
            self.lanes = [lane for lane in self.lanes if lane.owner() is not None]

    def lane_done(self, count: int, units: float) -> None:
        """``count`` lane permits (``units`` in all) are no longer in flight."""
        self.lane_open -= count
        if self.lane_open or self.open:
            self.in_flight -= units
        else:
            self.in_flight = 0.0  # no float drift across a long run

    def expire(self, now: float, window: float) -> None:
        """Forget the log entries that left the window (``stamp + window <= now``)."""
        log = self.log
        while log and log[0][0] + window <= now:
            self.logged -= log.popleft()[1]
        if not log:
            self.logged = 0.0  # no float drift across a long run

    def append(self, stamp: float, cost: float) -> None:
        """Log ``cost`` units at ``stamp``."""
        log = self.log
        if log:
            last = log[-1][0]
            if last > stamp:  # only expired grants are stamped in the past
                entries = sorted([*log, (stamp, cost)])
                log.clear()
                log.extend(entries)
            elif stamp - last <= self.resolution:
                # Entries closer than 1/1000 of the window share one (stamped at the later
                # time, so they leave no earlier than the server forgets them): the log stays
                # small whatever the rate.
                log[-1] = (stamp, log[-1][1] + cost)
            else:
                log.append((stamp, cost))
        else:
            log.append((stamp, cost))
        self.logged += cost
