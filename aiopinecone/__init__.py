"""aiopinecone: an asyncio client for the Pinecone Assistant API."""

from importlib.metadata import PackageNotFoundError, version

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
    ResourceFailedError,
    ResponseParseError,
    ServerError,
    TimeoutError,
    TransportError,
    ValidationError,
    WaitTimeoutError,
)
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
    "ResourceFailedError",
    "ResponseParseError",
    "RetryPolicy",
    "ServerError",
    "TimeoutError",
    "TransportError",
    "ValidationError",
    "WaitTimeoutError",
    "__version__",
    "load_fleet",
    "set_retry_testing",
    "track_requests",
]
