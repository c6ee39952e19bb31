"""The official SDK 10.x's argument rules, as :mod:`aiopinecone.compat` applies them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .exceptions import ValidationError

__all__ = ["no_extra", "one_name", "wait_of"]

_NO_WAIT = -1


def wait_of(timeout: float | None, method: str) -> tuple[bool, float | None]:
    """10.x's ``timeout`` of a write: (wait?, seconds or None for no limit)."""
    if timeout is None:
        return True, None
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        raise ValidationError(f"{method}: timeout must be seconds, -1 or None, got {timeout!r}")
    if timeout == _NO_WAIT:
        return False, None
    if timeout < 0:
        raise ValidationError(
            f"{method}: timeout is the seconds to wait (>= 0), -1 (do not wait) or None "
            f"(no limit), got {timeout!r}"
        )
    return True, max(float(timeout), 1e-3)


def one_name(name: str | None, assistant_name: str | None, method: str) -> str:
    """The assistant's name, given as ``name=`` (10.x) or ``assistant_name=`` (8.x)."""
    if name is not None and assistant_name is not None and name != assistant_name:
        raise ValidationError(f"{method}: give name= or assistant_name=, not both")
    chosen = name if name is not None else assistant_name
    if chosen is None:
        raise ValidationError(f"{method}: name is required")
    return chosen


def no_extra(kwargs: Mapping[str, Any], method: str) -> None:
    """Refuse keywords the method does not know (10.x raises ``TypeError`` for them)."""
    if kwargs:
        raise ValidationError(f"{method}: unexpected keyword(s) {', '.join(sorted(kwargs))}")
