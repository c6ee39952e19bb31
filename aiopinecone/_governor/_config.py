"""Governor configuration: operation classes, the plans' limits, what ``rate_limits=`` accepts.

Pinecone limits each project per operation class and per minute (DESIGN.md §3). Each request
(``op``, the name the core gives an attempt) belongs to one class. Chat and context calls also
spend input tokens, which Pinecone limits per minute (chat, per organisation): such a call
takes a permit of its request class *and* one of its token class (``TOKEN_CLASS``), sized by
an estimate and corrected by the answer's ``usage`` (``_tokens.py``, ``_budgets.py``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final, Literal

import attrs

__all__ = [
    "OPERATION_CLASSES",
    "PRESETS",
    "PRESET_NAMES",
    "TOKEN_CLASS",
    "RateLimits",
    "class_of",
]

ASSISTANTS_READ: Final = "assistants_read"
ASSISTANTS_WRITE: Final = "assistants_write"
ASSISTANTS_DELETE: Final = "assistants_delete"
FILES_READ: Final = "files_read"
FILES_UPLOAD: Final = "files_upload"
FILES_DELETE: Final = "files_delete"
CHAT: Final = "chat"
CONTEXT: Final = "context"
EVALUATION: Final = "evaluation"
CHAT_TOKENS: Final = "chat_tokens"
CONTEXT_TOKENS: Final = "context_tokens"

OPERATION_CLASSES: Final = (
    ASSISTANTS_READ,
    ASSISTANTS_WRITE,
    ASSISTANTS_DELETE,
    FILES_READ,
    FILES_UPLOAD,
    FILES_DELETE,
    CHAT,
    CONTEXT,
    EVALUATION,
    CHAT_TOKENS,
    CONTEXT_TOKENS,
)
"""Every budget the governor keeps: the request classes Pinecone limits separately (the plans
limit the first six; chat, context and evaluation are learnt when the server limits them), and
the input tokens per window of chat (chat and chat completions) and of context."""

TOKEN_CLASS: Final = MappingProxyType({CHAT: CHAT_TOKENS, CONTEXT: CONTEXT_TOKENS})
"""The token budget a call of a request class also spends (input tokens)."""


_OP_CLASS: Final = MappingProxyType(
    {
        "list_assistants": ASSISTANTS_READ,
        "describe_assistant": ASSISTANTS_READ,
        "create_assistant": ASSISTANTS_WRITE,
        "update_assistant": ASSISTANTS_WRITE,
        "delete_assistant": ASSISTANTS_DELETE,
        "list_files": FILES_READ,
        "describe_file": FILES_READ,
        "describe_operation": FILES_READ,
        "list_operations": FILES_READ,
        "upload_file": FILES_UPLOAD,
        "upsert_file": FILES_UPLOAD,
        "delete_file": FILES_DELETE,
        "chat": CHAT,
        "chat_completions": CHAT,
        "context": CONTEXT,
        "evaluate_alignment": EVALUATION,
    }
)


def class_of(op: str) -> str:
    """The operation class of the core's operation name ``op`` (by name, then by prefix; a
    class name is its own class)."""
    cls = _OP_CLASS.get(op)
    if cls is not None:
        return cls
    if op in OPERATION_CLASSES:
        return op
    if op.startswith(("chat", "stream_chat")):
        return CHAT
    if op.startswith("context"):
        return CONTEXT
    if op.startswith("evaluat"):
        return EVALUATION
    if "file" in op or "operation" in op:
        if op.startswith(("list", "describe", "get")):
            return FILES_READ
        if op.startswith("delete"):
            return FILES_DELETE
        return FILES_UPLOAD
    if op.startswith(("list", "describe", "get")):
        return ASSISTANTS_READ
    if op.startswith("delete"):
        return ASSISTANTS_DELETE
    return ASSISTANTS_WRITE


def _preset(
    read: int, write: int, delete: int, f_read: int, f_up: int, f_del: int, *, chat_tokens: int
) -> Mapping[str, int]:
    limits = dict(
        zip(OPERATION_CLASSES[:6], (read, write, delete, f_read, f_up, f_del), strict=True)
    )
    limits[CHAT_TOKENS] = chat_tokens
    return MappingProxyType(limits)


PRESETS: Final[Mapping[str, Mapping[str, int]]] = MappingProxyType(
    {
        "starter": _preset(40, 20, 20, 100, 5, 5, chat_tokens=100_000),
        "standard": _preset(100, 50, 50, 300, 20, 20, chat_tokens=300_000),
        "enterprise": _preset(500, 100, 100, 6000, 300, 300, chat_tokens=1_000_000),
    }
)
"""Requests per minute per operation class of each Pinecone plan (DESIGN.md §3), and chat input
tokens per minute (Pinecone's "Assistant limits" page, 2026: 100k / 300k / 1M; per
organisation, so projects of one organisation share it). Chat, context and evaluation requests
and context tokens are not limited per minute by the plans."""

PresetName = Literal["starter", "standard", "enterprise", "adaptive", "unlimited", "off"]
PRESET_NAMES: Final = ("starter", "standard", "enterprise", "adaptive", "unlimited", "off")


def _check_limits(value: Mapping[str, float | None]) -> Mapping[str, float | None]:
    out: dict[str, float | None] = {}
    for op, limit in value.items():
        if op not in OPERATION_CLASSES:
            raise ValueError(
                f"unknown operation class {op!r}: use one of {', '.join(OPERATION_CLASSES)}"
            )
        if limit is not None and (isinstance(limit, bool) or not limit >= 1):
            raise ValueError(f"the limit of {op} must be >= 1 per window, got {limit!r}")
        out[op] = None if limit is None else float(limit)
    return MappingProxyType(out)


def _positive(_inst: object, attr: attrs.Attribute[float], value: float) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise ValueError(f"{attr.name} must be a finite number > 0, got {value!r}")


def _check_redis_url(_inst: object, _attr: object, value: str | None) -> None:
    if value and not (isinstance(value, str) and value.startswith(_REDIS_SCHEMES)):
        scheme = str(value).partition("://")[0] if "://" in str(value) else "no scheme"
        raise ValueError(f"redis_url must start with redis://, rediss:// or unix://, not {scheme}")


_REDIS_SCHEMES: Final = ("redis://", "rediss://", "unix://")


@attrs.frozen(kw_only=True)
class RateLimits:
    """What the governor allows per operation class: ``limits[class]`` units per ``window``.

    Build one with :meth:`preset` (``starter``, ``standard``, ``enterprise``, ``adaptive``,
    ``unlimited``/``off``) or directly. ``window`` is the server's "minute" in seconds (60
    against Pinecone, shorter against a time-scaled emulator). A class absent from ``limits``
    (or ``None``) is not limited. With ``adaptive`` the governor learns the real limits from the
    answers: a class with a number starts there (a safe guess) and grows, a class without one
    runs freely until its first 429s; without ``adaptive`` the numbers are exact. ``enabled``
    False switches the governor off (no permits, no waiting). ``probe_interval`` is kept for
    compatibility and ignored.

    **Token budgets.** ``chat_tokens`` and ``context_tokens`` are input tokens per ``window``:
    a chat (or chat completions) call needs a permit of ``chat`` (one request) *and* one of
    ``chat_tokens`` sized by its estimated input tokens, corrected to the answer's
    ``usage.prompt_tokens`` when it arrives; a context call likewise with ``context`` and
    ``context_tokens``. The plans' presets set ``chat_tokens`` (100k, 300k, 1M per minute);
    ``context_tokens`` has no plan number (adaptive: learnt at its first 429s). A token class
    that is neither given a number nor adaptive costs nothing (no token permit). With a token
    budget, a 429 on chat or context teaches the token class (Pinecone limits them in tokens).
    """

    limits: Mapping[str, float | None] = attrs.field(converter=_check_limits)
    window: float = attrs.field(default=60.0, validator=_positive)
    adaptive: bool = False
    probe_interval: float = attrs.field(default=4.0, validator=_positive)
    enabled: bool = True
    redis_url: str | None = attrs.field(default=None, validator=_check_redis_url, repr=False)
    """Share the budget with every process using the same Redis and ``namespace`` (the
    ``aiopinecone[redis]`` extra). ``None``: ``$AIOPINECONE_RATE_REDIS_URL`` if set; ``""``:
    never (this process alone, whatever the environment says)."""
    namespace: str | None = None
    """The budget's name: one per Pinecone project, in Redis and in this process (the clients
    of one namespace share one budget). ``None``: derived from the API key and host (a hash;
    clients and processes with the same key share)."""

    @classmethod
    def preset(cls, name: str, *, window: float = 60.0, redis_url: str | None = None) -> RateLimits:
        """The limits of a plan; ``adaptive`` starts from Starter's and learns."""
        if name == "adaptive":
            return cls(limits=PRESETS["starter"], window=window, adaptive=True, redis_url=redis_url)
        if name in ("unlimited", "off"):
            return cls(limits={}, window=window, enabled=False)
        if name not in PRESETS:
            raise ValueError(f"unknown rate preset {name!r}: use one of {', '.join(PRESET_NAMES)}")
        return cls(limits=PRESETS[name], window=window, redis_url=redis_url)

    @classmethod
    def default(cls) -> RateLimits:
        """What a client uses when not told: adaptive, from the Starter limits."""
        return cls.preset("adaptive")

    @classmethod
    def coerce(cls, value: object) -> RateLimits:
        """``rate_limits=``: None (adaptive), a preset name, a mapping of exact limits per
        minute, ``False`` (off), or a :class:`RateLimits`."""
        if value is None:
            return cls.default()
        if isinstance(value, RateLimits):
            return value
        if value is False:
            return cls.preset("off")
        if isinstance(value, str):
            return cls.preset(value)
        if isinstance(value, Mapping):
            return cls(limits=value)
        limits, window = getattr(value, "limits", None), getattr(value, "window", None)
        if isinstance(limits, Mapping) and isinstance(window, int | float):
            # The provisioning RateLimits of earlier versions: same fields.
            return cls(
                limits=limits,
                window=window,
                adaptive=bool(getattr(value, "adaptive", False)),
                enabled=bool(limits) or bool(getattr(value, "adaptive", False)),
            )
        raise TypeError(
            "rate_limits must be None, a preset name, a mapping of operation class to requests "
            f"per minute, False or aiopinecone.RateLimits, got {value!r}"
        )
