"""A limit or noise? The 429s of one episode, counted (pure; part of the controller).

An episode begins at a 429 of a request sent while none was open. Only requests sent *after*
its first 429 tell anything (those already in flight when a limit is hit say nothing new):
more of them refused than accepted, three at least, and than are still in flight (the answers
of a batch sent together arrive in any order: a few stray 429s among many answers arriving
first must not look like a limit), is a limit; two more accepted than refused is noise (a
stray 429, a neighbour's burst; a server whose short wait frees one request at a time is a
limit). A ``Retry-After`` longer than a round trip is a limit at once (the controller's
:meth:`~aiopinecone._governor.Controller.real_wait`).
"""

from __future__ import annotations

import math

__all__ = ["Episode"]


class Episode:
    """The 429 episode of one class (``at``: when it began; ``inf``: none)."""

    __slots__ = ("at", "bad")

    def __init__(self) -> None:
        self.at = math.inf
        self.bad = 0.0

    def accepted(self, taken_at: float | None, cost: float) -> None:
        """A request taken at ``taken_at`` was accepted."""
        if taken_at is None or taken_at >= self.at:
            self.bad -= cost
            if self.bad <= -2.0 * cost:
                self.at = math.inf  # noise

    def refused(self, now: float, taken_at: float | None, cost: float, in_flight: int) -> bool:
        """A request taken at ``taken_at`` was refused at ``now``, ``in_flight`` requests still
        unanswered: whether that makes a limit."""
        if taken_at is None or self.at == math.inf or taken_at < self.at:
            if self.at == math.inf:
                self.at, self.bad = now, 0.0
            return False
        self.bad += cost
        if self.bad >= 3.0 * cost and self.bad > in_flight * cost:
            self.at = math.inf
            return True
        return False

    def end(self) -> None:
        """The episode is over (a limit was found another way)."""
        self.at = math.inf
