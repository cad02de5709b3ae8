"""Responses are serialized inside the RPC, where a failure becomes INTERNAL with a request id.

grpc.aio serializes a handler's responses itself, after the handler (and so the interceptor's
scope) has returned or yielded: a response that cannot be encoded (a number out of range for its
field raises OverflowError or ValueError in `SerializeToString`) would end the call as UNKNOWN
with Python's exception text. Each behaviour is therefore wrapped to serialize what it returns or
yields itself, and the handler is registered with no serializer: grpc passes the bytes through.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from typing import Any

import grpc

Serializer = Callable[[Any], bytes]


def serialize_in_call(handler: grpc.RpcMethodHandler[Any, Any]) -> grpc.RpcMethodHandler[Any, Any]:
    """`handler` with its responses serialized by its behaviour (unchanged when it cannot be)."""
    serialize = handler.response_serializer
    if serialize is None:
        return handler
    deserializer = handler.request_deserializer
    if handler.unary_unary is not None:
        return grpc.unary_unary_rpc_method_handler(
            _returning_bytes(handler.unary_unary, serialize), request_deserializer=deserializer
        )
    # Streaming behaviours written as coroutines call `context.write`, which serializes with the
    # handler's serializer (the health service's Watch): those keep it. Server-streaming
    # behaviours that yield (Chat, Synthesize) are serialized in the interceptor's own loop
    # over their responses (`server.interceptor`), one generator fewer per message.
    if handler.stream_stream is not None and inspect.isasyncgenfunction(handler.stream_stream):
        return grpc.stream_stream_rpc_method_handler(
            _yielding_bytes(handler.stream_stream, serialize), request_deserializer=deserializer
        )
    return handler


def _returning_bytes(behavior: Any, serialize: Serializer) -> Any:
    async def handle(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> bytes:
        return serialize(await behavior(request, context))

    return handle


def _yielding_bytes(behavior: Any, serialize: Serializer) -> Any:
    async def handle(
        request: Any, context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[bytes]:
        # Closed with this stream, so the behaviour's own cleanup runs at once, not when collected.
        async with aclosing(behavior(request, context)) as responses:
            async for response in responses:
                yield serialize(response)

    return handle
