"""Random and mutated bytes sent to every RPC of every service never answer UNKNOWN or INTERNAL.

The RPCs are enumerated from the descriptors the server itself serves (the contract's
descriptor set plus health and reflection), so a new RPC is covered without touching this test.
Each RPC gets a well-formed seed request with every field set, then seeded mutations of it:
truncations, flipped and inserted bytes, invalid UTF-8, lengths pointing past the end,
unterminated varints and plain noise. The seed is fixed, so a failure reproduces exactly.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from google.protobuf import descriptor, message_factory
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha import reflection_pb2

from integration_api.descriptor_set import load_descriptor_set
from integration_api.server.reflection import build_pool
from tests.support.raw_calls import raw_bidirectional_stream, raw_server_stream, raw_unary
from tests.support.service import RunningService, running_service

SEED = 20260611
MUTATIONS_PER_RPC = 60
REFUSED_CODES = {grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL}
Field = descriptor.FieldDescriptor


@dataclass(frozen=True)
class Rpc:
    path: str
    request: descriptor.Descriptor
    client_streaming: bool
    server_streaming: bool


def every_rpc() -> list[Rpc]:
    descriptor_set = load_descriptor_set()
    pool = build_pool(descriptor_set)
    files = [file.name for file in descriptor_set.file]
    files += [health_pb2.DESCRIPTOR.name, reflection_pb2.DESCRIPTOR.name]
    return [
        Rpc(
            f"/{service.full_name}/{method.name}",
            method.input_type,
            method.client_streaming,
            method.server_streaming,
        )
        for name in files
        for service in pool.FindFileByName(name).services_by_name.values()
        for method in service.methods
    ]


SCALAR_SAMPLES: dict[int, Any] = {
    Field.CPPTYPE_STRING: "seed-text-é",
    Field.CPPTYPE_INT32: 7,
    Field.CPPTYPE_INT64: 7,
    Field.CPPTYPE_UINT32: 7,
    Field.CPPTYPE_UINT64: 7,
    Field.CPPTYPE_DOUBLE: 0.5,
    Field.CPPTYPE_FLOAT: 0.5,
    Field.CPPTYPE_BOOL: True,
}


def populated(message_type: descriptor.Descriptor, depth: int = 0) -> Message:
    """A message with every field set (a oneof keeps its last member), nested a few levels."""
    message: Message = message_factory.GetMessageClass(message_type)()
    for field in message_type.fields:
        child_type = field.message_type
        if child_type is None:
            _fill_scalar(message, field)
        elif child_type.GetOptions().map_entry:
            _fill_map(getattr(message, field.name), child_type, depth)
        elif depth < 3:
            _fill_message(message, field, populated(child_type, depth + 1))
    return message


def _fill_scalar(message: Message, field: Field) -> None:
    if field.is_repeated:
        getattr(message, field.name).append(_scalar(field))
    else:
        setattr(message, field.name, _scalar(field))


def _fill_message(message: Message, field: Field, child: Message) -> None:
    target = (
        getattr(message, field.name).add() if field.is_repeated else getattr(message, field.name)
    )
    target.CopyFrom(child)


def _fill_map(target: Any, entry: descriptor.Descriptor, depth: int) -> None:
    key = _scalar(entry.fields_by_name["key"])
    value_type = entry.fields_by_name["value"].message_type
    if value_type is None:
        target[key] = _scalar(entry.fields_by_name["value"])
    elif depth < 3:
        target[key].CopyFrom(populated(value_type, depth + 1))


def _scalar(field: Field) -> Any:
    if field.cpp_type == Field.CPPTYPE_ENUM:
        values = field.enum_type.values
        return values[-1].number
    if field.type == Field.TYPE_BYTES:
        return b"\x01\x02"
    return SCALAR_SAMPLES[field.cpp_type]


def _truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(len(data))] if data else data


def _flip(data: bytes, rng: random.Random) -> bytes:
    if not data:
        return bytes([rng.randrange(256)])
    at = rng.randrange(len(data))
    return data[:at] + bytes([rng.randrange(256)]) + data[at + 1 :]


def _insert_noise(data: bytes, rng: random.Random) -> bytes:
    at = rng.randrange(len(data) + 1)
    return data[:at] + rng.randbytes(rng.randrange(1, 8)) + data[at:]


def _invalid_utf8(data: bytes, rng: random.Random) -> bytes:
    text = data.find(b"seed-text")
    at = text + rng.randrange(9) if text >= 0 else rng.randrange(len(data) + 1)
    return data[:at] + b"\xff" + data[at + 1 :]


def _length_past_the_end(data: bytes, rng: random.Random) -> bytes:
    return data + bytes([(rng.randrange(1, 16) << 3) | 2, 0xFF, 0xFF, 0x03])


def _unterminated_varint(data: bytes, rng: random.Random) -> bytes:
    return data + bytes([(rng.randrange(1, 16) << 3), 0xFF, 0xFF])


def _noise(data: bytes, rng: random.Random) -> bytes:
    return rng.randbytes(rng.randrange(1, 64))


MUTATORS: list[Callable[[bytes, random.Random], bytes]] = [
    _truncate,
    _flip,
    _insert_noise,
    _invalid_utf8,
    _length_past_the_end,
    _unterminated_varint,
    _noise,
]


def payloads(rpc: Rpc) -> Iterator[bytes]:
    """The seed request, then mutations of it (one to three mutators each), reproducibly."""
    seed = populated(rpc.request).SerializeToString()
    rng = random.Random(f"{SEED}:{rpc.path}")
    yield seed
    yield b""
    for _round in range(MUTATIONS_PER_RPC):
        data = seed
        for mutate in rng.choices(MUTATORS, k=rng.randrange(1, 4)):
            data = mutate(data, rng)
        yield data


async def _send(service: RunningService, rpc: Rpc, data: bytes) -> grpc.StatusCode:
    """The status the server answers `data` with; a streaming RPC is read to its first reply."""
    channel, metadata, timeout = service.channel, service.auth(), 10.0
    if not rpc.client_streaming and not rpc.server_streaming:
        try:
            await raw_unary(channel, rpc.path)(data, metadata=metadata, timeout=timeout)
        except grpc.aio.AioRpcError as error:
            return error.code()
        return grpc.StatusCode.OK
    call: grpc.aio.Call
    if rpc.client_streaming:
        bidirectional = raw_bidirectional_stream(channel, rpc.path)
        call = bidirectional(_one(data), metadata=metadata, timeout=timeout)
    else:
        call = raw_server_stream(channel, rpc.path)(data, metadata=metadata, timeout=timeout)
    try:
        await call.read()
    except grpc.aio.AioRpcError as error:
        return error.code()
    finally:
        call.cancel()
    return grpc.StatusCode.OK


async def _one(data: bytes) -> AsyncIterator[bytes]:
    yield data


@pytest.fixture(scope="module")
async def shared_service(postgres_dsn: str) -> AsyncIterator[RunningService]:
    async with running_service(postgres_dsn) as running:
        yield running


RPCS = every_rpc()


def test_every_rpc_of_every_served_service_is_exercised() -> None:
    paths = {rpc.path for rpc in RPCS}
    assert "/integration.v1.CredentialService/CreateCredential" in paths
    assert "/integration.v1.LlmService/Chat" in paths
    assert "/grpc.health.v1.Health/Watch" in paths
    assert "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo" in paths
    assert len(paths) == len(RPCS) >= 25


@pytest.mark.parametrize("rpc", RPCS, ids=[rpc.path for rpc in RPCS])
async def test_random_and_mutated_bytes_never_answer_unknown_or_internal(
    shared_service: RunningService, rpc: Rpc
) -> None:
    for number, data in enumerate(payloads(rpc)):
        code = await _send(shared_service, rpc, data)
        assert code not in REFUSED_CODES, f"payload #{number} {data!r} answered {code.name}"
