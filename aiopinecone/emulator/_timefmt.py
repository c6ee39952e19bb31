"""RFC 3339 timestamps as the API writes them."""

from __future__ import annotations

from datetime import UTC, datetime


def rfc3339(epoch: float) -> str:
    """``2025-10-01T12:30:00.123456Z`` for a POSIX timestamp."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
