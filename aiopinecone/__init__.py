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
from .models import Assistant, AssistantStatus, Region
from .resources import NOT_GIVEN, Assistants

__all__ = [
    "NOT_GIVEN",
    "APIError",
    "Assistant",
    "AssistantFailedError",
    "AssistantStatus",
    "Assistants",
    "AsyncPinecone",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "FileProcessingError",
    "NotFoundError",
    "PermissionDeniedError",
    "PineconeError",
    "QuotaExceededError",
    "RateLimitError",
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
    "set_retry_testing",
    "track_requests",
]
