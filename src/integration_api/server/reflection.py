"""Server reflection from the descriptor set generated with the code.

betterproto2 does not register descriptors anywhere, so reflection serves a pool built from
the descriptor set that `scripts/gen` writes next to the generated package, plus the health
and reflection services' own descriptors.
"""

from __future__ import annotations

from importlib import resources

import grpc.aio
from google.protobuf import descriptor_pb2, descriptor_pool
from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha import reflection, reflection_pb2

DESCRIPTOR_SET = "descriptor_set.binpb"
PACKAGE = "integration_api_proto"


def load_descriptor_set() -> descriptor_pb2.FileDescriptorSet:
    data = resources.files(PACKAGE).joinpath(DESCRIPTOR_SET).read_bytes()
    return descriptor_pb2.FileDescriptorSet.FromString(data)


def service_names(descriptor_set: descriptor_pb2.FileDescriptorSet, package: str) -> list[str]:
    return [
        f"{file.package}.{service.name}"
        for file in descriptor_set.file
        if file.package == package
        for service in file.service
    ]


def build_pool(descriptor_set: descriptor_pb2.FileDescriptorSet) -> descriptor_pool.DescriptorPool:
    pool = descriptor_pool.DescriptorPool()
    known: set[str] = set()
    for file in descriptor_set.file:
        pool.Add(file)
        known.add(file.name)
    for module in (health_pb2, reflection_pb2):
        file = descriptor_pb2.FileDescriptorProto.FromString(module.DESCRIPTOR.serialized_pb)
        if file.name not in known:
            pool.Add(file)
    return pool


def enable_reflection(
    server: grpc.aio.Server,
    descriptor_set: descriptor_pb2.FileDescriptorSet,
    exposed_services: list[str],
) -> None:
    names = [
        *exposed_services,
        health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
        reflection.SERVICE_NAME,
    ]
    reflection.enable_server_reflection(names, server, pool=build_pool(descriptor_set))
