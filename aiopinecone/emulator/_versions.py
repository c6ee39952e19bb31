"""API versions: which one a request asked for, and what differs between them."""

from __future__ import annotations

import re
from typing import Final

from aiohttp import web

from ._errors import invalid

V2025_04: Final = "2025-04"
V2025_10: Final = "2025-10"
V2026_04: Final = "2026-04"
KNOWN_VERSIONS: Final = (V2025_04, V2025_10, V2026_04)
DEFAULT_VERSION: Final = V2025_10
NEWEST_VERSION: Final = V2026_04
HEADER: Final = "X-Pinecone-Api-Version"

API_VERSION_KEY: Final = web.RequestKey("aiopinecone_emulator_api_version", str)
"""Request key holding the resolved version (set by the version middleware)."""

_SHAPE = re.compile(r"^\d{4}-\d{2}$")


def resolve_version(header: str | None) -> str:
    """Map the ``X-Pinecone-Api-Version`` header to the version the emulator serves.

    Missing or empty: the default (2025-10). A known version: itself. A well-formed version newer
    than any known one (pinecone 10.x sends ``2026-07``): the newest known. Anything else (older,
    unknown in between, garbage): 400.
    """
    if header is None or not header.strip():
        return DEFAULT_VERSION
    value = header.strip()
    if value in KNOWN_VERSIONS:
        return value
    if _SHAPE.match(value) and value > NEWEST_VERSION:
        return NEWEST_VERSION
    raise invalid(
        f"Unsupported API version {value[:40]!r}: supported versions are "
        f"{', '.join(KNOWN_VERSIONS)} (newer versions are served as {NEWEST_VERSION})."
    )


def name_max_length(version: str) -> int:
    """Longest assistant name the version accepts."""
    return 45 if version == V2025_04 else 63


def is_2026(version: str) -> bool:
    """Whether the version has operations, upsert, paginated lists and 202 uploads."""
    return version >= V2026_04


def request_version(request: web.Request) -> str:
    """The version resolved for this request."""
    version: str = request.get(API_VERSION_KEY, DEFAULT_VERSION)
    return version
