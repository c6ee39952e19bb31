"""One rate budget per project in this process: the store every default client of it shares.

A client that builds its governor itself (no ``Governor`` given, no Redis) takes its project's
:class:`ProjectStore` (:func:`project_store`), the in-process analogue of the Redis store:

- **one budget**: clients of one project open at once count against one window, and a
  ``Retry-After`` one of them meets pauses the class for all of them;
- **what the server still counts**: a client made after another closed (a client per batch or
  per web request) sees the requests of the window that is still running, and does not burst
  it again;
- **what was learnt**: each adaptive class's numbers (``Controller.state()``) are kept when a
  client closes (:meth:`ProjectStore.leave`) and adopted by the next gate of that class, in
  any client of the project (:meth:`ProjectStore.adopt`); so is each token class's learnt
  overhead (:meth:`ProjectStore.join`). A gate also adopts what the clients open now have
  learnt so far, without waiting for them to close.

Stores are per project (``RateLimits.namespace``, else :func:`project_namespace`, as for Redis)
*and per thread*: a store is not thread-safe, and a client of another thread runs another event
loop (a client belongs to the thread that creates it). The registry holds its stores strongly
for the life of the thread: a store is small (one window log per class, a few numbers), one per
project the thread uses. :func:`forget_projects` empties it in every thread (tests: each starts
like a fresh process).
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Final

from ._budgets import TokenBook
from ._controller_sharing import MIN_WINDOW
from ._gate import ClassGate
from ._store import Grant, MemoryStore
from ._tokens import Overhead

if TYPE_CHECKING:
    from ._controller import Controller
    from ._governor import Governor

__all__ = [
    "ProjectGate",
    "ProjectStore",
    "forget_projects",
    "project_namespace",
    "project_store",
]

BASE_WINDOW: Final = "base_window"
"""The saved state's extra number: the window the client was told. Numbers learnt under
another one (a time-scaled "minute", a real one) are not adopted."""
PROBE_AT: Final = "probe_at"
"""The saved state's other extra number: when the class may probe next (this process's
monotonic clock; an adopted limit is probed no sooner than its client would have)."""


def project_namespace(api_key: str, host: str) -> str:
    """The default budget name of a project: a short hash of the control host and API key
    (clients and processes with the same key share a budget; the key itself is never kept)."""
    digest = hashlib.sha256(f"{host}\n{api_key}".encode()).hexdigest()
    return f"p{digest[:16]}"


class ProjectStore(MemoryStore):
    """The :class:`~._store.MemoryStore` of one project in one thread, shared by the governors
    of the clients that built theirs themselves (``members``: those not closed yet), with the
    numbers they learnt. Its accounting is the MemoryStore's, unchanged (the hot path is the
    same); gate creation (:meth:`gate`), :meth:`join` and :meth:`leave` are added."""

    def __init__(self, namespace: str, *, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(clock=clock)
        self.namespace = namespace
        self._members: weakref.WeakSet[Governor] = weakref.WeakSet()
        self._overheads: dict[str, Overhead] = {}

    def __repr__(self) -> str:
        return f"ProjectStore({self.namespace!r}, clients={len(self._members)})"

    def join(self, governor: Governor) -> None:
        """``governor`` (a new client's) uses this store: it starts with the token overheads
        the project learnt so far."""
        for other in self._members:
            self._keep_all(other)
        self._members.add(governor)
        for cls, overhead in self._overheads.items():
            book = governor.token_books.get(cls)
            if book is None:
                book = governor.token_books[cls] = TokenBook()
            book.overhead.value, book.overhead.learnt = overhead.value, overhead.learnt
            book.overhead.samples = overhead.samples

    def gate(self, cls: str, controller: Controller, governor: Governor, now: float) -> ClassGate:
        """``governor``'s new gate of ``cls`` (``controller``: a new one; see :meth:`adopt`)."""
        return ProjectGate(cls, self.adopt(cls, controller, governor, now), self)

    def crowded(self) -> bool:
        """Whether several clients use the store now (one's settle may free room another's
        queue waits for, and nothing wakes that queue)."""
        return len(self._members) > 1

    def adopt(self, cls: str, controller: Controller, governor: Governor, now: float) -> Controller:
        """The controller of ``governor``'s new gate of ``cls``: that of an open client of
        the project with the same limits, if one has the class (one controller learns from
        both, as if they were one client); else ``controller`` (new), starting from what
        the project learnt (the open clients' numbers so far, else the last ones kept).

        A limit found at a real 429 is adopted as such (``Controller.load``: the window too,
        out of slow start, and when the next probe may go). A slow start's limit is adopted as
        a step not yet confirmed (``adopt_limit``): the limit saved mid slow start is the
        current step's target, which the server may not have accepted yet, so the next step
        waits for the acceptances a step of that size needs (not a step past it at the first
        answer)."""
        others = []
        for other in self._members:
            current = other.controllers().get(cls) if other is not governor else None
            if current is not None:
                if other.limits == governor.limits:
                    return current
                others.append(current)
                self._keep(cls, current)
        state = self.load_state_now(cls)
        if (
            controller.adaptive
            and state is not None
            and state.get(BASE_WINDOW) == controller.base_window
        ):
            if state.get("slow_start", 0.0):
                controller.adopt_limit(now, state["limit"])
                controller.resume(state)  # the step as far as the last client took it
            else:
                controller.load(state, now=now)
                controller.probe_at = max(controller.probe_at, state.get(PROBE_AT, 0.0))
        # Clients of one project with other limits learn apart: none of them sees every
        # acceptance of the project's (as processes sharing Redis).
        controller.alone = not others
        for current in others:
            current.alone = False
        return controller

    def leave(self, governor: Governor) -> None:
        """``governor``'s client closed: keep what it learnt for the next clients."""
        self._keep_all(governor)
        self._members.discard(governor)

    def _keep_all(self, governor: Governor) -> None:
        for cls, controller in governor.controllers().items():
            self._keep(cls, controller)
        for cls, book in governor.token_books.items():
            if book.overhead.learnt:
                kept = self._overheads.setdefault(cls, Overhead())
                kept.value, kept.learnt = book.overhead.value, True
                kept.samples = book.overhead.samples

    def _keep(self, cls: str, controller: Controller) -> None:
        """Keep ``controller``'s numbers for ``cls``, unless they say less than those kept: a
        slow start (no limit met yet) replaces nothing that sustains a faster rate, nor a
        limit met at the same rate, and an infinite one (a class never throttled) says
        nothing. A limit met replaces what was kept (the latest news from the server), and a
        slow start at the same rate the one kept (its step has gone further)."""
        if not controller.adaptive:
            return
        state = controller.state()
        if not math.isfinite(state["limit"]):
            return
        state[BASE_WINDOW] = controller.base_window
        state[PROBE_AT] = controller.probe_at
        state.update(controller.progress())
        kept = self.load_state_now(cls)
        if (
            controller.slow_start
            and kept is not None
            and kept.get(BASE_WINDOW) == controller.base_window
            and _says_more(kept, state)
        ):
            return
        self.save_state_now(cls, state)


def _says_more(kept: Mapping[str, float], slow: Mapping[str, float]) -> bool:
    """Whether ``kept`` says more than ``slow``, a slow start's state: a faster rate, or the
    same rate met as a limit (a slow start at the same rate has only gone further)."""
    kept_rate, rate = kept["limit"] / kept["window"], slow["limit"] / slow["window"]
    return kept_rate > rate or (kept_rate == rate and not kept.get("slow_start"))


class ProjectGate(ClassGate):
    """The gate of a class whose store several clients may use at once: a queue's head kept
    waiting by another client's grants, or while the project's slow start may grow the limit
    at another client's answer, looks again after a round trip (as through Redis) rather than
    for an answer of its own client only. The same gate as any other until refused."""

    __slots__ = ()

    def _after_refusal(
        self, now: float, wait: float, waited_since: float, probe: Grant | float | None
    ) -> Grant | float:
        got = super()._after_refusal(now, wait, waited_since, probe)
        if isinstance(got, float) and (math.isinf(got) or self.controller.slow_start):
            store = self.store
            if isinstance(store, ProjectStore) and store.crowded():
                return min(got, max(self.controller.srtt, MIN_WINDOW))
        return got


class _Registry(threading.local):
    """This thread's stores by namespace (``generation``: see :func:`forget_projects`)."""

    def __init__(self) -> None:
        self.generation = _generation
        self.stores: dict[str, ProjectStore] = {}


_generation = 0
_registry: Final = _Registry()


def project_store(namespace: str) -> ProjectStore:
    """This thread's store of the project ``namespace`` (created on first use, then kept)."""
    registry = _registry
    if registry.generation != _generation:
        registry.stores, registry.generation = {}, _generation
    store = registry.stores.get(namespace)
    if store is None:
        store = registry.stores[namespace] = ProjectStore(namespace)
    return store


def forget_projects() -> None:
    """Forget what this process kept of every project's rate budget, in every thread: the next
    client of a project starts as in a fresh process (clients open now keep the store they
    have). For test suites that reset an emulator between tests with the same host and key
    (the ``pinecone_emulator`` fixture calls it for each test)."""
    global _generation
    _generation += 1
