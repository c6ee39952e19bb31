"""Client-side validation: everything checked before a request is sent.

Errors are :class:`~aiopinecone.ValidationError` (also a ``ValueError``) and say what was wrong
and what is allowed. Values are echoed only in a shortened form.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, Final

import orjson

from .exceptions import ValidationError

__all__ = [
    "API_VERSIONS",
    "DEFAULT_API_VERSION",
    "MAX_FIELD_BYTES",
    "REGIONS",
    "check_api_version",
    "check_assistant_name",
    "check_instructions",
    "check_json_object",
    "check_region",
    "check_seconds",
    "name_max_length",
]

API_VERSIONS: Final = ("2025-04", "2025-10", "2026-04", "2026-07")
"""Every API version the client speaks, oldest first (2026-07: the Assistant API of 2026-04)."""
DEFAULT_API_VERSION: Final = API_VERSIONS[-1]
"""The version sent when none is chosen: the newest."""
REGIONS: Final = ("us", "eu")
MAX_FIELD_BYTES: Final = 16 * 1024
"""Instructions and assistant metadata are limited to 16 KB by the API."""

_NAME: Final = re.compile(r"[A-Za-z0-9._~-]+")
"""Characters that need no escaping in a URL path segment (RFC 3986 "unreserved")."""


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check_api_version(version: object) -> str:
    """One of :data:`API_VERSIONS`."""
    if version not in API_VERSIONS:
        raise ValidationError(
            f"unknown api_version {_show(version)}: supported versions are "
            f"{', '.join(API_VERSIONS)}"
        )
    return str(version)


def name_max_length(api_version: str) -> int:
    """Longest assistant name ``api_version`` accepts (45 under 2025-04, else 63)."""
    return 45 if api_version == "2025-04" else 63


def check_assistant_name(name: object, api_version: str, *, field: str = "name") -> str:
    """What is certain about a name: 1-45 (2025-04) or 1-63 characters, all safe in a URL path.

    Pinecone's docs ask for lowercase alphanumerics and '-' with alphanumeric ends, but the
    service accepts more (mixed case, which it returns as given): the rest is the server's call.
    """
    if type(name) is str and (name, api_version) in _valid_names:
        return name
    _check_name(name, api_version, field)
    assert isinstance(name, str)
    if len(_valid_names) >= _VALID_NAMES_MAX:
        _valid_names.clear()
    _valid_names.add((name, api_version))
    return name


_VALID_NAMES_MAX: Final = 4096
_valid_names: set[tuple[str, str]] = set()
"""Names already checked (every call of a hot loop checks the same few names)."""


def _check_name(name: object, api_version: str, field: str) -> None:
    if not isinstance(name, str):
        raise ValidationError(f"{field} must be a string, got {type(name).__name__}")
    limit = name_max_length(api_version)
    if not name:
        raise ValidationError(f"{field} must not be empty")
    if len(name) > limit:
        raise ValidationError(
            f"{field} {_show(name)} is {len(name)} characters long; API version {api_version} "
            f"allows at most {limit}"
        )
    if _NAME.fullmatch(name) is None or not name.strip("."):
        raise ValidationError(
            f"{field} {_show(name)} is invalid: use only letters, digits, '-', '_', '.' or '~' "
            "(characters safe in a URL path), and not only dots"
        )


def check_region(region: object) -> str:
    """``us`` or ``eu``."""
    if region not in REGIONS:
        raise ValidationError(f"region must be one of {', '.join(REGIONS)}, got {_show(region)}")
    return str(region)


def check_instructions(instructions: object, *, max_bytes: int = MAX_FIELD_BYTES) -> str:
    """A string of at most ``max_bytes`` UTF-8 bytes."""
    if not isinstance(instructions, str):
        raise ValidationError(f"instructions must be a string, got {type(instructions).__name__}")
    try:
        size = len(instructions.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise ValidationError(
            f"instructions are not valid Unicode text (character {exc.start} is a lone "
            "surrogate); they cannot be sent"
        ) from None
    if size > max_bytes:
        raise ValidationError(f"instructions are {size} bytes; the limit is {max_bytes} bytes")
    return instructions


def check_seconds(value: object, field: str, *, allow_none: bool = False) -> float | None:
    """A number of seconds > 0 (timeouts, wait timeouts); ``None`` too when ``allow_none``."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        more = " or None" if allow_none else ""
        raise ValidationError(f"{field} must be a number of seconds > 0{more}, got {value!r}")
    return float(value)


def check_json_object(
    value: object, *, field: str = "metadata", max_bytes: int | None = MAX_FIELD_BYTES
) -> dict[str, Any]:
    """A JSON object (a mapping with string keys, JSON-serializable), at most ``max_bytes``."""
    if not isinstance(value, Mapping):
        raise ValidationError(
            f"{field} must be a mapping (a JSON object), got {type(value).__name__}"
        )
    for key in value:
        if not isinstance(key, str):
            raise ValidationError(f"{field} keys must be strings, got {_show(key)}")
    as_dict = dict(value)
    try:
        encoded = orjson.dumps(as_dict)
    except TypeError as exc:
        raise ValidationError(f"{field} is not JSON-serializable: {exc}") from None
    if max_bytes is not None and len(encoded) > max_bytes:
        raise ValidationError(
            f"{field} is {len(encoded)} bytes as JSON; the limit is {max_bytes} bytes"
        )
    # orjson writes NaN and infinities as null: refuse them rather than change the data. Only
    # an encoding with a null in it can hide one, so the walk is skipped in the usual case.
    if b"null" in encoded and _has_non_finite(as_dict):
        raise ValidationError(f"{field} holds NaN or an infinity, which JSON cannot represent")
    return as_dict


def _has_non_finite(value: object) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float):
            if not math.isfinite(item):
                return True
        elif isinstance(item, Mapping):
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return False
