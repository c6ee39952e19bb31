"""The public error hierarchy.

Every failure the client reports is a :class:`PineconeError`::

    PineconeError
    ├── ValidationError            bad input, raised before any request (also a ValueError)
    ├── TransportError             the request did not get an HTTP answer
    │   ├── RequestTimeoutError    ... because a timeout expired (also a builtin TimeoutError)
    │   └── PoolTimeoutError       ... because no pooled connection was free in time (not sent)
    ├── ResponseParseError         the server answered 2xx with a body that does not fit the model
    ├── WaitTimeoutError           a wait (readiness, processing) outlived its budget
    ├── ResourceFailedError        a waited-for resource reached a failed state
    │   ├── AssistantFailedError
    │   └── FileProcessingError
    └── APIError                   the server answered with an error status
        ├── BadRequestError        400
        ├── AuthenticationError    401
        ├── PermissionDeniedError  403
        ├── NotFoundError          404
        ├── ConflictError          409, or any status with code ALREADY_EXISTS
        ├── RateLimitError         429 (``retry_after``)
        ├── QuotaExceededError     code QUOTA_EXCEEDED, or a 403 about a quota
        └── ServerError            5xx

The API key never appears in any message: the client redacts it before raising.

``TimeoutError`` is a deprecated alias of :class:`RequestTimeoutError` (the old name shadowed the
builtin); it still works, with a :class:`DeprecationWarning`.
"""

from __future__ import annotations

import builtins
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

__all__ = [
    "APIError",
    "AssistantFailedError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "FileProcessingError",
    "NotFoundError",
    "PermissionDeniedError",
    "PineconeError",
    "PoolTimeoutError",
    "QuotaExceededError",
    "RateLimitError",
    "RequestTimeoutError",
    "ResourceFailedError",
    "ResponseParseError",
    "ServerError",
    "TransportError",
    "ValidationError",
    "WaitTimeoutError",
]


class PineconeError(Exception):
    """Base class of every error raised by aiopinecone."""


class ValidationError(PineconeError, ValueError):
    """Invalid input, detected on the client before any request is sent."""


class TransportError(PineconeError):
    """The request got no HTTP answer: connection refused or reset, DNS failure, timeout.

    ``attempts`` is how many attempts the call made; ``ambiguous`` is true when an attempt may
    have reached the server (so a non-idempotent operation may have been applied);
    ``connect_failed`` is true when the last attempt failed while connecting (refused, reset
    or timed out while connecting, DNS, TLS handshake): that request was never sent.
    """

    def __init__(
        self,
        message: str,
        *,
        attempts: int = 1,
        ambiguous: bool = True,
        connect_failed: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.attempts = attempts
        self.ambiguous = ambiguous
        self.connect_failed = connect_failed


class RequestTimeoutError(TransportError, builtins.TimeoutError):
    """A connect, read or total timeout expired before the server answered.

    Also a builtin :class:`TimeoutError`. Formerly ``aiopinecone.TimeoutError`` (a deprecated
    alias that still resolves to this class).
    """


class PoolTimeoutError(TransportError):
    """No connection of the client's pool became free within ``pool_timeout`` seconds.

    The request was not sent (``ambiguous`` is false) and is not retried: every connection is
    busy with other calls, and another attempt would only lengthen the queue. Raise
    ``AsyncPinecone(max_connections=...)`` or ``pool_timeout=``, or send fewer calls at once.
    """

    def __init__(self, message: str, *, attempts: int = 1) -> None:
        super().__init__(message, attempts=attempts, ambiguous=False)


class ResponseParseError(PineconeError):
    """A successful response whose body does not match the expected model.

    ``path`` names the offending field (for example ``$.assistants[3].created_at``).
    """

    def __init__(
        self, message: str, *, path: str = "$", status: int = 200, request_id: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.status = status
        self.request_id = request_id


class WaitTimeoutError(PineconeError, builtins.TimeoutError):
    """Waiting for a resource (an assistant to be ready, a file to be processed) took too long.

    ``last_status`` is the last status observed, when there was one.
    """

    def __init__(self, message: str, *, last_status: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.last_status = last_status


class ResourceFailedError(PineconeError):
    """A resource being waited for reached a state it will not leave on its own."""

    def __init__(self, message: str, *, name: str, status: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.name = name
        self.status = status
        self.reason = reason


class AssistantFailedError(ResourceFailedError):
    """The assistant is ``Failed``, ``InitializationFailed`` or ``Terminating``."""


class FileProcessingError(ResourceFailedError):
    """A file (or its operation) failed to process; ``reason`` carries the server's message."""


class APIError(PineconeError):
    """The server answered with an error status.

    Attributes: ``status`` (HTTP status), ``code`` (the envelope's ``error.code``, or ``None``),
    ``message`` (the server's message, or a description of the raw body), ``details``
    (``error.details``, possibly empty), ``request_id`` (from ``x-pinecone-request-id`` /
    ``x-request-id``), ``attempts`` (attempts made by the call) and ``ambiguous`` (an earlier
    attempt may have been applied by the server).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str | None = None,
        details: Mapping[str, Any] | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.details: Mapping[str, Any] = details if details is not None else {}
        self.request_id = request_id
        self.attempts = 1
        self.ambiguous = False

    def __str__(self) -> str:
        head = f"{self.status} {self.code}" if self.code else str(self.status)
        tail = f" (request id {self.request_id})" if self.request_id else ""
        return f"{head}: {self.message}{tail}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, "
            f"message={self.message!r}, request_id={self.request_id!r})"
        )


class BadRequestError(APIError):
    """400: the server rejected the request's content."""


class AuthenticationError(APIError):
    """401: missing or invalid API key."""


class PermissionDeniedError(APIError):
    """403: the key may not do this."""


class NotFoundError(APIError):
    """404: no such assistant, file, operation or route."""


class ConflictError(APIError):
    """409, or any status with code ``ALREADY_EXISTS``: the resource already exists."""


class RateLimitError(APIError):
    """429: too many requests; ``retry_after`` is the server's hint in seconds, if any."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str | None = None,
        details: Mapping[str, Any] | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status=status, code=code, details=details, request_id=request_id)
        self.retry_after = retry_after


class QuotaExceededError(APIError):
    """A project quota is used up; waiting does not help, so it is never retried."""


class ServerError(APIError):
    """5xx: the server failed."""


DEPRECATED_ALIASES: dict[str, tuple[str, type[PineconeError]]] = {
    "TimeoutError": ("RequestTimeoutError", RequestTimeoutError),
}
"""Old public names: name -> (new name, class). Looked up by :func:`deprecated_alias`."""


def deprecated_alias(module: str, name: str) -> type[PineconeError] | None:
    """The class a deprecated name of ``module`` stands for (with a warning), else ``None``."""
    alias = DEPRECATED_ALIASES.get(name)
    if alias is None:
        return None
    new_name, cls = alias
    warnings.warn(
        f"{module}.{name} is deprecated; use {module}.{new_name} (the old name shadows the "
        "builtin)",
        DeprecationWarning,
        stacklevel=3,
    )
    return cls


def __getattr__(name: str) -> type[PineconeError]:
    cls = deprecated_alias(__name__, name)
    if cls is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return cls


if TYPE_CHECKING:  # what type checkers see of the deprecated name; at runtime, __getattr__
    TimeoutError = RequestTimeoutError
