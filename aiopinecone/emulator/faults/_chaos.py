"""Seeded chaos: a reproducible random mix of faults for the requests no script claims.

The fault a request gets is a pure function of the seed, its method, its path and how many
earlier requests with the same method and path chaos has seen: the same seed and the same
request order give the same faults, and concurrent requests to different paths cannot change
each other's faults.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

import attrs

from .._paths import check_method, compile_path_pattern
from ._kinds import Fault
from ._values import check_seconds

_PROXY_502_BODY: Final = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n"
)

CHAOS_KINDS: Final = (
    "429",
    "429_no_retry_after",
    "500",
    "502",
    "503",
    "500_after",
    "drop_before",
    "drop_after",
    "delay",
)
"""What chaos injects: ``429`` (with ``Retry-After``), ``429_no_retry_after``, ``500``, ``502`` (an
HTML proxy page, not JSON), ``503``, ``500_after`` (performed, then 500: a lost response),
``drop_before``, ``drop_after`` (performed, then the connection is closed), ``delay`` (slow, then
performed normally)."""

DEFAULT_CHAOS_RATES: Final[Mapping[str, float]] = {
    "429": 0.03,
    "429_no_retry_after": 0.02,
    "500": 0.02,
    "502": 0.02,
    "503": 0.02,
    "500_after": 0.02,
    "drop_before": 0.02,
    "drop_after": 0.02,
    "delay": 0.03,
}
"""The default mix: 20% of requests get a fault."""

_FIXED_CHAOS_FAULTS: Final = {
    "429_no_retry_after": Fault.status(429, message="Too many requests (emulator chaos)."),
    "500": Fault.status(500, message="Internal server error (emulator chaos)."),
    "502": Fault.status(502, body=_PROXY_502_BODY, content_type="text/html"),
    "503": Fault.status(503, message="Service unavailable (emulator chaos)."),
    "500_after": Fault.perform_then_status(500, message="Internal server error (emulator chaos)."),
    "drop_before": Fault.drop_before(),
    "drop_after": Fault.drop_after(),
}


def _pair(value: object, name: str) -> tuple[float, float]:
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise TypeError(f"{name} must be a (low, high) pair, got {value!r:.60}")
    low, high = (check_seconds(v) for v in value)
    if low > high:
        raise ValueError(f"{name} must have low <= high, got {value!r}")
    return low, high


@attrs.frozen(kw_only=True)
class Chaos:
    """A seeded chaos configuration (what :meth:`FaultInjector.chaos` returns)."""

    seed: int
    rates: Mapping[str, float]
    paths: tuple[str, ...]
    methods: tuple[str, ...] | None
    delay: tuple[float, float]
    retry_after: tuple[int, int]
    max_consecutive: int | None

    def to_json(self) -> dict[str, Any]:
        """JSON form (the body ``POST /__emulator/chaos`` accepts)."""
        return {
            "seed": self.seed,
            "rates": dict(self.rates),
            "paths": list(self.paths),
            "methods": list(self.methods) if self.methods is not None else None,
            "delay": list(self.delay),
            "retry_after": list(self.retry_after),
            "max_consecutive": self.max_consecutive,
        }


class ChaosEngine:
    """Chaos state: the configuration compiled once, plus per-(method, path) occurrence counts."""

    def __init__(self, chaos: Chaos) -> None:
        self.config = chaos
        self._prefix = f"{chaos.seed}\x1f".encode()
        self._patterns = tuple(compile_path_pattern(p) for p in chaos.paths)
        self._methods = frozenset(chaos.methods) if chaos.methods is not None else None
        thresholds: list[tuple[float, str]] = []
        total = 0.0
        for kind in CHAOS_KINDS:
            rate = chaos.rates.get(kind, 0.0)
            if rate > 0:
                total += rate
                thresholds.append((total, kind))
        self._thresholds = tuple(thresholds)
        self._seen: dict[tuple[str, str], int] = {}
        self._streak: dict[tuple[str, str], int] = {}
        self.injected = 0

    def pick(self, method: str, path: str) -> Fault | None:
        """The fault for the next request to ``method path`` (None: no fault)."""
        if self._methods is not None and method not in self._methods:
            return None
        if not any(p.fullmatch(path) for p in self._patterns):
            return None
        key = (method, path)
        n = self._seen.get(key, 0)
        self._seen[key] = n + 1
        digest = hashlib.blake2b(
            self._prefix + f"{method}\x1f{path}\x1f{n}".encode(), digest_size=16
        ).digest()
        u = int.from_bytes(digest[:8], "big") / 2.0**64
        v = int.from_bytes(digest[8:], "big") / 2.0**64
        kind = next((k for limit, k in self._thresholds if u < limit), None)
        cap = self.config.max_consecutive
        if kind is not None and cap is not None and self._streak.get(key, 0) >= cap:
            kind = None
        if kind is None:
            self._streak.pop(key, None)
            return None
        self._streak[key] = self._streak.get(key, 0) + 1
        self.injected += 1
        if kind == "429":
            low, high = self.config.retry_after
            seconds = low + min(int(v * (high - low + 1)), high - low)
            return Fault.status(
                429, message="Too many requests (emulator chaos).", retry_after=seconds
            )
        if kind == "delay":
            low_d, high_d = self.config.delay
            return Fault.delay(low_d + v * (high_d - low_d))
        return _FIXED_CHAOS_FAULTS[kind]


def make_chaos(
    seed: int,
    rates: Mapping[str, float] | None = None,
    paths: Iterable[str] | None = None,
    methods: Iterable[str] | None = None,
    delay: Sequence[float] = (0.05, 0.5),
    retry_after: Sequence[int] = (0, 2),
    max_consecutive: int | None = None,
) -> Chaos:
    """Validate chaos parameters (see :meth:`FaultInjector.chaos`)."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"the chaos seed must be an int, got {seed!r:.40}")
    if not 0 <= seed < 2**63:  # so that it survives JSON (the admin API) unchanged
        raise ValueError(f"the chaos seed must be in 0..2**63-1, got {seed}")
    checked_rates: dict[str, float] = {}
    for kind, rate in (DEFAULT_CHAOS_RATES if rates is None else rates).items():
        if kind not in CHAOS_KINDS:
            raise ValueError(f"unknown chaos kind {kind!r:.40}: use {', '.join(CHAOS_KINDS)}")
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
            raise ValueError(f"the rate of {kind} must be a number in [0, 1], got {rate!r:.40}")
        checked_rates[kind] = float(rate)
    if sum(checked_rates.values()) > 1.0 + 1e-9:
        raise ValueError("chaos rates must add up to at most 1")
    path_list = ("/assistant/**",) if paths is None else tuple(paths)
    if isinstance(paths, str):
        raise TypeError("paths must be a list of patterns, not a string")
    if not path_list:
        raise ValueError("chaos needs at least one path pattern")
    for pattern in path_list:
        compile_path_pattern(pattern)
    if isinstance(methods, str):
        raise TypeError("methods must be a list of method names, not a string")
    method_list = tuple(check_method(m) for m in methods) if methods is not None else None
    low_r, high_r = _pair(retry_after, "retry_after")
    if low_r != int(low_r) or high_r != int(high_r):
        raise ValueError(f"retry_after bounds must be whole seconds, got {retry_after!r}")
    if max_consecutive is not None and (
        isinstance(max_consecutive, bool)
        or not isinstance(max_consecutive, int)
        or max_consecutive < 1
    ):
        raise ValueError(
            f"max_consecutive must be an int >= 1 or None, got {max_consecutive!r:.40}"
        )
    return Chaos(
        seed=seed,
        rates=checked_rates,
        paths=path_list,
        methods=method_list,
        delay=_pair(delay, "delay"),
        retry_after=(int(low_r), int(high_r)),
        max_consecutive=max_consecutive,
    )
