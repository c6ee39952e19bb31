"""The fault injector: scripts and chaos, and the middleware that applies them."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from .._paths import ADMIN_PREFIX
from ._chaos import Chaos, ChaosEngine, make_chaos
from ._kinds import Fault
from ._script import Script
from ._wire import FAULT_KEY


class FaultInjector:
    """Scripted faults and seeded chaos, applied by :attr:`middleware`.

    ``script()`` queues faults for matching requests; ``chaos()`` turns on a reproducible random
    mix for the requests no script claims; ``clear()`` removes both.
    """

    def __init__(self) -> None:
        # The emulator may serve from its own thread while a test scripts faults from another.
        self._lock = threading.Lock()
        self._scripts: list[Script] = []
        self._chaos: ChaosEngine | None = None
        self.applied = 0
        """How many faults were applied (passthroughs not counted), since start or ``clear()``."""

    @property
    def scripts(self) -> tuple[Script, ...]:
        """The scripts still active, in matching order."""
        return tuple(self._scripts)

    @property
    def chaos_config(self) -> Chaos | None:
        """The chaos configuration in force, if any."""
        return self._chaos.config if self._chaos is not None else None

    def script(
        self,
        method: str,
        path_pattern: str,
        faults: Fault | Iterable[Fault],
        *,
        repeat: bool = False,
    ) -> Script:
        """Queue ``faults`` for successive requests matching ``method`` and ``path_pattern``.

        ``method`` is an HTTP method or ``"*"``. Returns the script (``.consumed``,
        ``.remaining``). Scripts match in the order they were added.
        """
        sequence = (faults,) if isinstance(faults, Fault) else tuple(faults)
        script = Script(method, path_pattern, sequence, repeat=repeat)
        with self._lock:
            self._scripts.append(script)
        return script

    def chaos(
        self,
        seed: int,
        rates: Mapping[str, float] | None = None,
        paths: Iterable[str] | None = None,
        *,
        methods: Iterable[str] | None = None,
        delay: Sequence[float] = (0.05, 0.5),
        retry_after: Sequence[int] = (0, 2),
        max_consecutive: int | None = None,
    ) -> Chaos:
        """Inject a reproducible random mix of faults (replaces any previous chaos).

        ``rates`` maps each of :data:`CHAOS_KINDS` to the probability that a request gets it
        (default :data:`DEFAULT_CHAOS_RATES`, 20% in all; the sum must be <= 1). ``paths``:
        patterns chaos applies to (default ``["/assistant/**"]``, every API route); ``methods``:
        the methods it applies to (default all). ``delay``: the (low, high) seconds of a
        ``delay`` fault; ``retry_after``: the (low, high) whole seconds of a 429's
        ``Retry-After``. ``max_consecutive``: after that many faults in a row on one method and
        path the next request there is spared (None: no cap), so a client with enough retries
        always gets through.
        """
        config = make_chaos(seed, rates, paths, methods, delay, retry_after, max_consecutive)
        engine = ChaosEngine(config)
        with self._lock:
            self._chaos = engine
        return config

    def stop_chaos(self) -> None:
        """Turn chaos off (scripts stay)."""
        with self._lock:
            self._chaos = None

    def clear(self) -> None:
        """Remove every script and turn chaos off."""
        with self._lock:
            self._scripts.clear()
            self._chaos = None
            self.applied = 0

    def next_fault(self, method: str, path: str) -> tuple[Fault, str] | None:
        """Pick (and consume) the fault for one request: ``(fault, log label)`` or None."""
        with self._lock:
            return self._next_fault(method, path)

    def _next_fault(self, method: str, path: str) -> tuple[Fault, str] | None:
        for index, script in enumerate(self._scripts):
            if script.matches(method, path):
                fault = script.take()
                if script.exhausted:
                    del self._scripts[index]
                if not fault.injects:
                    return None
                self.applied += 1
                return fault, fault.describe()
        if self._chaos is not None:
            fault_or_none = self._chaos.pick(method, path)
            if fault_or_none is not None:
                self.applied += 1
                return fault_or_none, "chaos:" + fault_or_none.describe()
        return None

    def snapshot(self) -> dict[str, Any]:
        """Scripts and chaos as JSON-ready data (what ``GET /__emulator/faults`` returns)."""
        with self._lock:
            chaos = self._chaos
            return {
                "scripts": [s.to_json() for s in self._scripts],
                "chaos": chaos.config.to_json() if chaos is not None else None,
                "chaos_injected": chaos.injected if chaos is not None else 0,
                "applied": self.applied,
            }

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """aiohttp middleware: apply the next scripted or chaos fault, if any."""
        if not self._scripts and self._chaos is None:
            return await handler(request)
        path = request.path
        if path.startswith(ADMIN_PREFIX):
            return await handler(request)
        chosen = self.next_fault(request.method, path)
        if chosen is None:
            return await handler(request)
        fault, label = chosen
        request[FAULT_KEY] = label
        return await fault.apply(request, handler)
