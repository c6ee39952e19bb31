"""aiopinecone: an asyncio client for the Pinecone Assistant API.

``import aiopinecone`` loads the client only. The data-plane names (chat, context, files,
operations and evaluation models, the chat streams) load their area when first used; the
provisioning names (``AssistantSpec``, ``load_fleet``, ``Provisioner``...) load
:mod:`aiopinecone.provision` (and PyYAML); the emulator and the command line are never loaded
by this import.
"""

import importlib
from typing import TYPE_CHECKING, Final

from ._client import AsyncPinecone
from ._core import RequestStats, track_requests
from ._governor import Governor, RateLimits
from ._governor._projects import forget_projects
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
from .models.assistants import Assistant, AssistantStatus, Region
from .resources import Assistants

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
    "Governor",
    "MCPEndpoint",
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
    "forget_projects",
    "load_fleet",
    "set_retry_testing",
    "track_requests",
]

_LAZY: Final = {
    "AlignmentResult": "models.evaluation",
    "AssistantFile": "models.files",
    "ChatCompletion": "models.chat",
    "ChatCompletionStream": "resources._streams",
    "ChatResponse": "models.chat",
    "ChatStream": "resources._streams",
    "ChunkType": "models.chat",
    "ContextOptions": "models.chat",
    "ContextResponse": "models.context",
    "FileStatus": "models.files",
    "MCPEndpoint": "resources._mcp",
    "Message": "models.chat",
    "Operation": "models.operations",
    "OperationStatus": "models.operations",
    "AssistantSpec": "provision",
    "FileSpec": "provision",
    "FleetError": "provision",
    "Plan": "provision",
    "ProvisionReport": "provision",
    "Provisioner": "provision",
    "load_fleet": "provision",
}
"""Public names loaded on first use (PEP 562): name -> the submodule that defines it.

A name here must not be imported eagerly anywhere on the client path (``_client`` and what it
imports), or the area would load with the package again (``tests/test_package_import.py``).
"""

_LAZY_SUBMODULES: Final = frozenset({"provision"})
"""Subpackages that ``import aiopinecone`` used to load, reachable as attributes on first use."""

if TYPE_CHECKING:  # what type checkers see; at runtime __getattr__ loads these on first use
    from .models.chat import ChatCompletion, ChatResponse, ChunkType, ContextOptions, Message
    from .models.context import ContextResponse
    from .models.evaluation import AlignmentResult
    from .models.files import AssistantFile, FileStatus
    from .models.operations import Operation, OperationStatus
    from .provision import (
        AssistantSpec,
        FileSpec,
        FleetError,
        Plan,
        Provisioner,
        ProvisionReport,
        load_fleet,
    )
    from .resources._mcp import MCPEndpoint
    from .resources._streams import ChatCompletionStream, ChatStream

    TimeoutError = RequestTimeoutError  # deprecated alias


def __getattr__(name: str) -> object:
    """Load a data-plane or provisioning name on first use; resolve deprecated names."""
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
