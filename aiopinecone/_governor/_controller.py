"""The adaptive controller of one operation class: what budget to ask the store for.

A pure state machine over explicit times (seconds on any monotonic clock); no I/O, no asyncio.
The budget is a sliding window: ``limit`` units (the burst) per ``window`` seconds, so the rate
is ``limit / window``. A per-minute window of L is (L, 60 s); a token bucket of capacity b
refilled at r per second is safely (b, b / r). Adaptive mode learns it (a fixed one never moves):

- **Slow start** (TCP; the growth rule is ``_slowstart``): a step per round trip, the next once
  each whole grant of the step was accepted while the budget is the bottleneck; a start guess
  at a plan's number is tested with the first burst (:meth:`Controller.open_test`). A class with
  no known limit (``inf``) runs freely until throttled (AWS adaptive mode). While the limit is
  the guess, a call about to miss its deadline may go past it (:meth:`Controller.may_overdraw`).
- **A real limit or noise?** A 429 is a limit when its ``Retry-After`` is longer than the
  shortest round trip (in slow start: any ``Retry-After`` for a request of the step), or when
  more requests sent *after* the first 429 are refused than accepted (three at least).
  Otherwise it is noise: retried, no pause, and out of slow start the rate slows by ``GENTLE``
  (once per round trip). Requests in flight at a cut say nothing new.
- **At the first real limit** the burst becomes what the server accepted in the window
  (``usage``; or what was sent before the step's first refused request, when the server
  answered the 429s ahead of the acceptances: ``_slowstart.snap``) and, given a
  ``Retry-After``, the window the time from the burst's first request
  to the end of that wait (a per-minute server gives its minute). One wait says when room
  frees, not how much (a per-second bucket's is its next token's), so it is *verified*: after
  it the budget restarts at one request and doubles per round trip up to the burst; a 429 on
  the way makes the window the rate the server sustained between the two instants it said it
  frees room, less what it refilled during the first burst.
- **The rate is measured** (as AWS adaptive mode does): a class kept waiting by its window
  sends one request past it (a *probe*) now and then; answers only ever shorten the window (to
  ``limit / rate`` once that estimate held over one window of its own; the rate of the requests
  sent since the last cut, as those in flight then were counted before it). A refused probe doubles
  the gap (at most ``window / 4``); one whose ``Retry-After`` matches the window's own wait, or
  after which the rate measured is no faster than the window's, confirms the model: no probe
  before the next window (then 2, 4, at most 8).
- Later real limits cut the rate by ``BETA`` (the burst stays), or to the rate sustained
  between two told instants; one cut per round trip.
- A ``Retry-After`` blocks the whole class (the governor tells the store); without one, repeated
  429s pause the class one slot, doubling per consecutive 429, at most one window. Nothing here
  blocks a class longer than the server asked, or than one window without a hint.
"""

from __future__ import annotations

import math
from typing import Final

from ._controller_cuts import BETA, ControllerCuts
from ._controller_sharing import MIN_WINDOW
from ._episode import Episode
from ._slowstart import (
    GROWTH,
    GROWTH_ABOVE,
    LEVEL_STEP,
    Steps,
    at_level,
    next_step,
    past_plans,
)

__all__ = ["BETA", "GENTLE", "GROWTH", "GROWTH_ABOVE", "LEVEL_STEP", "Controller"]

_INF: Final = math.inf
GENTLE: Final = 0.9
"""Decrease on an isolated 429."""


class Controller(ControllerCuts):
    """The budget of one operation class and how it reacts to answers.

    ``limit``/``window`` is the start (a preset, the told limit, or the start guess; ``inf``
    for a class with no known limit, which then runs freely until throttled); ``adaptive``
    says whether answers change it. Call :meth:`accepted`, :meth:`rate_limited` or
    :meth:`unknown` once per request that ended (``probe`` when the grant was a probe).
    """

    __slots__ = (  # and ControllerCuts' and ControllerSharing's
        "_ahead",
        "_ahead_of",
        "_confirmed",
        "_finite",
        "_pause_level",
        "_paused_at",
        "outstanding",
        "probe_in_flight",
        "refused_streak",
    )

    def __init__(
        self,
        *,
        limit: float,
        window: float,
        adaptive: bool,
        levels: tuple[float, ...] = (),
        estimated: bool = False,
    ) -> None:
        self.levels = tuple(sorted(float(level) for level in levels))
        """The plans' limits of the class (per window): slow start stops at each."""
        self.limit = float(limit)
        self.window = float(window)
        self.base_window = float(window)
        self.adaptive = adaptive
        self.estimated = estimated
        """Costs are estimates the answers correct (a token budget): what the window held when
        a refused grant was taken says little about what the server counted."""
        self.alone = True
        """False once a shared store told of other processes (its acceptances are not all)."""
        self.slow_start = adaptive
        self.learnt = False
        self.refused_streak = 0
        self.outstanding = 0
        """Grants of this process not yet answered (the gate counts them)."""
        self.probe_in_flight = False
        self.probe_at = 0.0
        self.srtt = 0.0
        self.rtt_min = math.inf
        self._probe_gap = self._slot()
        self._steps = Steps(min(self.limit, 1.0))
        self._measure_from = 0.0
        self._measured = 0.0
        self._epoch_end = self._cut_end = -math.inf
        self._episode = Episode()
        self._burst_from = math.inf
        self._confirmed = 0
        self._pause_level, self._paused_at = 0, -math.inf
        self._free_at = math.nan  # when the server said, at the last cut, it frees room
        self._target = 0.0  # verifying a window learnt from Retry-After: the burst to reach
        self._verify_from = math.inf  # ... with grants taken from then on
        self._hold_until = 0.0
        self._ahead_of, self._ahead = math.nan, False  # past_plans(limit) of limit _ahead_of
        self._finite = math.isfinite(self.limit)  # ... and whether it is finite

    @property
    def rate(self) -> float:
        """Units per second the budget sustains."""
        return self.limit / self.window

    def _slot(self) -> float:
        return self.window / self.limit if math.isfinite(self.limit) else max(self.srtt, 0.01)

    def _epoch(self) -> float:
        # One cut per round trip; bounded by the window for a class with no round trip yet.
        return min(max(2.0 * self.srtt, MIN_WINDOW), self.window / 4.0)

    # -- probing ----------------------------------------------------------------------------

    def may_probe(self, now: float, waited_since: float, wait: float) -> bool:
        """Whether a request kept waiting by the window since ``waited_since``, which the window
        would keep waiting ``wait`` more seconds, may go as a probe. Not when the window frees
        within two round trips: the client's log is stamped at answers, later than the
        server's, so such a probe would prove nothing."""
        if not self.adaptive or self.probe_in_flight or wait <= 2.0 * self.srtt or self._target:
            return False
        if math.isinf(wait):
            return False  # the budget is held by requests in flight: their answers will tell
        if self.slow_start:
            # The limit is still a guess and no answer in flight can grow it (a client whose
            # concurrency is below the guess): waiting on it is not waiting on the server.
            return self.outstanding == 0
        return now >= self.probe_at and now - waited_since >= self._probe_gap

    def next_probe(self, now: float, waited_since: float) -> float:
        """When :meth:`may_probe` could next say yes (``inf``: not before an answer)."""
        if not self.adaptive or self.probe_in_flight or self._target:
            return math.inf
        if self.slow_start:
            return now if self.outstanding == 0 else math.inf
        return max(self.probe_at, waited_since + self._probe_gap, now)

    def may_overdraw(self) -> bool:
        """Whether a request about to miss its deadline waiting for the budget may go past it:
        only while the limit is the start guess and the server has refused nothing (the guess
        must not fail a call the server may well take; once it told a limit, waits are real)."""
        return self.slow_start and not self.learnt and math.isfinite(self.limit)

    def open_test(self, cost: float) -> bool:
        """The start guess, a plan's number, is used up before any answer came: whether its
        test (the step past it) begins now, so that the request past the guess goes with the
        first burst (an answer would tell nothing about it: waiting for one only costs a
        round trip). The step is over once every grant of the limit was accepted."""
        if not (
            self.slow_start
            and self._burst_from == _INF
            and math.isfinite(self.limit)
            and at_level(self.limit, self.levels)
        ):
            return False
        self.limit += next_step(self.limit, self.levels, cost, merge=self.alone)
        self._steps.begin_first(self.limit, cost)
        return True

    def probe_started(self) -> None:
        """A probe is in flight (one at a time)."""
        self.probe_in_flight = True

    # -- answers ----------------------------------------------------------------------------

    def accepted(
        self,
        now: float,
        cost: float,
        saturated: bool,
        probe: bool,
        taken_at: float | None = None,
    ) -> None:
        """The server counted the request, granted at ``taken_at``. ``saturated``: the budget
        is the bottleneck (tasks wait for it, or the grant took its last units)."""
        self.outstanding -= 1
        self.refused_streak = 0
        if self._pause_level and (taken_at is None or taken_at >= self._paused_at):
            self._pause_level = 0
        if not self.adaptive:
            return
        if self._episode.at != _INF:  # (no 429 episode open: nothing to count)
            self._episode.accepted(taken_at, cost)
        if taken_at is not None:
            rtt = now - taken_at
            srtt = self.srtt
            self.srtt = srtt + (rtt - srtt) * 0.125 if srtt else rtt
            if rtt < self.rtt_min:
                self.rtt_min = rtt
        if self.slow_start:
            if self._burst_from == _INF and taken_at is not None:
                self._burst_from = taken_at
            if probe:
                self.probe_in_flight = False
            if self.limit != self._ahead_of:  # computed once per limit
                self._ahead_of, self._ahead = self.limit, past_plans(self.limit, self.levels)
                self._finite = math.isfinite(self.limit)
            # A probe: the guess kept a request waiting and the server took it, a step at once
            # (a client below the limit's concurrency grows too).
            if self._finite and (probe or self._steps.over(taken_at, cost, saturated, self._ahead)):
                step = next_step(self.limit, self.levels, cost, merge=self.alone)
                self.limit += step
                self._steps.begin(now, self.limit - step, self.limit, cost)
            return
        if taken_at is None or taken_at >= self._measure_from - 1e-9:
            # (A request in flight at the last cut was counted in the server's window before
            # it: not part of the rate sustained since.)
            self._measured += cost
        if self._target and taken_at is not None and taken_at >= self._verify_from:
            # Verifying the window: the budget doubles per round trip up to the whole burst.
            self.limit = min(self.limit + 2.0 * cost, self._target)
            if self.limit >= self._target:
                self._target, self._verify_from = 0.0, math.inf
        if probe:
            self.probe_in_flight = False
            window = self.window
            self._measure(now)
            self._probe_gap = self._slot()
            self.probe_at = now
            if self.window < 0.9 * window:
                self._confirmed = 0  # a faster rate: probe more often again (a bucket's
                # refill, taken by a probe now and then, is not one)
            self._cut_end = now  # new facts: the next 429s may cut again

    @property
    def step_began(self) -> float:
        """When the current count began (grants taken since count towards it): slow start's
        step, else the rate measured since the last cut."""
        return self._steps.at if self.slow_start else self._measure_from

    def may_tally(self) -> bool:
        """Whether answers may be told together (:meth:`accepted_together`): nothing but the
        counts moves per answer (no 429 episode, pause or window verification is open, and
        slow start's burst has begun)."""
        return (
            self._episode.at == _INF
            and not self._pause_level
            and not self._target
            and not (self.slow_start and self._burst_from == _INF)
        )

    def accepted_together(
        self,
        now: float,
        cost: float,
        count: int,
        fresh: float,
        saturated: bool,
        rtt_sum: float,
    ) -> None:
        """``count`` requests (``cost`` units), none of them a probe, were accepted by ``now``,
        told at once while :meth:`may_tally` holds (a lane's tally: ``_lane.py``). ``fresh``:
        the units of those taken since the current count began (:attr:`step_began`);
        ``saturated``: one of them took the budget's last units; ``rtt_sum``: their round
        trips' sum.
        One answer told so changes the controller exactly as :meth:`accepted`; several change
        it as one answer of their mean round trip, counted ``count`` times."""
        self.outstanding -= count
        self.refused_streak = 0
        if not self.adaptive:
            return
        srtt = self.srtt
        mean = rtt_sum / count
        self.srtt = srtt + (mean - srtt) * (1.0 - 0.875**count) if srtt else mean
        if mean < self.rtt_min:
            self.rtt_min = mean
        if self.slow_start:
            if self.limit != self._ahead_of:
                self._ahead_of, self._ahead = self.limit, past_plans(self.limit, self.levels)
                self._finite = math.isfinite(self.limit)
            if self._finite and self._steps.over_together(fresh, saturated, self._ahead):
                step = next_step(self.limit, self.levels, cost / count, merge=self.alone)
                self.limit += step
                self._steps.begin(now, self.limit - step, self.limit, cost / count)
            return
        self._measured += fresh

    def rate_limited(
        self,
        now: float,
        *,
        usage: float,
        retry_after: float | None,
        probe: bool,
        expected: float | None = None,
        taken_at: float | None = None,
        cost: float = 1.0,
        position: float = 0.0,
    ) -> float:
        """The server answered 429 to a grant taken at ``taken_at``. ``usage``: units the store
        logged in the current window; ``position``: units the window held (logged and open)
        when the grant was taken; ``expected`` (a probe): the seconds the window would still
        have kept it waiting.

        Returns the seconds to block the whole class (the server's ``Retry-After`` if given).
        """
        self.outstanding -= 1
        self.refused_streak += 1
        # (Not a token budget's estimates, nor a window other processes fill too.)
        alone_exact = self.alone and not self.estimated
        if self.slow_start and alone_exact and position < self._steps.refused:
            self._steps.refused = position
        if probe and not self.slow_start:
            self.probe_in_flight = False
            self._measure(now)
            self._probe_gap = min(self._probe_gap * 2.0, self.window / 4.0)
            self.probe_at = now + self._probe_gap
            elapsed = now - self._measure_from
            if retry_after is not None and (
                (expected is not None and retry_after >= expected / 2)
                or (elapsed >= self.window / 2 and self._measured <= 1.1 * self.rate * elapsed)
            ):
                # The server's wait matches the window's, or the probes found no rate above
                # the window's (a bucket frees a token soon, but one at a time): the model
                # holds; probe again only after the next window, then after 2, 4, at most 8
                # (a plan upgrade is still found within minutes; a steady limit costs few
                # 429s).
                self._confirmed = min(self._confirmed + 1, 4)
                skip = 2.0 ** (self._confirmed - 1)
                self.probe_at = now + retry_after + skip * self.window
        elif self.adaptive:
            self.probe_in_flight = False
            if self._is_real(now, retry_after, taken_at, cost, self.outstanding) or (
                # Verifying a window learnt from a wait: a 429 in the ramp is news enough.
                self._target
                and retry_after is not None
                and taken_at is not None
                and taken_at >= self._verify_from
            ):
                # Sent before the last cut: in flight when it was made, it says nothing new.
                if now >= self._cut_end and (taken_at is None or taken_at >= self._measure_from):
                    self._real_limit(now, usage, retry_after)
            elif not self.slow_start and now >= self._epoch_end:
                # An isolated 429 (noise, a neighbour): slow down moderately. (In slow start
                # the refused grant simply does not count towards the next step.)
                self.window = min(self.window / GENTLE, self.base_window)
                self._epoch_end = now + self._epoch()
        if self._hold_until > now:
            hold, self._hold_until = self._hold_until - now, 0.0
            if retry_after is None or not retry_after >= hold:
                return hold
        if retry_after is not None and math.isfinite(retry_after) and retry_after >= 0:
            return retry_after
        # No hint. A request sent before the last pause began says nothing new; otherwise the
        # pause grows per round trip: none for the first (the request's own retry backoff is
        # enough), then one slot, doubling, at most one window.
        if taken_at is not None and taken_at < self._paused_at:
            return 0.0
        self._pause_level += 1
        self._paused_at = now
        if self._pause_level == 1:
            return 0.0
        return min(self.window, self._slot() * 2.0 ** (self._pause_level - 2))

    def unknown(self, now: float, *, probe: bool) -> None:
        """The request ended without an answer (it may have been counted)."""
        self.outstanding -= 1
        if probe:
            self.probe_in_flight = False
