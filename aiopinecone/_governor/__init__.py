"""The rate governor: one per client, shared by every request (issue 11).

- ``_config``: operation classes, the plans' limits, :class:`RateLimits` (``rate_limits=``);
- ``_controller``: the adaptive algorithm of one class, a pure state machine;
- ``_store``: :class:`BudgetStore`, the atomic per-class accounting (a protocol; the in-memory
  :class:`MemoryStore` here, :class:`RedisStore` in ``_redis`` for many processes);
- ``_projects``: one project's store in this process, shared by its default clients (with
  what they learnt);
- ``_gate``: one class's controller in front of the store (the rules of a permit);
- ``_governor``: :class:`Governor`, the client's admission seam (FIFO waiting per class).
"""

from __future__ import annotations

from ._classstats import ClassStats
from ._config import OPERATION_CLASSES, PRESETS, RateLimits, class_of
from ._controller import Controller
from ._governor import Governor, GovernorPermit
from ._store import GRANT_TTL, ON_SETTLE, BudgetStore, Grant, MemoryStore

__all__ = [
    "GRANT_TTL",
    "ON_SETTLE",
    "OPERATION_CLASSES",
    "PRESETS",
    "BudgetStore",
    "ClassStats",
    "Controller",
    "Governor",
    "GovernorPermit",
    "Grant",
    "MemoryStore",
    "RateLimits",
    "class_of",
]
