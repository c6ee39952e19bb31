"""Assistant models (control plane).

Enum-like fields are plain ``str`` (open sets): a status the server adds tomorrow is kept as it
came, never an error. The known values are constants on :class:`AssistantStatus` and
:class:`Region` for comparisons (``a.status == AssistantStatus.READY``).
"""

# No `from __future__ import annotations` here: real annotations spare the converter evaluating
# strings when it builds the first hook of a new process (the first describe's CPU time).
from datetime import datetime
from typing import Any, Final

import attrs

__all__ = ["Assistant", "AssistantList", "AssistantStatus", "Pagination", "Region"]


class AssistantStatus:
    """Known values of :attr:`Assistant.status` (the set is open: others may appear)."""

    INITIALIZING: Final = "Initializing"
    READY: Final = "Ready"
    FAILED: Final = "Failed"
    INITIALIZATION_FAILED: Final = "InitializationFailed"
    TERMINATING: Final = "Terminating"

    #: States an assistant does not leave on its own to become ``Ready``.
    TERMINAL_FAILURES: Final = frozenset({FAILED, INITIALIZATION_FAILED, TERMINATING})


class Region:
    """Regions an assistant can be created in."""

    US: Final = "us"
    EU: Final = "eu"
    ALL: Final = (US, EU)


@attrs.frozen(kw_only=True)
class Assistant:
    """An assistant as the control plane describes it.

    ``host`` is the data-plane host (``https://...``); ``region`` is only sent by 2026-04 servers.
    """

    name: str
    status: str
    instructions: str | None = None
    metadata: dict[str, Any] | None = None
    host: str | None = None
    region: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def is_ready(self) -> bool:
        """Whether the assistant is ``Ready``."""
        return self.status == AssistantStatus.READY


@attrs.frozen(kw_only=True)
class Pagination:
    """The ``pagination`` object of paginated lists (2026-04)."""

    next: str | None = None


@attrs.frozen(kw_only=True)
class AssistantList:
    """One page of ``GET /assistants`` (all of them before 2026-04)."""

    assistants: list[Assistant] = attrs.Factory(list)
    pagination: Pagination | None = None

    @property
    def next(self) -> str | None:
        """The next page's token (``pagination.next``; the official SDK's name), if any."""
        return self.pagination.next if self.pagination is not None else None

    @property
    def next_token(self) -> str | None:
        """The same as :attr:`next` (the official SDK's other name)."""
        return self.next
