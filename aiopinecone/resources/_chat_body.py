"""Checks and encoding of chat, chat completion and context request bodies."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Final

from .._validation import check_seconds
from ..exceptions import ValidationError
from ..models.chat import ContextOptions, Message

__all__ = [
    "check_context_options",
    "check_flag",
    "check_messages",
    "check_model",
    "check_read_timeout",
    "check_temperature",
    "retrieval_options",
]

_ROLES: Final = frozenset({"user", "assistant"})
_ROLES_2026: Final = frozenset({"user", "assistant", "system"})


def check_messages(messages: object, api_version: str) -> list[dict[str, str]]:
    if isinstance(messages, str | bytes) or not isinstance(messages, Sequence):
        raise ValidationError(
            "messages must be a list of messages, e.g. [{'role': 'user', 'content': 'Hi'}]"
        )
    if not messages:
        raise ValidationError("messages must not be empty")
    roles = _ROLES_2026 if api_version >= "2026-04" else _ROLES
    out: list[dict[str, str]] = []
    role: object
    content: object
    for i, message in enumerate(messages):
        if isinstance(message, Message):
            role, content = message.role, message.content
        elif isinstance(message, Mapping):
            role, content = message.get("role", "user"), message.get("content")
            extra = set(message) - {"role", "content"}
            if extra:
                raise ValidationError(f"messages[{i}] has unknown keys: {sorted(extra)}")
        else:
            raise ValidationError(
                f"messages[{i}] must be a Message or a mapping, got {type(message).__name__}"
            )
        if not isinstance(content, str) or not content.strip():
            raise ValidationError(
                f"messages[{i}].content must be a non-empty string, got {content!r}"
            )
        if role not in roles:
            raise ValidationError(
                f"messages[{i}].role must be one of {', '.join(sorted(roles))}, got {role!r}"
            )
        out.append({"role": str(role), "content": content})
    return out


def check_model(model: object) -> str:
    if not isinstance(model, str) or not model.strip():
        raise ValidationError(f"model must be a non-empty string, got {model!r}")
    return model


def check_temperature(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValidationError(f"temperature must be a number, got {value!r}")
    if value < 0:
        raise ValidationError(f"temperature must be >= 0, got {value!r}")
    return float(value)


def check_flag(value: object, field: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(f"{field} must be True or False, got {value!r}")
    return value


def _int_in(value: object, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{field} must be an integer, got {value!r}")
    if not low <= value <= high:
        raise ValidationError(f"{field} must be between {low} and {high}, got {value}")
    return value


def retrieval_options(
    api_version: str,
    *,
    where: str,
    top_k: object = None,
    snippet_size: object = None,
    multimodal: object = None,
    include_binary_content: object = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if top_k is not None:
        out["top_k"] = _int_in(top_k, f"{where}top_k", 1, 64)
    if snippet_size is not None:
        out["snippet_size"] = _int_in(snippet_size, f"{where}snippet_size", 512, 8192)
    if multimodal is not None or include_binary_content is not None:
        if api_version < "2025-10":
            raise ValidationError(
                f"{where}multimodal and {where}include_binary_content need api_version 2025-10 "
                "or later"
            )
        if multimodal is not None:
            out["multimodal"] = check_flag(multimodal, f"{where}multimodal")
        if include_binary_content is not None:
            out["include_binary_content"] = check_flag(
                include_binary_content, f"{where}include_binary_content"
            )
            if include_binary_content and multimodal is False:
                raise ValidationError(
                    f"{where}include_binary_content=True needs multimodal (not multimodal=False)"
                )
    return out


def check_context_options(value: object, api_version: str) -> dict[str, Any]:
    if isinstance(value, ContextOptions):
        fields: Mapping[str, Any] = {
            "top_k": value.top_k,
            "snippet_size": value.snippet_size,
            "multimodal": value.multimodal,
            "include_binary_content": value.include_binary_content,
        }
    elif isinstance(value, Mapping):
        fields = value
        unknown = set(fields) - {"top_k", "snippet_size", "multimodal", "include_binary_content"}
        if unknown:
            raise ValidationError(f"context_options has unknown keys: {sorted(unknown)}")
    else:
        raise ValidationError(
            f"context_options must be a ContextOptions or a mapping, got {type(value).__name__}"
        )
    return retrieval_options(api_version, where="context_options.", **fields)


def check_read_timeout(value: object) -> float | None:
    """``None`` (the client's default) or seconds > 0 of silence allowed between two reads."""
    return check_seconds(value, "read_timeout", allow_none=True)
