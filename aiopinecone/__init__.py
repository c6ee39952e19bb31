"""aiopinecone: an asyncio client for the Pinecone Assistant API."""

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

try:
    __version__ = version("aiopinecone")
except PackageNotFoundError:  # pragma: no cover - running from a source tree that is not installed
    __version__ = "0.0.0"

from ._client import AsyncPinecone
from ._core import RequestStats, track_requests
from ._retry import RetryPolicy
from ._retry import set_testing as set_retry_testing
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


if TYPE_CHECKING:  # the deprecated alias, as type checkers see it; at runtime, __getattr__
    TimeoutError = RequestTimeoutError


def __getattr__(name: str) -> object:
    """Deprecated names (``TimeoutError``: use :class:`RequestTimeoutError`)."""
    cls = _deprecated_alias(__name__, name)
    if cls is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return cls
