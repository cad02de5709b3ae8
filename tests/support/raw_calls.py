"""Calls that send and receive raw bytes, for requests no generated stub would produce."""

from __future__ import annotations

import grpc.aio


def _unchanged(data: bytes) -> bytes:
    return data


def raw_unary(
    channel: grpc.aio.Channel, path: str
) -> grpc.aio.UnaryUnaryMultiCallable[bytes, bytes]:
    return channel.unary_unary(
        path, request_serializer=_unchanged, response_deserializer=_unchanged
    )


def raw_server_stream(
    channel: grpc.aio.Channel, path: str
) -> grpc.aio.UnaryStreamMultiCallable[bytes, bytes]:
    return channel.unary_stream(
        path, request_serializer=_unchanged, response_deserializer=_unchanged
    )


def raw_bidirectional_stream(
    channel: grpc.aio.Channel, path: str
) -> grpc.aio.StreamStreamMultiCallable[bytes, bytes]:
    return channel.stream_stream(
        path, request_serializer=_unchanged, response_deserializer=_unchanged
    )
