"""Opaque pagination tokens for the 2026-04 list endpoints."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import TypeVar

from ._errors import invalid

T = TypeVar("T")


def encode_token(offset: int) -> str:
    """An opaque token for the item at ``offset``."""
    return base64.urlsafe_b64encode(f"offset={offset}".encode()).decode()


def decode_token(token: str) -> int:
    """The offset a token points at; 400 for anything we did not issue."""
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
        key, _, number = text.partition("=")
        offset = int(number)
    except (ValueError, UnicodeError):
        raise invalid("Invalid pagination_token.") from None
    if key != "offset" or offset < 0:
        raise invalid("Invalid pagination_token.")
    return offset


def page(items: Sequence[T], limit: int, token: str | None) -> tuple[Sequence[T], str | None]:
    """One page of ``items`` and the token of the next page (None on the last page)."""
    start = decode_token(token) if token else 0
    end = start + limit
    return items[start:end], (encode_token(end) if end < len(items) else None)
