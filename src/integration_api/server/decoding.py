"""Strict request decoding: bytes that are not a valid message never reach a servicer.

betterproto2's `FromString` is lenient: a message whose last bytes were cut off decodes into a
shorter string (a truncated API key would be stored), and invalid UTF-8 raises a
UnicodeDecodeError whose text grpc.aio would send back as UNKNOWN. So every request is first
parsed by the protobuf runtime, with a class built from the descriptor set shipped with the
generated code, which refuses truncation, malformed wire data and invalid UTF-8; only bytes it
accepts are handed to the servicer's own deserializer.

A string holding a NUL character is refused here too, by the field's path (see `nul_check`):
PostgreSQL text cannot store one, and no provider expects one.

A deserializer must not raise: grpc.aio would answer UNKNOWN and log a traceback outside the
RPC's scope, where the request id is not known. It returns an `UndecodableRequest` instead,
which the interceptor turns into INVALID_ARGUMENT inside that scope.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from google.protobuf import descriptor_pool, message_factory
from google.protobuf.message import Message

from integration_api.descriptor_set import load_descriptor_set
from integration_api.errors import InvalidArgument
from integration_api.server.nul_check import nul_field_path
from integration_api.server.reflection import build_pool

Deserializer = Callable[[bytes], Any]


@dataclass(frozen=True)
class UndecodableRequest:
    """What a strict deserializer returns for bytes that are not a valid `message_name`."""

    message_name: str

    def refusal(self) -> InvalidArgument:
        return InvalidArgument(
            f"the request is not a valid {self.message_name}", reason="MALFORMED_REQUEST"
        )


@dataclass(frozen=True)
class NulInString:
    """What a strict deserializer returns for a request with a NUL in the string at `field`."""

    field: str

    def refusal(self) -> InvalidArgument:
        return InvalidArgument.for_field(self.field, "must not contain a NUL character")


@cache
def _pool() -> descriptor_pool.DescriptorPool:
    return build_pool(load_descriptor_set())


@cache
def _request_class(method: str) -> type[Message] | None:
    """The protobuf runtime's request class of `/package.Service/Method` (None: not in the pool)."""
    service_name, _, method_name = method.strip("/").partition("/")
    try:
        service = _pool().FindServiceByName(service_name)
    except KeyError:
        return None
    found = service.methods_by_name.get(method_name)
    if found is None:
        return None
    return message_factory.GetMessageClass(found.input_type)


def prepare_request_classes(methods: list[str]) -> None:
    """Build the request class of each `/package.Service/Method` now, not in its first call."""
    for method in methods:
        _request_class(method)


@lru_cache(maxsize=256)
def strict_deserializer(method: str, lenient: Deserializer | None) -> Deserializer | None:
    """A deserializer for `method` that checks the bytes strictly first and never raises.

    Built once per method (the interceptor asks on every call).

    `lenient` is the deserializer the handler was registered with; None means the handler
    takes raw bytes, which are passed through untouched.
    """
    if lenient is None:
        return None
    strict = _request_class(method)
    message_name = strict.DESCRIPTOR.name if strict is not None else method.rpartition("/")[2]
    undecodable = UndecodableRequest(message_name)

    def deserialize(data: bytes) -> Any:
        try:
            if strict is not None:
                nul_field = nul_field_path(data, strict.FromString(data))
                if nul_field is not None:
                    return NulInString(nul_field)
            return lenient(data)
        except Exception:  # noqa: BLE001 - whatever the cause, the bytes are not a valid request
            # Which byte was wrong is of no use to the caller, and the exception's text could
            # quote part of the request (a secret among it).
            return undecodable

    return deserialize


def require_decoded(request: object) -> None:
    """Raises INVALID_ARGUMENT when the request could not be decoded or holds a NUL."""
    if isinstance(request, UndecodableRequest | NulInString):
        raise request.refusal()
