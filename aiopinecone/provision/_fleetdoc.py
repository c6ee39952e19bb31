"""A parsed fleet document: where each value is (line, column) and what is wrong with it.

The readers (YAML, JSON) fill the marks; the spec builder records problems against paths, which
come out pointing at the right line.
"""

from __future__ import annotations

from ._errors import FleetProblem

__all__ = ["Doc", "DocPath"]

DocPath = tuple[str | int, ...]
"""Where a value is inside the document: keys and list indices from the top."""


def _fmt_path(path: DocPath) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


class Doc:
    """A parsed document: its plain value plus the line/column of every node, by path."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.marks: dict[DocPath, tuple[int, int]] = {}
        self.key_marks: dict[DocPath, tuple[int, int]] = {}
        self.problems: list[FleetProblem] = []
        self.nodes = 0
        """YAML nodes walked so far (aliases count every time they are expanded)."""

    def problem(self, path: DocPath, message: str, *, at_key: bool = False) -> None:
        """Record a problem at ``path``: its value's position, or its key's (``at_key``)."""
        mark = self.key_marks.get(path) if at_key else None
        if mark is None:
            mark = self.marks.get(path)
        # The nearest enclosing node with a mark is better than no line at all.
        probe = path
        while mark is None and probe:
            probe = probe[:-1]
            mark = self.marks.get(probe)
        self.problems.append(
            FleetProblem(
                message=message,
                path=_fmt_path(path),
                file=self.source,
                line=mark[0] if mark else None,
                column=mark[1] if mark else None,
            )
        )
