"""Plain-text tables and lines fitted to a width (the CLI's terminal): the one home of that rule.

Standard library only; no terminal is queried here (callers pass the width).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

__all__ = ["Step", "clip", "fit_table", "pack"]

Step = tuple[Literal["trim", "drop"], int]
"""One way to narrow a table: truncate a column (with ``…``) or drop it."""

_MIN_TRIM = 8


def clip(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, the cut marked with ``…``."""
    if len(text) <= width:
        return text
    return text[: width - 1] + "…" if width > 0 else ""


def fit_table(
    rows: Sequence[Sequence[str]],
    width: int | None,
    *,
    steps: Sequence[Step] = (),
    gap: int = 2,
    rule: bool = False,
) -> list[str]:
    """``rows`` (the first is the header) as aligned lines of at most ``width`` characters.

    While the table is too wide, ``steps`` are taken in order: ``("trim", i)`` truncates column
    ``i`` as far as needed (not below 8 characters or its header), ``("drop", i)`` removes it.
    A line still too wide after every step is clipped. ``width=None``: no limit. ``rule``: a
    line of dashes under the header.
    """
    if not rows:
        return []
    ncols = len(rows[0])
    widths = [max(len(r[i]) for r in rows) for i in range(ncols)]
    keep = list(range(ncols))

    def total() -> int:
        return sum(widths[i] for i in keep) + gap * (len(keep) - 1)

    if width is not None:
        for action, col in steps:
            excess = total() - width
            if excess <= 0:
                break
            if col not in keep:
                continue
            if action == "drop":
                keep.remove(col)
            else:
                floor = max(len(rows[0][col]), _MIN_TRIM)
                widths[col] = max(floor, widths[col] - excess)
    sep = " " * gap
    lines = [
        sep.join(clip(row[i], widths[i]).ljust(widths[i]) for i in keep).rstrip() for row in rows
    ]
    if rule:
        lines.insert(1, sep.join("-" * widths[i] for i in keep))
    if width is not None:
        lines = [clip(line, width) for line in lines]
    return lines


def pack(parts: Sequence[str], width: int | None, *, sep: str = "; ") -> list[str]:
    """``parts`` joined by ``sep`` on as few lines of at most ``width`` characters as fit
    (``None``: one line); a part longer than ``width`` is clipped."""
    if width is None:
        return [sep.join(parts)]
    lines: list[str] = []
    current = ""
    for part in parts:
        candidate = f"{current}{sep}{part}" if current else part
        if current and len(candidate) > width:
            lines.append(current + sep.rstrip())
            current = part
        else:
            current = candidate
    if current:
        lines.append(current)
    return [clip(line, width) for line in lines]
