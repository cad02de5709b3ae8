"""The one table from typed domain errors to gRPC statuses with `google.rpc` details.

Details travel in the `grpc-status-details-bin` trailer (grpcio-status): BadRequest field
violations, ErrorInfo with a reason, the provider and the request id, RetryInfo for rate limits.
"""

from __future__ import annotations

import math

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from integration_api.errors import InvalidArgument, ServiceError

ERROR_DOMAIN = "integration-api"


def _pack(message: object) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)  # type: ignore[arg-type]
    return packed


def status_for(error: ServiceError, request_id: str) -> grpc.Status:
    """Builds the rich status for a domain error. The message is the error's own (secret-free)."""
    details = []
    info = error_details_pb2.ErrorInfo(reason=error.reason, domain=ERROR_DOMAIN)
    if error.provider:
        info.metadata["provider"] = error.provider
    if request_id:
        info.metadata["request_id"] = request_id
    for key, value in error.metadata.items():
        info.metadata[key] = value
    details.append(_pack(info))
    if isinstance(error, InvalidArgument) and error.violations:
        bad_request = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(
                    field=v.field, description=v.description
                )
                for v in error.violations
            ]
        )
        details.append(_pack(bad_request))
    if error.retry_after_seconds is not None:
        seconds = max(0.0, error.retry_after_seconds)
        delay = duration_pb2.Duration(
            seconds=int(seconds), nanos=int((seconds - math.floor(seconds)) * 1e9)
        )
        details.append(_pack(error_details_pb2.RetryInfo(retry_delay=delay)))
    status = status_pb2.Status(code=error.code.value[0], message=error.message, details=details)
    return rpc_status.to_status(status)


def internal_status(request_id: str) -> grpc.Status:
    """For unexpected exceptions: a generic message, never the exception's text."""
    info = error_details_pb2.ErrorInfo(
        reason="INTERNAL", domain=ERROR_DOMAIN, metadata={"request_id": request_id}
    )
    status = status_pb2.Status(
        code=code_pb2.INTERNAL,
        message=f"internal error (request id {request_id})",
        details=[_pack(info)],
    )
    return rpc_status.to_status(status)
