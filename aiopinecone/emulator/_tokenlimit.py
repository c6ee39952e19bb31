"""Input-token limits per (scaled) minute for chat and context, as Pinecone limits chat.

Kinds: ``chat`` (chat and chat completions) and ``context``. Algorithm: a sliding-window log per
kind, like the per-class request windows (``_ratelimit``), weighted by tokens. A request is
accepted iff the tokens accepted during the last window plus its own fit the limit, or nothing
was accepted during the window (a single request larger than the whole limit then passes
alone, rather than never). Its tokens are exactly what its answer reports as
``usage.prompt_tokens``: the handler counts them (messages, instructions, retrieved snippets)
and charges them (:func:`charge_tokens`) before it answers. A rejected request is not counted;
it gets 429 ``RESOURCE_EXHAUSTED`` with ``Retry-After`` (whole seconds, at least 1),
``X-Emulator-Retry-After-Ms`` and, with a time-scaled minute, ``Retry-After-Ms``: the time until
enough tokens leave the window.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any, Final

from aiohttp import web

from ._errors import RETRY_AFTER_MS_HEADER, SCALED_RETRY_AFTER_HEADER, ApiError

__all__ = ["TOKEN_KINDS", "TOKEN_LIMITS_KEY", "TokenLimits", "TokensRejected", "charge_tokens"]

TOKEN_KINDS: Final = ("chat", "context")


class TokensRejected(ApiError):
    """A request over its kind's token limit (the 429 the error middleware sends)."""


class _Window:
    __slots__ = ("accepted", "accepted_tokens", "entries", "rejected", "used")

    def __init__(self) -> None:
        self.entries: deque[tuple[float, int]] = deque()  # (accepted at, tokens)
        self.used = 0
        self.accepted = 0
        self.accepted_tokens = 0
        self.rejected = 0


class TokenLimits:
    """Input tokens per window for ``chat`` and ``context``, with counters.

    ``window`` returns the window's length in seconds now (the rate limiter's scaled minute);
    ``clock`` monotonic seconds. A kind without a limit is not limited (and keeps no history).
    """

    def __init__(
        self, window: Callable[[], float], *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._window = window
        self._clock = clock
        self._lock = threading.Lock()
        self._limits: dict[str, int] = {}
        self._windows = {kind: _Window() for kind in TOKEN_KINDS}

    @property
    def limits(self) -> Mapping[str, int | None]:
        """Input tokens per window of each kind (None: unlimited)."""
        return {kind: self._limits.get(kind) for kind in TOKEN_KINDS}

    def configure(self, limits: object) -> None:
        """Replace the limits: ``{"chat": tokens, "context": tokens}`` (a kind left out or
        None: unlimited). Tokens already accepted stay in their window."""
        if not isinstance(limits, Mapping):
            raise TypeError(f"token limits must be a mapping of kind to tokens, got {limits!r}")
        checked: dict[str, int] = {}
        for kind, limit in limits.items():
            if kind not in TOKEN_KINDS:
                raise ValueError(
                    f"unknown token kind {kind!r}: use one of {', '.join(TOKEN_KINDS)}"
                )
            if limit is None:
                continue
            if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
                raise ValueError(f"the token limit of {kind} must be an int >= 1, got {limit!r}")
            checked[kind] = limit
        with self._lock:
            self._limits = checked

    def reset(self) -> None:
        """Forget every accepted request and zero the counters."""
        with self._lock:
            self._windows = {kind: _Window() for kind in TOKEN_KINDS}

    def take(self, kind: str, tokens: int) -> float:
        """Accept ``tokens`` of ``kind`` now (0.0), or the seconds until they would fit."""
        with self._lock:
            book = self._windows[kind]
            limit = self._limits.get(kind)
            if limit is None:
                book.accepted += 1
                book.accepted_tokens += tokens
                return 0.0
            now, window = self._clock(), self._window()
            entries = book.entries
            # The epsilon absorbs float rounding so that waiting exactly the wait is enough.
            horizon = now - window + 1e-9
            while entries and entries[0][0] <= horizon:
                book.used -= entries.popleft()[1]
            if book.used + tokens <= limit or not entries:
                entries.append((now, tokens))
                book.used += tokens
                book.accepted += 1
                book.accepted_tokens += tokens
                return 0.0
            book.rejected += 1
            need, freed = book.used + tokens - limit, 0
            for stamp, cost in entries:
                freed += cost
                if freed >= need:
                    return max(stamp + window - now, 0.001)
            return max(entries[-1][0] + window - now, 0.001)

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """Per kind: ``limit``, ``used`` (in the window now), ``accepted`` (requests),
        ``accepted_tokens``, ``rejected`` (requests), since start or :meth:`reset`."""
        with self._lock:
            return {
                kind: {
                    "limit": self._limits.get(kind),
                    "used": book.used,
                    "accepted": book.accepted,
                    "accepted_tokens": book.accepted_tokens,
                    "rejected": book.rejected,
                }
                for kind, book in self._windows.items()
            }

    def rejection(self, kind: str, tokens: int, wait: float) -> TokensRejected:
        """The 429 of a request of ``tokens`` over ``kind``'s limit, ``wait`` s before a retry."""
        seconds = max(1, math.ceil(wait))
        millis = str(math.ceil(wait * 1000))
        headers = {"Retry-After": str(seconds), RETRY_AFTER_MS_HEADER: millis}
        window = self._window()
        minute = "minute"
        if window != 60.0:
            minute = f"{window:g} s (scaled minute)"
            headers[SCALED_RETRY_AFTER_HEADER] = millis
        return TokensRejected(
            429,
            "RESOURCE_EXHAUSTED",
            f"Rate limit exceeded for {kind} input tokens: {self._limits.get(kind)} tokens per "
            f"{minute}, this request has {tokens}. Retry after {seconds} s.",
            headers=headers,
        )


TOKEN_LIMITS_KEY: Final = web.RequestKey("aiopinecone_emulator_token_limits", TokenLimits)
"""Request key under which the rate limiter hands the handlers the token limits."""


def charge_tokens(request: web.Request, kind: str, tokens: int) -> None:
    """Count a request's input tokens against ``kind``'s limit; raise its 429 when over."""
    limits = request.get(TOKEN_LIMITS_KEY)
    if limits is None:
        return
    wait = limits.take(kind, tokens)
    if wait > 0.0:
        raise limits.rejection(kind, tokens, wait)
