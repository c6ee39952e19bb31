"""Errors of fleet files and specs: every problem at once, each with where it is."""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from ..exceptions import ValidationError

__all__ = ["FleetError", "FleetProblem"]


@attrs.frozen(kw_only=True)
class FleetProblem:
    """One thing wrong with a fleet file or a list of specs.

    ``file`` is the fleet file (``None`` for specs built in Python); ``line`` and ``column`` are
    1-based when known; ``path`` is where in the document, for example ``assistants[3].name``.
    """

    message: str
    path: str = ""
    file: str | None = None
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = self.file or ""
        if self.line is not None:
            where += f":{self.line}" if where else f"line {self.line}"
            if self.column is not None:
                where += f":{self.column}"
        parts = [p for p in (where, self.path) if p]
        return f"{': '.join(parts)}: {self.message}" if parts else self.message


class FleetError(ValidationError):
    """A fleet file or a list of specs is invalid; nothing was sent.

    ``problems`` lists every problem found (not only the first), in document order.
    """

    def __init__(self, problems: Iterable[FleetProblem], *, source: str | None = None) -> None:
        self.problems = tuple(problems)
        self.source = source
        count = len(self.problems)
        head = f"{source}: " if source else ""
        noun = "problem" if count == 1 else "problems"
        lines = [f"{head}{count} {noun} found, nothing was sent:"]
        lines.extend(f"  {p}" for p in self.problems)
        super().__init__("\n".join(lines))
