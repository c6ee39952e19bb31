"""The emulator's configuration: one frozen value shared by every part of the server."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import attrs

RATE_LIMIT_PRESETS = ("starter", "standard", "enterprise", "unlimited")
DEFAULT_DELETE_DELAY = 1.0
"""Seconds a deleted file stays ``Deleting`` and a deleted assistant ``Terminating`` by default.

Deletes take time on the service, and clients poll for them (the official 8.x SDK describes once
right after the DELETE); tests that do not care set ``delete_delay=0``."""


def _freeze_limits(value: str | Mapping[str, int]) -> str | Mapping[str, int]:
    if isinstance(value, str):
        return value
    return MappingProxyType(dict(value))


def _check_limits(_inst: object, _attr: object, value: str | Mapping[str, int]) -> None:
    if isinstance(value, str):
        if value not in RATE_LIMIT_PRESETS:
            raise ValueError(
                f"rate_limits must be one of {', '.join(RATE_LIMIT_PRESETS)} or a mapping, "
                f"got {value!r}"
            )
        return
    for key, limit in value.items():
        if not isinstance(key, str) or not isinstance(limit, int) or limit < 0:
            raise ValueError(f"rate_limits entries must be str -> int >= 0, got {key!r}: {limit!r}")


def _non_negative(_inst: object, attr: attrs.Attribute[float], value: float) -> None:
    if value < 0:
        raise ValueError(f"{attr.name} must be >= 0, got {value!r}")


def _positive(_inst: object, attr: attrs.Attribute[float], value: float) -> None:
    if value <= 0:
        raise ValueError(f"{attr.name} must be > 0, got {value!r}")


def _positive_int(_inst: object, attr: attrs.Attribute[int], value: int) -> None:
    if value <= 0:
        raise ValueError(f"{attr.name} must be > 0, got {value!r}")


def _to_keys(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, tuple | list | frozenset | set):
        raise TypeError(f"api_keys must be a tuple of strings, got {type(value).__name__}")
    return tuple(value)


def _check_quota(_inst: object, _attr: object, value: int | None) -> None:
    if value is not None and value < 0:
        raise ValueError(f"quota must be >= 0 or None, got {value!r}")


def _check_duplicate(_inst: object, _attr: object, value: int) -> None:
    if value not in (409, 429):
        raise ValueError(f"duplicate_status must be 409 or 429, got {value!r}")


@attrs.frozen(kw_only=True)
class EmulatorConfig:
    """How an :class:`Emulator` behaves.

    Every delay is in real seconds; deletes take ``delete_delay`` (default
    :data:`DEFAULT_DELETE_DELAY`, one second), everything else is immediate by default.
    ``api_keys`` is the set of accepted ``Api-Key`` values; an empty tuple accepts any non-empty
    key. ``rate_limits`` is a preset name (``starter``, ``standard``,
    ``enterprise``, ``unlimited``) or a mapping of operation class to requests per minute;
    ``time_scale`` scales the length of that minute (``0.05`` makes a "minute" last three seconds).
    ``state_path`` is a sqlite file that keeps assistants and files across restarts
    (``None``: in memory only).
    """

    api_keys: tuple[str, ...] = attrs.field(default=(), converter=_to_keys)
    ready_delay: float = attrs.field(default=0.0, validator=_non_negative)
    file_processing_delay: float = attrs.field(default=0.0, validator=_non_negative)
    delete_delay: float = attrs.field(default=DEFAULT_DELETE_DELAY, validator=_non_negative)
    duplicate_status: int = attrs.field(default=409, validator=_check_duplicate)
    quota: int | None = attrs.field(default=None, validator=_check_quota)
    rate_limits: str | Mapping[str, int] = attrs.field(
        default="unlimited", converter=_freeze_limits, validator=_check_limits
    )
    time_scale: float = attrs.field(default=1.0, validator=_positive)
    state_path: str | None = None
    host: str = "127.0.0.1"
    port: int = 0
    max_body_size: int = attrs.field(default=100 * 1024 * 1024, validator=_positive_int)
    """Largest request body accepted (bytes); bigger bodies get 413."""
    tls_cert: str | None = None
    """PEM certificate chain: serve https (with ``tls_key``); ``None``: plain http."""
    tls_key: str | None = None
    """PEM private key of ``tls_cert`` (``None``: the key is in the ``tls_cert`` file)."""

    def __attrs_post_init__(self) -> None:
        if self.tls_key is not None and self.tls_cert is None:
            raise ValueError("tls_key needs tls_cert (the certificate to serve)")
