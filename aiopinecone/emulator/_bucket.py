"""A token bucket: the shape of a per-second rate limit (``rate`` per second, ``burst`` at once).

Some services limit by a bucket of ``burst`` tokens refilled at ``rate`` per second instead of
Pinecone's per-minute window; a client must reach either without being told which. A request
takes one token or is refused with the wait until the next token, which is per real second (a
time-scaled minute does not scale it) and sent, as HTTP servers do, in whole seconds rounded up.
"""

from __future__ import annotations

import math

import attrs

__all__ = ["TokenBucket", "check_bucket"]


def check_bucket(op: str, spec: object) -> TokenBucket:
    """A bucket from its JSON form ``{"rate": per_second, "burst": tokens}`` (burst defaults to
    one second of rate)."""
    if not isinstance(spec, dict) or not set(spec) <= {"rate", "burst"} or "rate" not in spec:
        raise ValueError(f"the bucket of {op} must be {{'rate': r, 'burst'?: b}}, got {spec!r}")
    rate = _positive(op, "rate", spec["rate"])
    burst = _positive(op, "burst", spec.get("burst", rate))
    if burst < 1:
        raise ValueError(f"the bucket burst of {op} must be >= 1, got {burst!r}")
    return TokenBucket(rate=rate, burst=burst)


def _positive(op: str, name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"the bucket {name} of {op} must be a number, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"the bucket {name} of {op} must be > 0, got {value!r}")
    return float(value)


@attrs.define
class TokenBucket:
    """``burst`` tokens, refilled at ``rate`` per second; starts full."""

    rate: float
    burst: float
    tokens: float = attrs.field(default=-1.0)
    at: float = 0.0

    def take(self, now: float) -> float:
        """Take a token at ``now``: 0.0 if taken, else the seconds until one is there."""
        if self.tokens < 0:
            self.tokens, self.at = self.burst, now
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate

    def reset(self) -> None:
        """Full again."""
        self.tokens = -1.0

    def snapshot(self) -> dict[str, float]:
        """``{"rate", "burst"}``."""
        return {"rate": self.rate, "burst": self.burst}
