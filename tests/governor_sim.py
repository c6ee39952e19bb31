"""A discrete-event simulation of one operation class under a fake clock (no sleeping).

N requests, each retried until accepted, go through a :class:`ClassGate` (the governor's own
rules, FIFO like the governor) to a simulated server: a sliding-window limit (Pinecone's
per-minute shape), a token bucket, optional random 429s. The answer arrives ``latency`` seconds
after the send; the server decides at half of it.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from aiopinecone._governor._controller import Controller
from aiopinecone._governor._gate import ACCEPTED, RATE_LIMITED, ClassGate, Ticket
from aiopinecone._governor._store import MemoryStore


@dataclass
class Window:
    """At most ``limit`` accepted per ``window`` seconds (sliding log)."""

    limit: int
    window: float
    log: deque[float] = field(default_factory=deque)

    def decide(self, t: float) -> float | None:
        while self.log and self.log[0] + self.window <= t:
            self.log.popleft()
        if len(self.log) < self.limit:
            self.log.append(t)
            return None
        return self.log[0] + self.window - t

    def ideal(self, n: int) -> float:
        return ((n - 1) // self.limit) * self.window


@dataclass
class Bucket:
    """A token bucket: ``capacity`` tokens, ``rate`` per second."""

    rate: float
    capacity: float
    tokens: float = -1.0
    at: float = 0.0

    def decide(self, t: float) -> float | None:
        if self.tokens < 0:
            self.tokens = self.capacity
        self.tokens = min(self.capacity, self.tokens + (t - self.at) * self.rate)
        self.at = t
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return None
        return (1.0 - self.tokens) / self.rate

    def ideal(self, n: int) -> float:
        return max(0.0, (n - self.capacity) / self.rate)


@dataclass
class Result:
    wall: float
    ideal: float
    accepted: int
    refused: int
    limit: float
    window: float

    @property
    def ratio(self) -> float:
        return self.wall / self.ideal if self.ideal > 0 else math.inf

    @property
    def refused_per_accepted(self) -> float:
        return self.refused / self.accepted


def simulate(
    server: Window | Bucket,
    controller: Controller,
    *,
    n: int,
    latency: float = 0.005,
    noise: float = 0.0,
    retry_after: Callable[[float], float | None] | None = lambda s: s,
    seed: int = 0,
    horizon: float = 600.0,
    concurrency: int | None = None,
    fast_refusals: bool = False,
) -> Result:
    """Run ``n`` requests to acceptance (or until ``horizon`` simulated seconds), at most
    ``concurrency`` of them under way at once (None: all). ``fast_refusals``: the server
    answers a 429 as soon as it decides (a tenth of the latency), an acceptance after the
    whole latency."""
    rng = random.Random(seed)
    clock = [0.0]
    store = MemoryStore(clock=lambda: clock[0])
    gate = ClassGate("c", controller, store)
    events: list[tuple[float, int, Callable[[], None]]] = []
    seq = itertools.count()
    waiting: deque[tuple[int, float]] = deque()  # (request, waiting since)
    wake_at = [math.inf]
    stats = {"accepted": 0, "refused": 0, "done": 0, "last": 0.0}

    def at(t: float, fn: Callable[[], None]) -> None:
        heapq.heappush(events, (t, next(seq), fn))

    def pump() -> None:
        now = clock[0]
        while waiting:
            request, since = waiting[0]
            got = gate.try_take(now, 1.0, since)
            if isinstance(got, Ticket):
                waiting.popleft()
                send(request, got)
                continue
            wake = now + max(got, 1e-6)
            if wake < wake_at[0] or wake_at[0] <= now:
                wake_at[0] = wake
                at(wake, pump)
            return

    def send(request: int, ticket: Ticket) -> None:
        sent = clock[0]

        def arrive() -> None:
            if noise and rng.random() < noise:
                verdict: float | None = math.nan  # a random 429 without a hint, not counted
            else:
                verdict = server.decide(clock[0])
            answered = sent + latency
            if fast_refusals and verdict is not None:
                answered = sent + latency / 10
            at(answered, lambda: answer(request, ticket, verdict))

        at(sent + (latency / 20 if fast_refusals else latency / 2), arrive)

    def answer(request: int, ticket: Ticket, verdict: float | None) -> None:
        now = clock[0]
        if verdict is None:
            gate.settle(now, ticket, ACCEPTED, waiting=bool(waiting))
            stats["accepted"] += 1
            stats["done"] += 1
            stats["last"] = now
            if backlog:
                waiting.append((backlog.popleft(), now))
        else:
            hint = None if math.isnan(verdict) or retry_after is None else retry_after(verdict)
            gate.settle(now, ticket, RATE_LIMITED, retry_after=hint)
            stats["refused"] += 1
            waiting.append((request, now))
        pump()

    active = n if concurrency is None else min(n, concurrency)
    backlog = deque(range(active, n))
    for i in range(active):
        waiting.append((i, 0.0))
    at(0.0, pump)
    while events and stats["done"] < n:
        t, _, fn = heapq.heappop(events)
        if t > horizon:
            break
        clock[0] = t
        fn()
    return Result(
        wall=stats["last"] if stats["done"] == n else math.inf,
        ideal=server.ideal(n) + latency,
        accepted=int(stats["accepted"]),
        refused=int(stats["refused"]),
        limit=controller.limit,
        window=controller.window,
    )
