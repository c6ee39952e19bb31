"""What the resource modules share: the timeout type, path-segment ids, filters, bases.

A resource mixin declares ``_core: Core`` (requests to fixed URLs: control plane, evaluation) and
``_router: Router`` (requests to an assistant's data plane); see "Core interface" in
``docs/architecture.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final, TypeAlias
from urllib.parse import quote

import aiohttp
import orjson

from .._validation import check_assistant_name, check_json_object
from ..exceptions import ValidationError

if TYPE_CHECKING:
    from .._core import Core
    from .._router import Router

__all__ = ["Resource", "Timeout", "json_filter", "quote_id"]

Timeout: TypeAlias = float | aiohttp.ClientTimeout | None

_MAX_ID_LENGTH: Final = 128
"""The longest id Pinecone lets anyone choose (upsert's file_id); its own ids are UUIDs."""


class Resource:
    """The two attributes every mixin of ``Assistants`` works with."""

    _core: Core
    _router: Router

    def _check_name(self, assistant_name: str) -> None:
        check_assistant_name(assistant_name, self._core.api_version, field="assistant_name")


def quote_id(value: object, field: str) -> str:
    """A non-empty string id, percent-encoded for use as one path segment."""
    if not isinstance(value, str) or not value:
        raise ValidationError(f"{field} must be a non-empty string, got {value!r}")
    if (
        len(value) > _MAX_ID_LENGTH
        or value in (".", "..")  # URL normalization would turn them into other paths
        or any(ch < " " or ch == "\x7f" for ch in value)
    ):
        raise ValidationError(
            f"{field} must be at most {_MAX_ID_LENGTH} printable characters (not '.' or '..'), "
            f"got {value[:40]!r}" + ("..." if len(value) > 40 else "")
        )
    try:
        return quote(value, safe="")
    except UnicodeEncodeError:
        raise ValidationError(f"{field} {value!r} is not valid Unicode text") from None


def json_filter(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A metadata filter (a JSON object of any size), checked; ``None`` stays ``None``."""
    if value is None:
        return None
    return check_json_object(value, field="filter", max_bytes=None)


def filter_param(value: Mapping[str, Any] | None) -> dict[str, str]:
    """A metadata filter as the JSON-encoded ``filter`` query parameter (empty if ``None``)."""
    checked = json_filter(value)
    return {} if checked is None else {"filter": orjson.dumps(checked).decode()}
