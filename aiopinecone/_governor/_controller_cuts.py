"""What a 429 teaches one class's controller: a limit or noise, and the cut a limit makes.

:class:`ControllerCuts` is the base of :class:`~aiopinecone._governor._controller.Controller`
holding the rules its ``rate_limited`` applies (the module docstring of ``_controller`` tells
them whole): whether a 429 is a real limit (:meth:`ControllerCuts.real_wait`, the 429 episode
of ``_episode``); at the first one, the burst and the window learnt (the window verified); at
later ones, the rate cut; and the measured rate that only ever shortens the window. Pure, like
the controller: no I/O, no asyncio.
"""

from __future__ import annotations

import math
from typing import Final

from ._controller_sharing import MIN_LIMIT, MIN_WINDOW, ControllerSharing
from ._episode import Episode
from ._slowstart import snap

__all__ = ["BETA", "ControllerCuts"]

BETA: Final = 0.7
"""Multiplicative decrease on a real limit (TCP CUBIC's and AWS adaptive mode's beta)."""


class ControllerCuts(ControllerSharing):
    """The cutting half of :class:`~aiopinecone._governor._controller.Controller`: the slots
    it owns are declared here, set by the controller's ``__init__``."""

    __slots__ = (
        "_episode",
        "_free_at",
        "_hold_until",
        "_verify_from",
        "base_window",
        "estimated",
        "rtt_min",
    )

    _episode: Episode
    _free_at: float
    _hold_until: float
    _verify_from: float
    base_window: float
    estimated: bool
    rtt_min: float

    def real_wait(self, retry_after: float | None) -> bool:
        """Whether a 429's ``Retry-After`` alone shows a real limit (see :meth:`_is_real`)."""
        # Against the shortest round trip seen: the first ones include connecting.
        rtt = min(self.srtt, self.rtt_min)
        return retry_after is not None and retry_after > max(rtt, MIN_WINDOW)

    def _is_real(
        self,
        now: float,
        retry_after: float | None,
        taken_at: float | None,
        cost: float,
        in_flight: int,
    ) -> bool:
        """Whether a 429 shows a real limit rather than noise (see ``_episode``), with
        ``in_flight`` requests still unanswered."""
        if self.real_wait(retry_after) or (
            # Slow start: the server asks to wait, however shortly (a fast bucket's next
            # token), for a request of the step: the step met the limit (retries would let it
            # end, and the next overshoot far).
            self.slow_start
            and retry_after is not None
            and retry_after > 0.0  # ("retry at once" asks for no wait)
            and taken_at is not None
            and taken_at >= self._steps.at
        ):
            self._episode.end()
            return True
        return self._episode.refused(now, taken_at, cost, in_flight)

    def _real_limit(self, now: float, usage: float, retry_after: float | None) -> None:
        if self.slow_start:
            # The first real limit: the burst is what the server accepted in the window.
            self.slow_start = False
            # The first limit met replaces a guess: what the server accepted is all we know.
            cut = self.limit * BETA if math.isfinite(self.limit) and self.learnt else 0.0
            burst = snap(usage, self._steps.refused, self.limit, self.levels)
            self.limit = max(MIN_LIMIT, burst, cut)
            self.learnt = True
            if retry_after is not None and self._burst_from < now:
                # The server frees room `retry_after` from now; its window began with the
                # burst: a per-minute server gives its minute, a per-second bucket about a
                # second, whatever window the client was told.
                seen = retry_after + now - self._burst_from
                self.window = max(MIN_WINDOW, min(self.base_window, seen))
                # One wait says when the server frees room, not how much: a per-second
                # bucket's is its next token's. Verify it: after the wait, the budget starts
                # at one request and doubles per round trip (TCP after a timeout) up to the
                # burst; a real 429 on the way tells the rate (below). (Processes sharing a
                # budget adopt the first one's cut: none of them ramps.)
                if self.alone:
                    self._target, self.limit = self.limit, MIN_LIMIT
                    self._verify_from = now
        else:
            # Past the sustained rate: slow the rate by BETA, keep the burst; or, when the
            # server said at both cuts when it frees room, to the rate it sustained between
            # (what it accepted from the first instant to the second: a bucket's refill).
            verifying = self._target > 0.0
            window = self.window if verifying else self.window / BETA
            if verifying:
                self.limit, self._target = self._target, 0.0
            if retry_after is not None and self._measured >= 1.0 and self.alone:
                # (This process's acceptances are the server's only when it is alone.)
                span = now + retry_after - self._free_at  # nan: no wait at the last cut
                if span > 2.0 * self.srtt:
                    window = max(self.window, self.limit * span / self._measured)
            window = max(MIN_WINDOW, min(window, self.base_window))
            if verifying and math.isfinite(self._burst_from):
                # The store forgot the first burst under the short window: it is in the
                # longer one still, so the class waits until it leaves. The burst was
                # counted with what the server refilled while it went: not a burst.
                self._hold_until = self._burst_from + window
                refill = self.limit / window * (self._verify_from - self._burst_from)
                self.limit = max(MIN_LIMIT, self.limit - refill)
                self._verify_from = math.inf
            self.window = window
        self._free_at = now + retry_after if retry_after is not None else math.nan
        self._cut_end = self._epoch_end = now + self._epoch()
        self._measure_from, self._measured = now, 0.0
        self._probe_gap = min(self._slot(), max(4.0 * self.srtt, MIN_WINDOW))
        self.probe_at = now + self._probe_gap

    def _measure(self, now: float) -> None:
        """Shorten the window to the rate the server sustained since the last cut (the burst
        stays), once that rate held over one whole window of its own: a per-minute server
        with room left in its minute accepts a few probes quickly, then refuses them until
        the minute turns, so its estimate never holds that long."""
        elapsed = now - self._measure_from
        if self._measured <= 1.0 or elapsed <= 2.0 * self.srtt:
            return
        window = self.limit * elapsed / self._measured
        if elapsed >= window:
            # Only ever faster: what a server accepted is a floor of its rate (a slower
            # window comes from a real limit).
            self.window = max(MIN_WINDOW, min(self.window, window))
