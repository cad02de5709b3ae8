"""protoc plugin: typed grpc.aio servicer bases, registration functions and async stubs.

betterproto2 generates the message classes; this plugin generates, for every proto package that
declares services, one `grpc_aio.py` module beside betterproto2's `__init__.py` with

- `<Service>Base`: an abstract-free servicer whose methods answer UNIMPLEMENTED until overridden,
- `add_<service>_to_server(servicer, server)`: registers it on a `grpc.aio.Server`,
- `<Service>Stub`: a typed async client over a `grpc.aio.Channel`,

all (de)serializing with the betterproto2 classes' `SerializeToString` / `FromString`.
It reads a CodeGeneratorRequest on stdin and writes a CodeGeneratorResponse on stdout.
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from dataclasses import dataclass

from google.protobuf.compiler import plugin_pb2
from google.protobuf.descriptor_pb2 import FileDescriptorProto, ServiceDescriptorProto

OUTPUT_MODULE = "grpc_aio.py"


# Words spelled with inner capitals that are still one word in a Python name.
SINGLE_WORDS = {"OAuth": "Oauth"}


def snake_case(name: str) -> str:
    for word, spelled in SINGLE_WORDS.items():
        name = name.replace(word, spelled)
    spaced = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name)
    return re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", spaced).lower()


@dataclass(frozen=True)
class Method:
    service: str
    name: str
    input_type: str
    output_type: str
    client_streaming: bool
    server_streaming: bool

    @property
    def python_name(self) -> str:
        return snake_case(self.name)

    @property
    def kind(self) -> str:
        request = "stream" if self.client_streaming else "unary"
        response = "stream" if self.server_streaming else "unary"
        return f"{request}_{response}"


class TypeImports:
    """Maps fully qualified proto type names to Python names imported into the output module."""

    def __init__(self, package: str, known_packages: set[str]) -> None:
        self.package = package
        # Longest first, so `a.b` wins over `a` when both declare types.
        self.known_packages = sorted(known_packages, key=len, reverse=True)
        self.by_module: dict[str, set[str]] = defaultdict(set)

    def name_for(self, proto_type: str) -> str:
        qualified = proto_type.lstrip(".")
        type_package = next((p for p in self.known_packages if qualified.startswith(p + ".")), "")
        local_name = qualified[len(type_package) + 1 :] if type_package else qualified
        # betterproto2 flattens nested messages: Outer.Inner becomes OuterInner.
        type_name = local_name.replace(".", "")
        self.by_module[self._relative_module(type_package)].add(type_name)
        return type_name

    def _relative_module(self, type_package: str) -> str:
        if type_package == self.package:
            return "."
        depth = self.package.count(".") + 1
        return "." * (depth + 1) + type_package

    def render(self) -> list[str]:
        return [
            f"from {module} import {', '.join(sorted(names))}"
            for module, names in sorted(self.by_module.items())
        ]


def collect_methods(service: ServiceDescriptorProto) -> list[Method]:
    return [
        Method(
            service=service.name,
            name=method.name,
            input_type=method.input_type,
            output_type=method.output_type,
            client_streaming=method.client_streaming,
            server_streaming=method.server_streaming,
        )
        for method in service.method
    ]


def render_servicer(
    full_service: str, service: str, methods: list[Method], types: TypeImports
) -> str:
    lines = [
        f"class {service}Base:",
        f'    """Servicer base for `{full_service}`: every method answers UNIMPLEMENTED until',
        '    a subclass overrides it."""',
        "",
    ]
    for method in methods:
        request = types.name_for(method.input_type)
        response = types.name_for(method.output_type)
        request_param = f"AsyncIterator[{request}]" if method.client_streaming else request
        context = f"grpc.aio.ServicerContext[{request}, {response}]"
        returns = f"AsyncIterator[{response}]" if method.server_streaming else response
        lines += [
            f"    async def {method.python_name}(",
            f"        self, request: {request_param}, context: {context}",
            f"    ) -> {returns}:",
            "        await context.abort(",
            "            grpc.StatusCode.UNIMPLEMENTED,",
            f'            "{full_service}/{method.name} is not implemented yet",',
            "        )",
        ]
        if method.server_streaming:
            lines.append("        yield  # makes this an async generator, like its overrides")
        else:
            lines.append("        raise AssertionError('context.abort always raises')")
        lines.append("")
    return "\n".join(lines)


def render_registration(
    full_service: str, service: str, methods: list[Method], types: TypeImports
) -> str:
    function = f"add_{snake_case(service)}_to_server"
    lines = [
        f"def {function}(servicer: {service}Base, server: grpc.aio.Server) -> None:",
        f'    """Registers `servicer` as `{full_service}` on `server`."""',
        "    handlers: dict[str, grpc.RpcMethodHandler[Any, Any]] = {",
    ]
    for method in methods:
        request = types.name_for(method.input_type)
        response = types.name_for(method.output_type)
        lines += [
            f'        "{method.name}": grpc.{method.kind}_rpc_method_handler(',
            f"            servicer.{method.python_name},",
            f"            request_deserializer={request}.FromString,",
            f"            response_serializer={response}.SerializeToString,",
            "        ),",
        ]
    lines += [
        "    }",
        f'    generic = grpc.method_handlers_generic_handler("{full_service}", handlers)',
        "    server.add_generic_rpc_handlers((generic,))",
        f'    server.add_registered_method_handlers("{full_service}", handlers)',
        "",
    ]
    return "\n".join(lines)


def render_stub(full_service: str, service: str, methods: list[Method], types: TypeImports) -> str:
    lines = [
        f"class {service}Stub:",
        f'    """Typed async client of `{full_service}`."""',
        "",
        "    def __init__(self, channel: grpc.aio.Channel) -> None:",
    ]
    for method in methods:
        request = types.name_for(method.input_type)
        response = types.name_for(method.output_type)
        lines += [
            f"        self._{method.python_name} = channel.{method.kind}(",
            f'            "/{full_service}/{method.name}",',
            f"            request_serializer={request}.SerializeToString,",
            f"            response_deserializer={response}.FromString,",
            "            _registered_method=True,",
            "        )",
        ]
    lines.append("")
    for method in methods:
        lines += render_stub_method(method, types)
    return "\n".join(lines)


def render_stub_method(method: Method, types: TypeImports) -> list[str]:
    request = types.name_for(method.input_type)
    response = types.name_for(method.output_type)
    # A client-streaming call takes its requests as an async iterator, or none at all: the
    # caller then writes them one by one with `call.write` and ends with `call.done_writing`.
    request_param = (
        f"AsyncIterator[{request}] | None = None" if method.client_streaming else request
    )
    call_class = {
        "unary_unary": "UnaryUnaryCall",
        "unary_stream": "UnaryStreamCall",
        "stream_unary": "StreamUnaryCall",
        "stream_stream": "StreamStreamCall",
    }[method.kind]
    return [
        f"    def {method.python_name}(",
        "        self,",
        f"        request: {request_param},",
        "        *,",
        "        timeout: float | None = None,",
        "        metadata: Metadata | None = None,",
        "        wait_for_ready: bool | None = None,",
        f"    ) -> grpc.aio.{call_class}[{request}, {response}]:",
        f"        return self._{method.python_name}(",
        "            request, timeout=timeout, metadata=metadata, wait_for_ready=wait_for_ready",
        "        )",
        "",
    ]


HEADER = '''"""Generated by scripts/tools/protoc_gen_grpc_aio.py. DO NOT EDIT.

grpc.aio servicer bases, registration functions and async stubs for package `{package}`,
using the betterproto2 message classes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any, TypeAlias

import grpc
import grpc.aio

'''


def render_package(package: str, files: list[FileDescriptorProto], known_packages: set[str]) -> str:
    types = TypeImports(package, known_packages)
    bodies: list[str] = []
    for file in files:
        for service in file.service:
            full_service = f"{package}.{service.name}"
            methods = collect_methods(service)
            bodies.append(render_servicer(full_service, service.name, methods, types))
            bodies.append(render_registration(full_service, service.name, methods, types))
            bodies.append(render_stub(full_service, service.name, methods, types))
    metadata_alias = "Metadata: TypeAlias = grpc.aio.Metadata | Sequence[tuple[str, str | bytes]]\n"
    return (
        HEADER.format(package=package)
        + "\n".join(types.render())
        + "\n\n"
        + metadata_alias
        + "\n\n"
        + "\n\n".join(bodies)
    )


def generate(request: plugin_pb2.CodeGeneratorRequest) -> plugin_pb2.CodeGeneratorResponse:
    response = plugin_pb2.CodeGeneratorResponse()
    response.supported_features = plugin_pb2.CodeGeneratorResponse.FEATURE_PROTO3_OPTIONAL
    wanted = set(request.file_to_generate)
    by_package: dict[str, list[FileDescriptorProto]] = defaultdict(list)
    known_packages = {file.package for file in request.proto_file if file.package}
    for file in request.proto_file:
        if file.name in wanted and file.service:
            by_package[file.package].append(file)
    for package, files in sorted(by_package.items()):
        output = response.file.add()
        output.name = "/".join(package.split(".")) + "/" + OUTPUT_MODULE
        output.content = render_package(
            package, sorted(files, key=lambda f: f.name), known_packages
        )
    return response


def main() -> None:
    request = plugin_pb2.CodeGeneratorRequest.FromString(sys.stdin.buffer.read())
    sys.stdout.buffer.write(generate(request).SerializeToString())


if __name__ == "__main__":
    main()
