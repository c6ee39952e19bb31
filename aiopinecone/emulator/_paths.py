"""Paths: the admin prefix, and the path patterns faults, chaos and the request log match with.

A pattern matches the whole request path (no query string; a trailing ``/`` is ignored):
``{name}`` matches one non-empty segment, ``*`` any text inside one segment, ``**`` anything
including ``/``; every other character is literal. ``/assistant/files/{name}/*`` matches
``/assistant/files/a1/f-9``; ``/assistant/**`` matches every API route.
"""

from __future__ import annotations

import re
from typing import Final

ADMIN_PREFIX: Final = "/__emulator/"
"""The admin routes' prefix: never faulted, rate limited, authenticated or (by default) logged."""

_TOKENS: Final = re.compile(r"(\{[^{}/]*\}|\*\*|\*)")


def compile_path_pattern(pattern: str) -> re.Pattern[str]:
    """Compile a path pattern (``{name}``, ``*``, ``**`` wildcards; see the module docstring)."""
    if not isinstance(pattern, str) or not pattern.startswith("/"):
        raise ValueError(f"a path pattern must start with '/', got {pattern!r:.80}")
    parts: list[str] = []
    for token in _TOKENS.split(pattern.rstrip("/") or "/"):
        if not token:
            continue
        if token == "**":  # noqa: S105 - not a password
            parts.append(".*")
        elif token == "*":  # noqa: S105
            parts.append("[^/]*")
        elif token.startswith("{"):
            parts.append("[^/]+")
        else:
            parts.append(re.escape(token))
    return re.compile("".join(parts) + "/?")


def check_method(method: str) -> str:
    """An HTTP method name or ``"*"`` (any), upper-cased; ``ValueError`` otherwise."""
    if not isinstance(method, str) or not method or not (method == "*" or method.isalpha()):
        raise ValueError(f"a method must be an HTTP method name or '*', got {method!r:.40}")
    return method.upper()
