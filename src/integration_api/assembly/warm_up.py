"""What the first call of each kind would otherwise do on the event loop, done before serving.

A replica takes traffic as soon as it reports ready, and a call's one-off set-up holds the one
event loop, with every stream it carries, as long as it takes. Measured on a fresh process:
- betterproto's per-class metadata, with its deferred import of pydantic: about 90 ms over the
  contract's message classes, paid piece by piece by the first call that uses each;
- the protobuf runtime's request class per method, built for the strict decoder;
- the provider clients' session and TLS context (the CA bundle alone takes about 20 ms).
All of it is done here once, before the server starts, so it also lands in the heap that
`settle_heap` freezes.
"""

from __future__ import annotations

import inspect
from types import ModuleType

import betterproto2
from google.protobuf import descriptor_pb2

from integration_api.assembly.runtime import Runtime
from integration_api.server.decoding import prepare_request_classes


def warm_up(
    runtime: Runtime, descriptor_set: descriptor_pb2.FileDescriptorSet, contract: ModuleType
) -> int:
    """Prepare every message class of `contract`, every method's request class and the provider
    clients; returns how many message classes were prepared."""
    prepared = prepare_message_classes(contract)
    prepare_request_classes(method_paths(descriptor_set))
    runtime.http.prepare()
    runtime.sockets.prepare()
    return prepared


def prepare_message_classes(contract: ModuleType) -> int:
    """Encode and decode an empty message of every class in `contract`, which builds and caches
    each class's metadata."""
    prepared = 0
    for value in vars(contract).values():
        if inspect.isclass(value) and issubclass(value, betterproto2.Message):
            value.parse(bytes(value()))
            prepared += 1
    return prepared


def method_paths(descriptor_set: descriptor_pb2.FileDescriptorSet) -> list[str]:
    """`/package.Service/Method` of every method in the set."""
    return [
        f"/{file.package}.{service.name}/{method.name}"
        for file in descriptor_set.file
        for service in file.service
        for method in service.method
    ]
