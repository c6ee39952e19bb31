"""Checks of the values a fault carries, and the ``Retry-After`` headers a status fault sends."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Final

RETRY_AFTER_MS_HEADER: Final = "X-Emulator-Retry-After-Ms"
"""The exact wait in milliseconds, next to ``Retry-After`` (whole seconds, rounded up)."""


def check_status(code: int, *, has_body: bool) -> int:
    """A fault's HTTP status: 400..599, or 200..599 when the fault gives its own body."""
    if isinstance(code, bool) or not isinstance(code, int):
        raise TypeError(f"a fault status must be an int, got {code!r}")
    low = 200 if has_body else 400
    if not low <= code <= 599:
        raise ValueError(
            f"a fault status must be in {low}..599"
            + ("" if has_body else " (give body= for other statuses)")
            + f", got {code}"
        )
    return code


def check_retry_after(value: float | str | None) -> float | str | None:
    """Seconds (finite, >= 0), a raw header string, or None."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"retry_after must be seconds or a raw header string, got {value!r}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"retry_after must be finite and >= 0, got {value!r}")
    return value


def check_seconds(value: float) -> float:
    """A delay in seconds (finite, >= 0), as a float."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"a delay must be a number of seconds, got {value!r}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"a delay must be finite and >= 0 seconds, got {value!r}")
    return float(value)


def to_bytes(body: bytes | str | None) -> bytes | None:
    """A fault body: bytes as given, a string UTF-8 encoded."""
    raw = body.encode() if isinstance(body, str) else body
    if raw is not None and not isinstance(raw, bytes):
        raise TypeError(f"a fault body must be bytes or str, got {body!r}")
    return raw


def frozen_headers(
    value: Mapping[str, str] | tuple[tuple[str, str], ...] | None,
) -> tuple[tuple[str, str], ...]:
    """Extra headers as a hashable tuple of pairs."""
    if not value:
        return ()
    items = value.items() if isinstance(value, Mapping) else value
    return tuple((str(k), str(v)) for k, v in items)


def retry_after_headers(value: float | str | None) -> dict[str, str]:
    """``Retry-After`` for a number of seconds (rounded up) plus the exact milliseconds.

    A string is sent verbatim as ``Retry-After`` (an HTTP-date, or garbage to test a client).
    """
    if value is None:
        return {}
    if isinstance(value, str):
        return {"Retry-After": value}
    return {
        "Retry-After": str(math.ceil(value)),
        RETRY_AFTER_MS_HEADER: str(math.ceil(value * 1000)),
    }
