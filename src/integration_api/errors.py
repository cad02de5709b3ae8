"""Typed errors of the domain, each carrying the gRPC status it maps to.

Every layer below the servicers raises these; one interceptor turns them into a status with
`google.rpc` details. Messages are written for the caller and must never contain a secret:
build them from field names, ids and sanitized provider text only — never from `repr()` of an
object that may hold key material.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import grpc


@dataclass(frozen=True)
class FieldViolation:
    """One bad field of a request: its path (`secret.api_key.key`) and what is wrong with it."""

    field: str
    description: str


class ServiceError(Exception):
    """Base of every error that the API layer maps to a gRPC status."""

    code: grpc.StatusCode = grpc.StatusCode.INTERNAL
    retryable: bool = False
    default_reason: str = "INTERNAL"
    # When the caller may try again (sent as RetryInfo); None when there is nothing to say.
    retry_after_seconds: float | None = None

    def __init__(
        self,
        message: str,
        *,
        reason: str | None = None,
        provider: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason or self.default_reason
        self.provider = provider
        self.metadata = dict(metadata or {})


class InvalidArgument(ServiceError):
    code = grpc.StatusCode.INVALID_ARGUMENT
    default_reason = "INVALID_ARGUMENT"

    def __init__(
        self,
        message: str,
        violations: list[FieldViolation] | None = None,
        **kwargs: str | None,
    ) -> None:
        super().__init__(message, reason=kwargs.get("reason"), provider=kwargs.get("provider"))
        self.violations = list(violations or [])

    @classmethod
    def for_field(cls, field_path: str, description: str) -> InvalidArgument:
        return cls(f"{field_path}: {description}", [FieldViolation(field_path, description)])


class NotFound(ServiceError):
    code = grpc.StatusCode.NOT_FOUND
    default_reason = "NOT_FOUND"


class AlreadyExists(ServiceError):
    code = grpc.StatusCode.ALREADY_EXISTS
    default_reason = "ALREADY_EXISTS"


class Aborted(ServiceError):
    """A concurrent write won (optimistic concurrency); the caller may re-read and retry."""

    code = grpc.StatusCode.ABORTED
    default_reason = "CONCURRENT_MODIFICATION"
    retryable = True


class FailedPrecondition(ServiceError):
    code = grpc.StatusCode.FAILED_PRECONDITION
    default_reason = "FAILED_PRECONDITION"


class Unauthenticated(ServiceError):
    code = grpc.StatusCode.UNAUTHENTICATED
    default_reason = "UNAUTHENTICATED"


class PermissionDenied(ServiceError):
    code = grpc.StatusCode.PERMISSION_DENIED
    default_reason = "PERMISSION_DENIED"


@dataclass
class RateLimitDetails:
    retry_after_seconds: float | None = None
    extra: dict[str, str] = field(default_factory=dict)


class ResourceExhausted(ServiceError):
    code = grpc.StatusCode.RESOURCE_EXHAUSTED
    default_reason = "RATE_LIMITED"
    retryable = True

    def __init__(
        self,
        message: str,
        *,
        retry_after_seconds: float | None = None,
        reason: str | None = None,
        provider: str | None = None,
    ) -> None:
        super().__init__(message, reason=reason, provider=provider)
        self.retry_after_seconds = retry_after_seconds


class Unavailable(ServiceError):
    code = grpc.StatusCode.UNAVAILABLE
    default_reason = "UPSTREAM_UNAVAILABLE"
    retryable = True


class DeadlineExceeded(ServiceError):
    code = grpc.StatusCode.DEADLINE_EXCEEDED
    default_reason = "DEADLINE_EXCEEDED"


class Unimplemented(ServiceError):
    code = grpc.StatusCode.UNIMPLEMENTED
    default_reason = "UNIMPLEMENTED"


class Internal(ServiceError):
    code = grpc.StatusCode.INTERNAL
    default_reason = "INTERNAL"
