"""Domain errors that know their gRPC status, so they are mapped in one place.

The domain cannot import grpc, so a status is named by its string (grpc.StatusCode's name);
billing_common.grpc_server.observed turns it into the real code.
"""
from __future__ import annotations


class DomainError(Exception):
    """Base for every error a use case raises on purpose. Its message is safe to show."""

    code = "FAILED_PRECONDITION"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidArgument(DomainError):
    """Bad input: names the field (S24)."""

    code = "INVALID_ARGUMENT"


class NotFound(DomainError):
    code = "NOT_FOUND"


class AlreadyExists(DomainError):
    code = "ALREADY_EXISTS"


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"


class PermissionDenied(DomainError):
    code = "PERMISSION_DENIED"


class FailedPrecondition(DomainError):
    code = "FAILED_PRECONDITION"


class Unavailable(DomainError):
    """Too busy for this call now (shedding load, not down); try again in `retry_after` seconds."""

    code = "UNAVAILABLE"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RateLimited(DomainError):
    """Too many attempts; `retry_after` seconds until the next one is considered (S4, S7)."""

    code = "RESOURCE_EXHAUSTED"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class DeadlineExceeded(DomainError):
    """The caller's deadline passed before the work was done: it is dropped, not finished."""

    code = "DEADLINE_EXCEEDED"
