"""A fault sequence bound to a method and a path pattern."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._paths import check_method, compile_path_pattern
from ._kinds import Fault


class Script:
    """A fault sequence bound to a method and a path pattern (:meth:`FaultInjector.script`)."""

    def __init__(self, method: str, pattern: str, faults: Sequence[Fault], *, repeat: bool) -> None:
        self.method = check_method(method)
        self.pattern = pattern
        self._regex = compile_path_pattern(pattern)
        self.faults: tuple[Fault, ...] = tuple(faults)
        for fault in self.faults:
            if not isinstance(fault, Fault):
                raise TypeError(f"a script holds Fault objects, got {fault!r:.80}")
        if not self.faults:
            raise ValueError("a script needs at least one fault")
        self.repeat = repeat
        self.consumed = 0
        """How many requests this script has claimed."""

    @property
    def remaining(self) -> int | None:
        """Faults left (None for a repeating script)."""
        return None if self.repeat else len(self.faults) - self.consumed

    @property
    def exhausted(self) -> bool:
        """Whether every fault was consumed (never for a repeating script)."""
        return not self.repeat and self.consumed >= len(self.faults)

    def matches(self, method: str, path: str) -> bool:
        """Whether the script applies to ``method path``."""
        return (self.method == "*" or self.method == method) and (
            self._regex.fullmatch(path) is not None
        )

    def take(self) -> Fault:
        """Consume the next fault."""
        fault = self.faults[self.consumed % len(self.faults)]
        self.consumed += 1
        return fault

    def to_json(self) -> dict[str, Any]:
        """JSON form, as ``GET /__emulator/faults`` shows it."""
        return {
            "method": self.method,
            "path": self.pattern,
            "faults": [f.to_json() for f in self.faults],
            "repeat": self.repeat,
            "consumed": self.consumed,
            "remaining": self.remaining,
        }

    def __repr__(self) -> str:
        return f"Script({self.method} {self.pattern}, consumed={self.consumed}/{len(self.faults)})"
