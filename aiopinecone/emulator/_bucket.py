"""A token bucket: the shape of a per-second rate limit (``rate`` per second, ``burst`` at once).

Some services limit by a bucket of ``burst`` tokens refilled at ``rate`` per second instead of
Pinecone's per-minute window; a client must reach either without being told which. A request
takes one token or is refused with the wait until the next token, which is per real second (a
time-scaled minute does not scale it) and sent, as HTTP servers do, in whole seconds rounded up
(and, with ``retry_after_ms``, also exactly as ``Retry-After-Ms``, as some APIs send it).
"""

from __future__ import annotations

import math

import attrs

__all__ = ["TokenBucket", "check_bucket"]


def check_bucket(op: str, spec: object) -> TokenBucket:
    """A bucket from its JSON form ``{"rate": per_second, "burst": tokens, "retry_after_ms":
    bool}`` (burst defaults to one second of rate; ``retry_after_ms``, default false: a 429 also
    sends its exact wait in milliseconds)."""
    keys = {"rate", "burst", "retry_after_ms"}
    if not isinstance(spec, dict) or not set(spec) <= keys or "rate" not in spec:
        raise ValueError(
            f"the bucket of {op} must be {{'rate': r, 'burst'?: b, 'retry_after_ms'?: bool}}, "
            f"got {spec!r}"
        )
    exact = spec.get("retry_after_ms", False)
    if not isinstance(exact, bool):
        raise ValueError(f"the bucket retry_after_ms of {op} must be true or false, got {exact!r}")
    rate = _positive(op, "rate", spec["rate"])
    burst = _positive(op, "burst", spec.get("burst", rate))
    if burst < 1:
        raise ValueError(f"the bucket burst of {op} must be >= 1, got {burst!r}")
    return TokenBucket(rate=rate, burst=burst, exact=exact)


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
    exact: bool = False
    """A 429 also sends ``Retry-After-Ms`` (the exact wait)."""
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
        """``{"rate", "burst"}`` (and ``"retry_after_ms": True`` when set)."""
        out: dict[str, float] = {"rate": self.rate, "burst": self.burst}
        if self.exact:
            out["retry_after_ms"] = True
        return out
