"""The adaptive controller of one operation class: what budget to ask the store for.

A pure state machine over explicit times (seconds on any monotonic clock); no I/O, no asyncio.
The budget is a sliding window: ``limit`` units per ``window`` seconds (the store enforces it).
Two numbers describe any server the client meets: the burst it accepts at once (``limit``, B)
and the rate it sustains (``limit / window``, R). A per-minute window of L is (L, 60 s); a token
bucket of capacity b refilled at r per second is safely (b, b / r).

How it learns (adaptive mode; a fixed budget never changes):

- **Slow start** (TCP): from the start guess, every accepted request that found the budget full
  raises the limit by its cost, so the limit doubles per round trip while the server accepts.
- **A real limit** shows as *consecutive* 429s (the requests in flight past the limit all come
  back refused): slow start ends and the limit becomes what the server accepted in the window
  (``usage``), never below ``BETA`` x the limit. An **isolated** 429 (the next answer is an
  accepted one: noise, a neighbour's burst) only slows the class down by ``GENTLE`` (one cut per
  epoch of ``window / 4``), and slow start goes on.
- **Probes** (AWS adaptive retry's measured, growing rate): once out of slow start, a class kept
  waiting by its own window sends one request past it every ``probe_gap`` seconds. An accepted
  probe proves the server refills faster than modelled: the rate grows by ``gain`` (which
  doubles on every consecutive accepted probe: multiplicative discovery) while the burst stays,
  so the window shortens; a refused probe doubles ``probe_gap`` (at most a window) and resets
  ``gain``. A per-second bucket is thus found from a per-minute start in a few round trips.
- A ``Retry-After`` blocks the whole class (the governor tells the store); without one, the class
  is blocked for a short, growing pause (from one slot up to a window). Nothing here ever blocks
  a class longer than the server asked, or than one window without a hint.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Final

__all__ = ["BETA", "GENTLE", "Controller"]

BETA: Final = 0.7
"""Multiplicative decrease on a real limit (TCP CUBIC's and AWS adaptive mode's beta)."""
GROWTH: Final = 0.2
"""Slow start: growth of the limit per round trip (its overshoot at the limit, at most)."""
GENTLE: Final = 0.9
"""Decrease on an isolated 429."""
FIRST_GAIN: Final = 0.25
MAX_GAIN: Final = 0.5
MIN_LIMIT: Final = 1.0


class Controller:
    """The budget of one operation class and how it reacts to answers.

    ``limit``/``window`` is the start (a preset, the told limit, or the start guess); ``adaptive``
    says whether answers change it. Call :meth:`accepted`, :meth:`rate_limited` or
    :meth:`unknown` once per request that ended (``probe`` when the grant was a probe).
    """

    __slots__ = (
        "_cut_end",
        "_epoch_end",
        "_grow_at",
        "_probe_gap",
        "adaptive",
        "base_window",
        "gain",
        "limit",
        "probe_at",
        "probe_in_flight",
        "refused_streak",
        "slow_start",
        "srtt",
        "window",
    )

    def __init__(self, *, limit: float, window: float, adaptive: bool) -> None:
        self.limit = float(limit)
        self.window = float(window)
        self.base_window = float(window)
        self.adaptive = adaptive
        self.slow_start = adaptive
        self.gain = FIRST_GAIN
        self.refused_streak = 0
        self.probe_in_flight = False
        self._probe_gap = self.window / max(self.limit, 1.0)
        self.probe_at = 0.0
        self.srtt = 0.0
        self._grow_at = 0.0
        self._epoch_end = self._cut_end = -math.inf

    @property
    def rate(self) -> float:
        """Units per second the budget sustains."""
        return self.limit / self.window

    # -- probing ----------------------------------------------------------------------------

    def may_probe(self, now: float, waited_since: float, wait: float) -> bool:
        """Whether a request kept waiting by the window since ``waited_since``, which the window
        would keep waiting ``wait`` more seconds, may go as a probe. Not when the window frees
        within two round trips: the client's log is stamped at answers, later than the
        server's, so such a probe would prove nothing."""
        return (
            self.adaptive
            and not self.slow_start
            and not self.probe_in_flight
            and now >= self.probe_at
            and now - waited_since >= self._probe_gap
            and wait > 2.0 * self.srtt
        )

    def next_probe(self, now: float, waited_since: float) -> float:
        """When :meth:`may_probe` could next say yes (``inf``: not before an answer)."""
        if not self.adaptive or self.slow_start or self.probe_in_flight:
            return math.inf
        return max(self.probe_at, waited_since + self._probe_gap, now)

    def probe_started(self) -> None:
        """A probe is in flight (one at a time)."""
        self.probe_in_flight = True

    # -- answers ----------------------------------------------------------------------------

    def accepted(
        self, now: float, *, cost: float, saturated: bool, probe: bool, rtt: float = 0.0
    ) -> None:
        """The server counted the request. ``saturated``: the budget is the bottleneck (tasks
        wait for it, or the grant took its last units); ``rtt``: seconds from grant to answer."""
        self.refused_streak = 0
        if not self.adaptive:
            return
        self.srtt = rtt if self.srtt == 0.0 else self.srtt + (rtt - self.srtt) / 8.0
        if probe:
            self.probe_in_flight = False
            # The server refills faster than the window says: raise the rate, keep the burst.
            self.window = max(self.window / (1.0 + self.gain), 1e-3)
            self.gain = min(self.gain * 2.0, MAX_GAIN)
            self._probe_gap = self.window / self.limit
            self.probe_at = now
            self._cut_end = self._epoch_end = now  # new facts: the next 429 may cut again
            return
        if self.slow_start and saturated and now >= self._grow_at:
            # The budget was the bottleneck and the server took it: grow by GROWTH per round
            # trip (an accepted answer of the last round opens the next one).
            self.limit = max(self.limit * (1.0 + GROWTH), self.limit + cost)
            self._grow_at = now + self.srtt

    def rate_limited(
        self, now: float, *, usage: float, retry_after: float | None, probe: bool
    ) -> float:
        """The server answered 429. ``usage``: units the store logged in the current window.

        Returns the seconds to block the whole class (the server's ``Retry-After`` if given).
        """
        self.refused_streak += 1
        streak = self.refused_streak
        if probe:
            self.probe_in_flight = False
            self.gain = FIRST_GAIN
            self._probe_gap = min(self._probe_gap * 2.0, self.window / 8.0)
            self.probe_at = now + self._probe_gap
        elif self.adaptive:
            if streak >= 2 and now >= self._cut_end:
                if self.slow_start:
                    # The first real limit: the burst is what the server accepted in the
                    # window, but cut at most by BETA.
                    self.slow_start = False
                    cut = self.limit * BETA if math.isfinite(self.limit) else 0.0
                    self.limit = max(MIN_LIMIT, usage, cut)
                else:
                    # Past the sustained rate: slow the rate by BETA, keep the burst.
                    self.window = min(self.window / BETA, self.base_window)
                self._cut_end = self._epoch_end = now + self._epoch()
                self._probe_gap = self.window / self.limit
                self.probe_at = now + self._probe_gap
                self.gain = FIRST_GAIN
            elif streak == 1 and now >= self._epoch_end:
                # An isolated 429 (noise, a neighbour): slow down moderately.
                if self.slow_start and math.isfinite(self.limit):
                    self.limit = max(MIN_LIMIT, usage, self.limit * GENTLE)
                else:
                    self.window = min(self.window / GENTLE, self.base_window)
                self._epoch_end = now + self._epoch()
        if retry_after is not None and math.isfinite(retry_after) and retry_after >= 0:
            return retry_after
        # No hint: a pause from one slot, doubling per consecutive 429, at most one window.
        slot = self.window / self.limit if math.isfinite(self.limit) else max(self.srtt, 0.01)
        return min(self.window, slot * 2.0 ** (streak - 1))

    def unknown(self, now: float, *, probe: bool) -> None:
        """The request ended without an answer (it may have been counted)."""
        if probe:
            self.probe_in_flight = False

    def _epoch(self) -> float:
        # One cut per round trip (TCP): the 429s of requests already in flight at a cut say
        # nothing new. Bounded by the window for a class with no round trip measured yet.
        return min(max(2.0 * self.srtt, 1e-3), self.window / 4.0)

    # -- sharing ----------------------------------------------------------------------------

    def state(self) -> dict[str, float]:
        """The learnt numbers, to share through the store."""
        return {
            "limit": self.limit,
            "window": self.window,
            "slow_start": 1.0 if self.slow_start else 0.0,
        }

    def load(self, state: Mapping[str, float]) -> None:
        """Adopt numbers another process learnt (ignored when not adaptive or malformed)."""
        if not self.adaptive:
            return
        limit, window = state.get("limit"), state.get("window")
        if limit is None or window is None or not (limit >= MIN_LIMIT and window > 0):
            return
        self.limit, self.window = float(limit), float(window)
        self.slow_start = bool(state.get("slow_start", 0.0))
        self._probe_gap = self.window / self.limit
