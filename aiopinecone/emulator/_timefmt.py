"""RFC 3339 timestamps as the API writes them."""

from __future__ import annotations

import functools
from datetime import UTC, datetime


@functools.lru_cache(maxsize=4096)
def rfc3339(epoch: float) -> str:
    """``2025-10-01T12:30:00.123456Z`` for a POSIX timestamp (cached: records repeat theirs)."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
