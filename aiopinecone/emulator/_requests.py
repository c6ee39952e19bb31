"""Chat and context request bodies: messages, model, sampling values, multimodal options."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ._errors import invalid
from ._filter import Predicate, compile_filter
from ._http import optional_bool
from ._records import FileRecord
from ._state import EmulatorState

DEFAULT_MODEL = "gpt-4o"
KNOWN_MODELS = (
    "gpt-4o",
    "gpt-4.1",
    "gpt-5",
    "o4-mini",
    "claude-3-5-sonnet",
    "claude-3-7-sonnet",
    "claude-sonnet-4-5",
    "gemini-2.5-pro",
)
"""Every model the specs list (all versions): the service refuses others with 400."""
_TEMPERATURE_RANGE = (0.0, 2.0)
_TOP_P_RANGE = (0.0, 1.0)
_ROLES = ("user", "assistant", "system")


def messages_of(body: Mapping[str, Any]) -> list[dict[str, str]]:
    messages = body.get("messages")
    if not isinstance(messages, list):
        raise invalid("Field 'messages' is required: a non-empty array of {role, content}.")
    if not messages:
        raise invalid("Must have at least 1 message")
    out = []
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            raise invalid(f"messages[{index}] must be an object with 'role' and 'content'.")
        role = message.get("role", "user")
        content = message.get("content")
        if not isinstance(role, str) or role not in _ROLES:
            raise invalid(f"messages[{index}].role must be one of {', '.join(_ROLES)}.")
        if not isinstance(content, str):
            raise invalid(f"messages[{index}].content must be a string.")
        if not content.strip():
            raise invalid("Message content cannot be empty")
        out.append({"role": role, "content": content})
    return out


def query_of(messages: Sequence[Mapping[str, str]]) -> str:
    for message in reversed(messages):
        if message["role"] == "user":
            return message["content"]
    return messages[-1]["content"]


def filter_of(body: Mapping[str, Any]) -> Predicate | None:
    spec = body.get("filter")
    return None if spec is None else compile_filter(spec)


def model_of(body: Mapping[str, Any]) -> str:
    model = body.get("model", DEFAULT_MODEL)
    if model is None:
        return DEFAULT_MODEL
    if not isinstance(model, str) or not model:
        raise invalid("Field 'model' must be a non-empty string.")
    if model not in KNOWN_MODELS:
        raise invalid(
            f"Invalid model {model[:80]!r}. Supported models are: {', '.join(KNOWN_MODELS)}."
        )
    return model


def check_sampling(body: Mapping[str, Any]) -> None:
    for key, (low, high) in (("temperature", _TEMPERATURE_RANGE), ("top_p", _TOP_P_RANGE)):
        value = body.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise invalid(f"Field {key!r} must be a number.")
        if not low <= value <= high:
            raise invalid(f"Invalid {key} {value}: must be between {low:g} and {high:g}.")


def multimodal_options(body: Mapping[str, Any]) -> tuple[bool, bool]:
    """``(multimodal, include_binary_content)``; binary content needs ``multimodal``."""
    multimodal = optional_bool(body, "multimodal", default=True)
    binary = optional_bool(body, "include_binary_content", default=True)
    if body.get("include_binary_content") is True and not multimodal:
        raise invalid("include_binary_content can only be set to true when multimodal is true.")
    return multimodal, binary and multimodal


def files_matching(
    state: EmulatorState, assistant: str, matches: Predicate | None
) -> list[FileRecord]:
    files = state.store.available_files(assistant)
    return files if matches is None else [f for f in files if matches(f.metadata)]
