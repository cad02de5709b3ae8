"""Server reflection from the descriptor set generated with the code.

Reflection serves a pool built from the contract's descriptor set (`descriptor_set`), plus the
health and reflection services' own descriptors.

Both reflection protocols are served: `grpc.reflection.v1` (what current grpcurl and
`buf curl --reflect-protocol grpc-v1` ask for first) and the older `v1alpha`. grpcio-reflection
ships only v1alpha; v1 has the same messages field for field under another package, so one
servicer answers both and the v1 descriptor is derived from the v1alpha one.

Errors carry `google.rpc` details (ErrorInfo, BadRequest, RetryInfo) as `Any` values; the pool
also holds `google/rpc/error_details.proto`, `status.proto` and `code.proto` (from
googleapis-common-protos), so grpcurl and `buf curl` can decode them instead of printing bytes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import grpc
import grpc.aio
from google.protobuf import descriptor_pb2, descriptor_pool
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha import reflection, reflection_pb2
from grpc_reflection.v1alpha._async import ReflectionServicer

if TYPE_CHECKING:
    from google._upb._message import FileDescriptor

V1_PACKAGE = "grpc.reflection.v1"
V1_SERVICE_NAME = f"{V1_PACKAGE}.ServerReflection"
_V1ALPHA_PACKAGE = reflection_pb2.DESCRIPTOR.package


def service_names(descriptor_set: descriptor_pb2.FileDescriptorSet, package: str) -> list[str]:
    return [
        f"{file.package}.{service.name}"
        for file in descriptor_set.file
        if file.package == package
        for service in file.service
    ]


# The files compiled into Python modules that the pool serves besides the contract: the
# status detail types every error carries, and the health and reflection services.
_COMPILED_FILES: tuple[FileDescriptor, ...] = (
    error_details_pb2.DESCRIPTOR,
    status_pb2.DESCRIPTOR,
    code_pb2.DESCRIPTOR,
    health_pb2.DESCRIPTOR,
    reflection_pb2.DESCRIPTOR,
)


def build_pool(descriptor_set: descriptor_pb2.FileDescriptorSet) -> descriptor_pool.DescriptorPool:
    pool = descriptor_pool.DescriptorPool()
    known: set[str] = set()
    for file in descriptor_set.file:
        pool.Add(file)
        known.add(file.name)
    for compiled in _COMPILED_FILES:
        for file in _with_dependencies(compiled):
            if file.name not in known:
                pool.Add(file)
                known.add(file.name)
    alpha = descriptor_pb2.FileDescriptorProto.FromString(reflection_pb2.DESCRIPTOR.serialized_pb)
    pool.Add(reflection_v1_file(alpha))
    return pool


def _with_dependencies(file: FileDescriptor) -> list[descriptor_pb2.FileDescriptorProto]:
    """`file` and every file it imports, each after its own imports (the order a pool needs)."""
    ordered: list[descriptor_pb2.FileDescriptorProto] = []
    for dependency in file.dependencies:
        ordered.extend(_with_dependencies(dependency))
    ordered.append(descriptor_pb2.FileDescriptorProto.FromString(file.serialized_pb))
    return ordered


class _SymbolReflectionServicer(ReflectionServicer):
    """Also finds the file of a method or a field, as the protocol allows and grpcurl asks.

    protobuf's upb pool finds only types, services and extensions by symbol, so
    `grpcurl describe integration.v1.LlmService.Chat` would get NOT_FOUND.
    """

    def __init__(self, service_names: list[str], pool: descriptor_pool.DescriptorPool) -> None:
        super().__init__(service_names, pool=pool)
        self._symbols = pool

    # Overrides grpcio-reflection's lookup (not in its stubs) to widen the names it accepts.
    def _file_containing_symbol(
        self, request: reflection_pb2.ServerReflectionRequest, fully_qualified_name: str
    ) -> reflection_pb2.ServerReflectionResponse:
        symbol = _enclosing_symbol(self._symbols, fully_qualified_name)
        response: reflection_pb2.ServerReflectionResponse = super()._file_containing_symbol(  # type: ignore[misc]
            request, symbol
        )
        return response


def _enclosing_symbol(pool: descriptor_pool.DescriptorPool, name: str) -> str:
    """The service of a method or the message of a field; other names as they are."""
    try:
        return str(pool.FindMethodByName(name).containing_service.full_name)
    except KeyError:
        pass
    try:
        message = pool.FindFieldByName(name).containing_type
    except KeyError:
        return name
    return name if message is None else str(message.full_name)


def reflection_v1_file(
    alpha: descriptor_pb2.FileDescriptorProto,
) -> descriptor_pb2.FileDescriptorProto:
    """`grpc/reflection/v1/reflection.proto`: the v1alpha file under the v1 package."""
    v1 = descriptor_pb2.FileDescriptorProto()
    v1.CopyFrom(alpha)
    v1.name = "grpc/reflection/v1/reflection.proto"
    v1.package = V1_PACKAGE
    v1.ClearField("options")

    def renamed(type_name: str) -> str:
        return type_name.replace(f".{_V1ALPHA_PACKAGE}.", f".{V1_PACKAGE}.", 1)

    for message in v1.message_type:
        for field in message.field:
            if field.HasField("type_name"):
                field.type_name = renamed(field.type_name)
    for service in v1.service:
        for method in service.method:
            method.input_type = renamed(method.input_type)
            method.output_type = renamed(method.output_type)
    return v1


def enable_reflection(
    server: grpc.aio.Server,
    descriptor_set: descriptor_pb2.FileDescriptorSet,
    exposed_services: list[str],
) -> None:
    names = [
        *exposed_services,
        health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
        V1_SERVICE_NAME,
        reflection.SERVICE_NAME,
    ]
    servicer = _SymbolReflectionServicer(names, pool=build_pool(descriptor_set))
    handler = grpc.stream_stream_rpc_method_handler(
        servicer.ServerReflectionInfo,
        request_deserializer=reflection_pb2.ServerReflectionRequest.FromString,
        response_serializer=reflection_pb2.ServerReflectionResponse.SerializeToString,
    )
    server.add_generic_rpc_handlers(
        tuple(
            grpc.method_handlers_generic_handler(name, {"ServerReflectionInfo": handler})
            for name in (V1_SERVICE_NAME, reflection.SERVICE_NAME)
        )
    )
