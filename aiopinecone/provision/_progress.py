"""Progress of a provisioning run: per-phase counts, recent rate and ETA, on one line.

On a terminal the line is redrawn in place a few times a second and never wider than the
terminal (asked at every redraw, so a resized window is followed): when the full line does not
fit, rates, finished phases (while others run), per-phase ETAs and the request count are left
out, in that order, and what still does not fit is cut. Anywhere else (a CI log, a pipe) a full
plain line is written every few seconds when something changed, plus a final one. Standard
library only.

Figures: ``upload 60/96 12.0/s ETA 3s`` is done/total, the rate over the last ``window``
seconds (shown once a phase has run for a second; a finished phase shows only its count) and
the time left at the slower of that rate and the rate limit of the phase's operation class
(:meth:`ProgressDisplay.set_ceilings`), so a phase held back by a limit is not promised the
speed of its first burst.
"""

from __future__ import annotations

import asyncio
import collections
import os
import sys
import time
from collections.abc import Callable, Mapping
from typing import TextIO

import attrs

from .._table import clip

__all__ = ["PHASES", "ProgressDisplay"]

PHASES = ("create", "update", "ready", "upload", "process", "delete")
"""The phases a run reports, in display order."""

_MIN_SPAN = 1.0  # seconds of history before a rate means something


@attrs.define
class _Phase:
    total: int = 0
    done: int = 0
    failed: int = 0
    began: float | None = None
    # (time, done) after each advance, the last `window` seconds of them (and one before).
    samples: collections.deque[tuple[float, int]] = attrs.field(factory=collections.deque)

    def rate(self, now: float, window: float) -> float | None:
        """Units per second over the last ``window`` seconds (``None``: too little history)."""
        if self.began is None:
            return None
        start = max(self.began, now - window)
        if now - start < _MIN_SPAN:
            return None
        done_then = 0
        for t, done in self.samples:
            if t > start:
                break
            done_then = done
        return (self.done - done_then) / (now - start)

    def remember(self, now: float, window: float) -> None:
        self.samples.append((now, self.done))
        while len(self.samples) > 1 and self.samples[1][0] <= now - window:
            self.samples.popleft()


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


class ProgressDisplay:
    """Counts per phase, rendered as a status line on ``stream`` (default: standard error).

    ``tty`` forces (or disables) the redrawn line; by default it follows ``stream.isatty()``.
    ``width`` fixes the line's width on a terminal (default: the terminal's, asked at each
    redraw). ``interval`` is the seconds between plain lines when not on a terminal; ``window``
    the seconds of history a rate is measured over. The provisioner calls :meth:`add_total`,
    :meth:`advance`, :meth:`rate_limited`, :meth:`requested` and :meth:`set_ceilings`;
    :meth:`render` gives the line.
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        tty: bool | None = None,
        width: int | None = None,
        interval: float = 5.0,
        refresh: float = 0.2,
        window: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        if tty is None:
            isatty = getattr(self.stream, "isatty", None)
            tty = bool(isatty()) if callable(isatty) else False
        self.tty = tty
        self.width = width
        self.interval = interval
        self.refresh = refresh
        self.window = window
        self._clock = clock
        self._phases = {p: _Phase() for p in PHASES}
        self._rate_limited = 0
        self._requests = 0
        self._ceilings: Callable[[], Mapping[str, float]] | None = None
        self._started = clock()
        self._last_write: float | None = None
        self._last_line = ""
        self._changed = False
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def add_total(self, phase: str, n: int = 1) -> None:
        """``n`` more units of work are planned in ``phase``."""
        state = self._phases[phase]
        state.total += n
        if state.began is None:
            state.began = self._clock()
        self._changed = True

    def advance(self, phase: str, n: int = 1, *, failed: bool = False) -> None:
        """``n`` units of ``phase`` ended (``failed``: they ended in error)."""
        state = self._phases[phase]
        now = self._clock()
        if state.began is None:
            state.began = now
        state.done += n
        if failed:
            state.failed += n
        state.remember(now, self.window)
        self._changed = True

    def rate_limited(self, n: int = 1) -> None:
        """The server answered 429 ``n`` times."""
        self._rate_limited += n
        self._changed = True

    def requested(self, n: int = 1) -> None:
        """``n`` more requests were sent (every request of the run, reads included)."""
        self._requests += n
        self._changed = n > 0 or self._changed

    def set_ceilings(self, ceilings: Callable[[], Mapping[str, float]] | None) -> None:
        """Where the most units per second each phase may run at comes from (the rate limits
        of its operation class, asked at each render; a phase absent from it: no limit)."""
        self._ceilings = ceilings

    def counts(self, phase: str) -> tuple[int, int, int]:
        """(done, total, failed) of ``phase``."""
        state = self._phases[phase]
        return state.done, state.total, state.failed

    def _parts(self, now: float, level: int) -> list[str]:
        # level 0: everything; 1: no rates; 2: no finished phases while others run; 3: one
        # overall ETA instead of one per phase; 4: no request count; 5: no finished phases.
        ceilings = self._ceilings() if self._ceilings is not None else {}
        parts: list[str] = []
        etas: list[float] = []
        running = any(s.done < s.total for s in self._phases.values())
        hide_finished = level >= 5 or (level >= 2 and running)
        for name, state in self._phases.items():
            if not state.total:
                continue
            remaining = state.total - state.done
            if remaining <= 0 and hide_finished:
                continue
            text = f"{name} {state.done}/{state.total}"
            if state.failed:
                text += f" ({state.failed} failed)"
            if remaining > 0:
                rate = state.rate(now, self.window)
                ceiling = ceilings.get(name)
                if rate is not None and level < 1:
                    text += f" {rate:.1f}/s"
                # A stalled phase (rate 0) still gets an ETA from its limit, if it has one.
                paces = [r for r in (rate, ceiling) if r]
                pace = min(paces) if paces else None
                if pace is not None:
                    etas.append(remaining / pace)
                    if level < 3:
                        text += f" ETA {_duration(remaining / pace)}"
            parts.append(text)
        if level >= 3 and etas:
            parts.append(f"ETA {_duration(max(etas))}")
        if self._rate_limited:
            parts.append(f"429s {self._rate_limited}")
        if self._requests and level < 4:
            parts.append(f"{self._requests} req{'s' if self._requests != 1 else ''}")
        parts.append(_duration(now - self._started))
        return parts

    def render(self, now: float | None = None, *, width: int | None = None) -> str:
        """The status line at ``now``, at most ``width`` characters (``None``: no limit)."""
        now = self._clock() if now is None else now
        line = " | ".join(self._parts(now, 0))
        if width is None:
            return line
        for level in range(1, 6):
            if len(line) <= width:
                break
            line = " | ".join(self._parts(now, level))
        return clip(line, width)

    def _terminal_width(self) -> int:
        if self.width is not None:
            return self.width
        try:
            columns = os.get_terminal_size(self.stream.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
        return columns if columns > 0 else 80

    def tick(self, now: float | None = None, *, force: bool = False) -> None:
        """Write the line if it is due (always on a terminal when it changed)."""
        now = self._clock() if now is None else now
        if self._closed:
            return
        due = (
            force
            or self._last_write is None
            or (self.tty and self._changed)
            or (self._changed and now - self._last_write >= self.interval)
        )
        if not due:
            return
        if self.tty:
            # One column short of the edge: a character in the last column makes some
            # terminals wrap on the next one, and the line would no longer redraw in place.
            line = self.render(now, width=max(self._terminal_width() - 1, 1))
            self.stream.write(f"\r{line}\x1b[K")
        else:
            line = self.render(now)
            if line != self._last_line:
                self.stream.write(f"progress: {line}\n")
        self.stream.flush()
        self._last_line = line
        self._last_write = now
        self._changed = False

    async def _refresh(self) -> None:
        period = self.refresh if self.tty else min(self.refresh * 5, self.interval)
        while True:
            await asyncio.sleep(period)
            self.tick()

    def start(self) -> None:
        """Start redrawing in the background (inside a running event loop)."""
        if self._task is None and not self._closed:
            self.tick(force=True)
            self._task = asyncio.get_running_loop().create_task(self._refresh())

    async def aclose(self) -> None:
        """Stop redrawing and write the final line."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            # asyncio.wait never raises the task's CancelledError, and lets ours through.
            await asyncio.wait([task])
        self.close()

    def close(self) -> None:
        """Write the final line (ending the redrawn line on a terminal)."""
        if self._closed:
            return
        self.tick(force=True)
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()
        self._closed = True
