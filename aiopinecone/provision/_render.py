"""A plan as text: one line per assistant with a change, indented lines for its files."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Any

import orjson

from ..models.assistants import AssistantStatus

if TYPE_CHECKING:
    from ._plan import AssistantPlan, FileAction, Plan

__all__ = ["MISSING", "render_plan"]


class _Missing:
    def __repr__(self) -> str:
        return "(absent)"


MISSING: Any = _Missing()
"""Stands for a metadata key that one side of a :class:`~._plan.Change` does not have.

Defined here, where it is shown, so that the plan imports its renderer and not the reverse.
"""

_SIGN = {"create": "+", "update": "~", "unchanged": "=", "delete": "-", "blocked": "!"}
_FILE_SIGN = {"upload": "+", "replace": "~", "cleanup": "~", "delete": "-", "unchanged": "="}
_VERB = {
    "create": "create",
    "update": "update",
    "unchanged": "unchanged",
    "delete": "delete",
    "blocked": "blocked",
}
_MAX_VALUE = 48


def _show(value: Any) -> str:
    if value is MISSING:
        return "(absent)"
    if isinstance(value, str):
        text = value if len(value) <= _MAX_VALUE else value[: _MAX_VALUE - 1] + "…"
        return orjson.dumps(text).decode()
    try:
        text = orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:
        text = repr(value)
    return text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 1] + "…"


def _file_line(f: FileAction) -> str:
    verb = {"cleanup": "clean up"}.get(f.kind, f.kind)
    detail = f.reason
    if f.kind in ("replace", "cleanup", "delete") and f.delete_ids:
        n = len(f.delete_ids)
        detail = f"{detail}; removes {n} server {'copy' if n == 1 else 'copies'}"
    line = f"    {_FILE_SIGN[f.kind]} {verb:<9} {f.name}"
    return f"{line}  ({detail})" if detail else line


def _assistant_line(a: AssistantPlan, width: int) -> str:
    head = f"{_SIGN[a.action]} {_VERB[a.action]:<9} {a.name:<{width}}"
    bits: list[str] = []
    if a.action == "create" and a.spec is not None:
        bits.append(f"region {a.spec.region}")
        n = len(a.spec.files)
        bits.append(f"{n} file{'s' if n != 1 else ''}")
    elif a.action == "update":
        bits.extend(f"{c.field}: {_show(c.old)} -> {_show(c.new)}" for c in a.changes)
    elif a.action in ("delete", "blocked"):
        bits.append(a.reason)
    if a.status and a.status != AssistantStatus.READY and a.action not in ("blocked",):
        bits.append(f"status {a.status}")
    if not a.files_known:
        ready = a.status == AssistantStatus.READY
        bits.append("files not listed yet" if ready else "files checked once Ready")
    return f"{head}  {'; '.join(bits)}".rstrip() if bits else head.rstrip()


def _wrapped(line: str, width: int | None) -> list[str]:
    # Wrapped, not cut: every change of a plan must stay readable in a narrow terminal.
    if width is None or len(line) <= width:
        return [line]
    indent = " " * min(len(line) - len(line.lstrip()) + 12, width // 2)
    return textwrap.wrap(line, width, subsequent_indent=indent, break_on_hyphens=False) or [""]


def render_plan(plan: Plan, *, verbose: bool = False, width: int | None = None) -> str:
    """Render ``plan`` as a diff-like text block ending with its summary line (lines longer
    than ``width``, if given, are wrapped with an indent)."""
    shown = [a for a in plan.assistants if verbose or a.has_changes or a.action == "blocked"]
    name_width = max((len(a.name) for a in shown), default=0)
    lines = [
        f"Plan for {len(plan.assistants)} assistant{'s' if len(plan.assistants) != 1 else ''}"
        f" (prune {'on' if plan.prune else 'off'}):",
        "",
    ]
    for a in shown:
        lines.append(_assistant_line(a, name_width))
        # A new assistant's files are all uploads: its line already counts them.
        files = a.files if verbose else (() if a.action == "create" else a.file_changes)
        lines.extend(_file_line(f) for f in files)
    hidden = len(plan.assistants) - len(shown)
    if hidden:
        lines.append(f"  ({hidden} unchanged assistant{'s' if hidden != 1 else ''} not shown)")
    if not shown and not hidden:
        lines.append("  (nothing)")
    lines.append("")
    lines.append(plan.summary() if plan.has_changes else f"{plan.summary()} Nothing to do.")
    return "\n".join(part for line in lines for part in _wrapped(line, width))
