"""The rate governor: one per client, shared by every request (issue 11).

- ``_store``: :class:`BudgetStore`, the atomic per-class accounting (a protocol; the in-memory
  :class:`MemoryStore` here, a Redis store for many processes);
"""

from __future__ import annotations

from ._store import GRANT_TTL, ON_SETTLE, BudgetStore, Grant, MemoryStore

__all__ = ["GRANT_TTL", "ON_SETTLE", "BudgetStore", "Grant", "MemoryStore"]
