"""The contract's descriptor set, generated with the code.

betterproto2 does not register descriptors anywhere, so whatever needs the contract's
descriptors (server reflection, request decoding, redaction of secret fields, the wire classes
of the pipelines) reads the descriptor set that `scripts/gen` writes next to the generated
package.
"""

from __future__ import annotations

from importlib import resources

from google.protobuf import descriptor_pb2

DESCRIPTOR_SET = "descriptor_set.binpb"
PACKAGE = "integration_api_proto"


def load_descriptor_set() -> descriptor_pb2.FileDescriptorSet:
    data = resources.files(PACKAGE).joinpath(DESCRIPTOR_SET).read_bytes()
    return descriptor_pb2.FileDescriptorSet.FromString(data)
