"""aiopinecone: an asyncio client for the Pinecone Assistant API.

``import aiopinecone`` loads the client only. The provisioning names (``AssistantSpec``,
``load_fleet``, ``Provisioner``...) load :mod:`aiopinecone.provision` (and PyYAML) when first
used; the emulator and the command line are never loaded by this import.
"""

import importlib
from typing import TYPE_CHECKING, Final

from ._client import AsyncPinecone
from ._core import RequestStats, track_requests
from ._retry import RetryPolicy
from ._retry import set_testing as set_retry_testing
from ._version import __version__
from .exceptions import (
    APIError,
    AssistantFailedError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    FileProcessingError,
    NotFoundError,
    PermissionDeniedError,
    PineconeError,
    PoolTimeoutError,
    QuotaExceededError,
    RateLimitError,
    RequestTimeoutError,
    ResourceFailedError,
    ResponseParseError,
    ServerError,
    TransportError,
    ValidationError,
    WaitTimeoutError,
)
from .exceptions import deprecated_alias as _deprecated_alias
from .models import (
    AlignmentResult,
    Assistant,
    AssistantFile,
    AssistantStatus,
    ChatCompletion,
    ChatResponse,
    ChunkType,
    ContextOptions,
    ContextResponse,
    FileStatus,
    Message,
    Operation,
    OperationStatus,
    Region,
)
from .resources import Assistants, ChatCompletionStream, ChatStream

__all__ = [
    "APIError",
    "AlignmentResult",
    "Assistant",
    "AssistantFailedError",
    "AssistantFile",
    "AssistantSpec",
    "AssistantStatus",
    "Assistants",
    "AsyncPinecone",
    "AuthenticationError",
    "BadRequestError",
    "ChatCompletion",
    "ChatCompletionStream",
    "ChatResponse",
    "ChatStream",
    "ChunkType",
    "ConflictError",
    "ContextOptions",
    "ContextResponse",
    "FileProcessingError",
    "FileSpec",
    "FileStatus",
    "FleetError",
    "Message",
    "NotFoundError",
    "Operation",
    "OperationStatus",
    "PermissionDeniedError",
    "PineconeError",
    "Plan",
    "PoolTimeoutError",
    "ProvisionReport",
    "Provisioner",
    "QuotaExceededError",
    "RateLimitError",
    "RateLimits",
    "Region",
    "RequestStats",
    "RequestTimeoutError",
    "ResourceFailedError",
    "ResponseParseError",
    "RetryPolicy",
    "ServerError",
    "TransportError",
    "ValidationError",
    "WaitTimeoutError",
    "__version__",
    "load_fleet",
    "set_retry_testing",
    "track_requests",
]

_LAZY: Final = {
    "AssistantSpec": "provision",
    "FileSpec": "provision",
    "FleetError": "provision",
    "Plan": "provision",
    "ProvisionReport": "provision",
    "Provisioner": "provision",
    "RateLimits": "provision",
    "load_fleet": "provision",
}
"""Public names loaded on first use (PEP 562): name -> the submodule that defines it."""

_LAZY_SUBMODULES: Final = frozenset({"provision"})
"""Subpackages that ``import aiopinecone`` used to load, reachable as attributes on first use."""

if TYPE_CHECKING:  # what type checkers see; at runtime __getattr__ loads these on first use
    from .provision import (
        AssistantSpec,
        FileSpec,
        FleetError,
        Plan,
        Provisioner,
        ProvisionReport,
        RateLimits,
        load_fleet,
    )

    TimeoutError = RequestTimeoutError  # deprecated alias


def __getattr__(name: str) -> object:
    """Load a provisioning name on first use; resolve deprecated names (with a warning)."""
    submodule = _LAZY.get(name)
    if submodule is not None:
        value: object = getattr(importlib.import_module(f"{__name__}.{submodule}"), name)
        globals()[name] = value  # later lookups skip this function
        return value
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    cls = _deprecated_alias(__name__, name)
    if cls is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return cls


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
