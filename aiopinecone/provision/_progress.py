"""Progress of a provisioning run: per-phase counts, rate and ETA, on one line.

On a terminal the line is redrawn in place a few times a second; anywhere else (a CI log, a
pipe) a plain line is written every few seconds when something changed, plus a final one.
Standard library only.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from typing import TextIO

import attrs

__all__ = ["PHASES", "ProgressDisplay"]

PHASES = ("create", "update", "ready", "upload", "process", "delete")
"""The phases a run reports, in display order."""


@attrs.define
class _Phase:
    total: int = 0
    done: int = 0
    failed: int = 0
    began: float | None = None
    ended: float | None = None


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
    ``interval`` is the seconds between plain lines when not on a terminal. The provisioner calls
    :meth:`add_total`, :meth:`advance` and :meth:`rate_limited`; :meth:`render` gives the line.
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        tty: bool | None = None,
        interval: float = 5.0,
        refresh: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        if tty is None:
            isatty = getattr(self.stream, "isatty", None)
            tty = bool(isatty()) if callable(isatty) else False
        self.tty = tty
        self.interval = interval
        self.refresh = refresh
        self._clock = clock
        self._phases = {p: _Phase() for p in PHASES}
        self._rate_limited = 0
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
        if state.began is None:
            state.began = self._clock()
        state.done += n
        if failed:
            state.failed += n
        state.ended = self._clock() if state.done >= state.total else None
        self._changed = True

    def rate_limited(self, n: int = 1) -> None:
        """The server answered 429 ``n`` times."""
        self._rate_limited += n
        self._changed = True

    def counts(self, phase: str) -> tuple[int, int, int]:
        """(done, total, failed) of ``phase``."""
        state = self._phases[phase]
        return state.done, state.total, state.failed

    def render(self, now: float | None = None) -> str:
        """The status line at ``now``."""
        now = self._clock() if now is None else now
        parts: list[str] = []
        for name, state in self._phases.items():
            if not state.total:
                continue
            text = f"{name} {state.done}/{state.total}"
            if state.failed:
                text += f" ({state.failed} failed)"
            end = state.ended if state.ended is not None else now
            elapsed = end - (state.began if state.began is not None else self._started)
            remaining = state.total - state.done
            if state.done and elapsed > 0:
                rate = state.done / elapsed
                text += f" {rate:.1f}/s"
                if remaining > 0:
                    text += f" ETA {_duration(remaining / rate)}"
            parts.append(text)
        if self._rate_limited:
            parts.append(f"429s {self._rate_limited}")
        parts.append(_duration(now - self._started))
        return " | ".join(parts)

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
        line = self.render(now)
        if self.tty:
            self.stream.write(f"\r{line}\x1b[K")
        elif line != self._last_line:
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
