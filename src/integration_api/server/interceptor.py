"""The single server interceptor: request id, authentication, logging, metrics, error mapping.

Every RPC except health and reflection must carry an HS256 service token, in
`authorization: Bearer …` or in the platform's `x-internal-service-key`. Domain errors become
statuses through `status.status_for`; any other exception becomes a generic INTERNAL whose text
never includes the exception's message (that is how keys leak into error text).

The caller's `x-request-id` is used only when it is a short plain token; anything else (long,
spaces, quotes, markup) is replaced by a generated id before it reaches logs, error details or
the audit chain.

Admission (`server.admission`) decides which budget each RPC counts against, and a client- or
bidirectional-streaming RPC must send its first message within `GRPC_FIRST_MESSAGE_SECONDS`,
else it ends with DEADLINE_EXCEEDED `FIRST_MESSAGE_TIMEOUT`: a stream opened and left silent
holds a slot for that long at most.
"""

from __future__ import annotations

import asyncio
import inspect
import re
import time
import traceback
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from contextlib import aclosing, asynccontextmanager, contextmanager
from typing import Any

import grpc
import structlog

from integration_api.auth.token_cache import VerifiedTokenCache
from integration_api.auth.tokens import TokenPolicy
from integration_api.call_context import CallContext, reset_call, set_call
from integration_api.config import GrpcLimits
from integration_api.errors import (
    DeadlineExceeded,
    ServiceError,
    Unauthenticated,
    Unavailable,
    Unimplemented,
)
from integration_api.observability import tracing
from integration_api.observability.logging import debug_enabled
from integration_api.observability.redaction import redact_message
from integration_api.principal import Principal
from integration_api.server import metrics
from integration_api.server.admission import Admission, Budget, peer_address
from integration_api.server.decoding import require_decoded, strict_deserializer
from integration_api.server.serialization import Serializer, serialize_in_call
from integration_api.server.status import internal_status, status_for
from integration_api.store.database import database_unreachable

log = structlog.get_logger("integration_api.rpc")

UNAUTHENTICATED_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")
QUIET_PREFIXES = ("/grpc.health.v1.Health/",)
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,128}")
BEARER_PREFIX = "bearer "
FIRST_MESSAGE_TIMEOUT = "FIRST_MESSAGE_TIMEOUT"

Continuation = Callable[
    [grpc.HandlerCallDetails], Awaitable["grpc.RpcMethodHandler[Any, Any] | None"]
]


def _metadata_value(details: grpc.HandlerCallDetails, key: str) -> str:
    for name, value in details.invocation_metadata or ():
        if name == key:
            return value if isinstance(value, str) else value.decode("latin-1")
    return ""


def _request_id(details: grpc.HandlerCallDetails) -> str:
    """The caller's request id if it is fit to log and echo, otherwise a generated one."""
    offered = _metadata_value(details, "x-request-id")
    if REQUEST_ID_PATTERN.fullmatch(offered):
        return offered
    generated = uuid.uuid4().hex
    if offered:
        # Only its length: the value itself is what must not reach a log line.
        log.info("caller request id rejected", request_id=generated, offered_length=len(offered))
    return generated


def _bearer_token(details: grpc.HandlerCallDetails) -> str:
    header = _metadata_value(details, "authorization")
    if not header:
        return _metadata_value(details, "x-internal-service-key").strip()
    if header[: len(BEARER_PREFIX)].lower() != BEARER_PREFIX:
        raise Unauthenticated(
            "authorization must use the Bearer scheme: 'authorization: Bearer <jwt>'"
        )
    token = header[len(BEARER_PREFIX) :].strip()
    if not token:
        raise Unauthenticated("authorization names the Bearer scheme but carries no token")
    return token


class ServiceInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, policy: TokenPolicy, limits: GrpcLimits | None = None) -> None:
        limits = limits or GrpcLimits()
        self._tokens = VerifiedTokenCache(policy)
        self.admission = Admission(limits)
        self._first_message_seconds = limits.first_message_seconds

    async def intercept_service(
        self, continuation: Continuation, handler_call_details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        # Responses are encoded inside the RPC's scope: one that cannot be ends as INTERNAL.
        handler = serialize_in_call(handler)
        method = handler_call_details.method
        request_id = _request_id(handler_call_details)
        principal: Principal | None = None
        failure: ServiceError | None = None
        if not method.startswith(UNAUTHENTICATED_PREFIXES):
            try:
                principal = self._authenticate(handler_call_details)
            except Unauthenticated as error:
                failure = error
        call = CallContext(request_id=request_id, method=method, principal=principal)
        guard = _Guard(
            call,
            failure,
            self.admission.budget_for(method, authenticated=principal is not None),
            first_message_seconds=self._first_message_seconds,
            opening=self.admission.opening_for(principal),
        )
        return _wrap(handler, guard)

    def _authenticate(self, details: grpc.HandlerCallDetails) -> Principal:
        token = _bearer_token(details)
        if not token:
            raise Unauthenticated(
                "missing credentials: send a service token as 'authorization: Bearer <jwt>' "
                "or 'x-internal-service-key'"
            )
        return self._tokens.principal_for(token)


class _Guard:
    """What every RPC passes before its behaviour runs: its token's verdict and its budget."""

    def __init__(
        self,
        call: CallContext,
        failure: ServiceError | None,
        budget: Budget | None,
        *,
        first_message_seconds: float,
        opening: tuple[Budget, str] | None,
    ) -> None:
        self.call = call
        self.failure = failure
        self.budget = budget
        self.first_message_seconds = first_message_seconds
        # The budget and key a stream counts against until its first message (its tenant's).
        self.opening = opening

    @asynccontextmanager
    async def admitted(self, context: grpc.aio.ServicerContext[Any, Any]) -> AsyncIterator[None]:
        """Inside the RPC's scope (so a refusal becomes its status): the token, then a slot."""
        if self.failure is not None:
            raise self.failure
        if self.budget is None:
            yield
            return
        with self.budget.slot(peer_address(context.peer())):
            yield

    @contextmanager
    def awaiting_first_message(self) -> Iterator[None]:
        if self.opening is None:
            yield
            return
        budget, key = self.opening
        with budget.slot(key):
            yield


def _wrap(
    handler: grpc.RpcMethodHandler[Any, Any], guard: _Guard
) -> grpc.RpcMethodHandler[Any, Any]:
    # Undecodable requests reach the behaviours below as a marker, refused in the RPC's scope.
    deserializer = strict_deserializer(guard.call.method, handler.request_deserializer)
    if handler.unary_unary is not None:
        return grpc.unary_unary_rpc_method_handler(
            _unary(handler.unary_unary, guard),
            request_deserializer=deserializer,
            response_serializer=handler.response_serializer,
        )
    if handler.unary_stream is not None:
        # Streaming servicers either yield (async generators) or call context.write (coroutines,
        # as the health service's Watch does); each kind keeps its own shape when wrapped.
        behavior = handler.unary_stream
        if not inspect.isasyncgenfunction(behavior):
            return grpc.unary_stream_rpc_method_handler(
                _unary(behavior, guard),
                request_deserializer=deserializer,
                response_serializer=handler.response_serializer,
            )
        # Its responses are serialized in the RPC's scope by the loop that passes them on
        # (`server.serialization` leaves these to it): grpc is handed bytes.
        return grpc.unary_stream_rpc_method_handler(
            _server_stream(behavior, guard, handler.response_serializer),
            request_deserializer=deserializer,
        )
    if handler.stream_stream is not None and inspect.isasyncgenfunction(handler.stream_stream):
        # Speech sessions and server reflection.
        return grpc.stream_stream_rpc_method_handler(
            _bidirectional_stream(handler.stream_stream, guard),
            request_deserializer=deserializer,
            response_serializer=handler.response_serializer,
        )
    return handler


class _RpcScope:
    """Around one RPC: call context, in-flight gauge, the status for any exception, the log.

    An exception becomes the RPC's status through `context.abort`, which raises AbortError:
    grpc treats that as a deliberate status and logs no traceback (where an exception's text
    could carry a secret).
    """

    def __init__(self, call: CallContext, context: grpc.aio.ServicerContext[Any, Any]) -> None:
        self._call = call
        self._context = context

    async def __aenter__(self) -> None:
        self._started = time.perf_counter()
        self._token = set_call(self._call)
        self._trace = (
            tracing.start_rpc(self._call.method, self._caller_trace(), self._call.request_id)
            if tracing.enabled()
            else None
        )
        metrics.RPCS_IN_FLIGHT.inc()

    def _caller_trace(self) -> Iterable[tuple[str, object]] | None:
        """The caller's trace context only once it is authenticated: anyone else (health,
        reflection, a refused token) would otherwise choose what is sampled and exported."""
        if self._call.principal is None:
            return None
        return self._context.invocation_metadata()

    async def __aexit__(self, _type: object, error: BaseException | None, _tb: object) -> None:
        code = grpc.StatusCode.OK
        try:
            if error is not None:
                code, status = _outcome(self._context, self._call, error)
                if status is not None:
                    await self._context.abort(status.code, status.details, status.trailing_metadata)
        finally:
            metrics.RPCS_IN_FLIGHT.dec()
            _record(self._call, code, self._started)
            tracing.end_rpc(self._trace, code.value[0], code.name)
            reset_call(self._token)


def _unary(behavior: Any, guard: _Guard) -> Any:
    async def handle(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        async with _RpcScope(guard.call, context), guard.admitted(context):
            require_decoded(request)
            if debug_enabled():
                _log_request(guard.call, request)
            return await behavior(request, context)

    return handle


def _server_stream(behavior: Any, guard: _Guard, serialize: Serializer | None) -> Any:
    encode: Serializer = serialize or _as_is

    async def handle(
        request: Any, context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[Any]:
        async with _RpcScope(guard.call, context), guard.admitted(context):
            require_decoded(request)
            if debug_enabled():
                _log_request(guard.call, request)
            # Closed with this stream, so the behaviour's own cleanup runs at once.
            async with aclosing(behavior(request, context)) as responses:
                async for response in responses:
                    yield encode(response)

    return handle


def _as_is(response: Any) -> Any:
    return response


def _bidirectional_stream(behavior: Any, guard: _Guard) -> Any:
    async def handle(
        requests: AsyncIterator[Any], context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[Any]:
        async with _RpcScope(guard.call, context), guard.admitted(context):
            decoded = _decoded(requests, guard)
            async for response in behavior(decoded, context):
                yield response

    return handle


def first_message_timeout(seconds: float) -> DeadlineExceeded:
    return DeadlineExceeded(
        f"the stream sent no message within {seconds:g} s of opening; send the first message "
        "(the configuration) at once",
        reason=FIRST_MESSAGE_TIMEOUT,
    )


async def _decoded(requests: AsyncIterator[Any], guard: _Guard) -> AsyncIterator[Any]:
    """The stream's requests; an undecodable one ends the RPC with INVALID_ARGUMENT, and
    silence before the first one past its bound with DEADLINE_EXCEEDED. Until the first
    arrives, the stream also holds one of its tenant's opening slots."""
    first_within = guard.first_message_seconds
    try:
        with guard.awaiting_first_message():
            # Only once admitted: a receiver made and never read warns when collected.
            iterator = aiter(requests)
            async with asyncio.timeout(first_within):
                first = await anext(iterator, None)
    except TimeoutError:
        raise first_message_timeout(first_within) from None
    if first is None:
        return
    require_decoded(first)
    yield first
    async for request in iterator:
        require_decoded(request)
        yield request


def _outcome(
    context: grpc.aio.ServicerContext[Any, Any], call: CallContext, error: BaseException
) -> tuple[grpc.StatusCode, grpc.Status | None]:
    """The status code for the log, and the status to abort with (None: already decided)."""
    if isinstance(error, grpc.aio.AbortError):
        return context.code() or grpc.StatusCode.UNKNOWN, None
    if isinstance(error, ServiceError):
        return error.code, status_for(error, call.request_id)
    if isinstance(error, Exception) and database_unreachable(error):
        unavailable = Unavailable(
            "the database is unreachable; retry", reason="DATABASE_UNAVAILABLE"
        )
        return unavailable.code, status_for(unavailable, call.request_id)
    if isinstance(error, NotImplementedError):
        # What grpc's generated servicer bases raise for a method the service leaves out
        # (health's List): the caller asked for something that is not there, not a fault.
        unimplemented = Unimplemented(f"{call.method} is not implemented")
        return unimplemented.code, status_for(unimplemented, call.request_id)
    if not isinstance(error, Exception):
        # Cancellation (the caller went away or the server is stopping): nothing to send.
        return grpc.StatusCode.CANCELLED, None
    # Log the exception's type and where it happened, never its message: the message of an
    # arbitrary exception may quote a URL with a key or a header value.
    log.error(
        "unhandled exception",
        request_id=call.request_id,
        method=call.method,
        error_type=type(error).__name__,
        where="".join(traceback.format_tb(error.__traceback__)[-3:]),
    )
    return grpc.StatusCode.INTERNAL, internal_status(call.request_id)


def _log_request(call: CallContext, request: Any) -> None:
    """Debug aid: the request with every field the contract marks secret redacted."""
    log.debug(
        "rpc request",
        request_id=call.request_id,
        method=call.method,
        request=redact_message(request),
    )


def _record(call: CallContext, code: grpc.StatusCode, started: float) -> None:
    elapsed = time.perf_counter() - started
    code_name = code.name
    metrics.record_rpc(call.method, code_name, elapsed)
    principal = call.principal
    fields: dict[str, Any] = {
        "request_id": call.request_id,
        "method": call.method,
        "code": code_name,
        "duration_ms": round(elapsed * 1000, 2),
    }
    if principal is not None:
        fields["organization_id"] = principal.tenant.organization_id
        fields["project_id"] = principal.tenant.project_id
        fields["actor"] = principal.actor
        if principal.user_id and principal.user_id != principal.identity:
            fields["user_id"] = principal.user_id  # display only: the actor is the `sub`
    if call.method.startswith(QUIET_PREFIXES):
        log.debug("rpc", **fields)
    else:
        log.info("rpc", **fields)
