"""`integration-api error-details`: the `google.rpc` details of a `buf curl` error, decoded.

`buf curl` prints a failed call's status as JSON with each detail's type and its bytes in
base64: it decodes details only with the message types compiled into it, and those do not
include `google.rpc.ErrorInfo`. This reads that JSON on standard input and prints it again with
each detail decoded under `debug` (where buf puts the types it knows), so the reason and the
metadata can be read: `buf curl … 2>&1 | integration-api error-details`.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import sys
from typing import Any

from google.protobuf import any_pb2, json_format

# Imported for their side effect: the detail types join the default descriptor pool.
from google.rpc import error_details_pb2, status_pb2  # noqa: F401

TYPE_URL_PREFIX = "type.googleapis.com/"


def decoded(detail: dict[str, Any]) -> dict[str, Any]:
    """`detail` with `debug` added: its message as JSON (unchanged when it cannot be read)."""
    type_name, value = detail.get("type"), detail.get("value")
    if not isinstance(type_name, str) or not isinstance(value, str) or "debug" in detail:
        return detail
    try:
        raw = base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
        packed = any_pb2.Any(type_url=TYPE_URL_PREFIX + type_name, value=raw)
        message = json_format.MessageToDict(packed)
    except (binascii.Error, TypeError, json_format.Error):
        return detail
    message.pop("@type", None)
    return {**detail, "debug": message}


def command_error_details(_arguments: argparse.Namespace) -> int:
    text = sys.stdin.read()
    try:
        status = json.loads(text)
    except ValueError:
        sys.stdout.write(text)  # not a status (the call succeeded, say): passed on as it came
        return 0
    details = status.get("details") if isinstance(status, dict) else None
    if isinstance(details, list):
        status["details"] = [decoded(d) if isinstance(d, dict) else d for d in details]
    print(json.dumps(status, indent=3))
    return 0


def add_error_details_command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    commands.add_parser(
        "error-details",
        help="decode the google.rpc details of a buf curl error read on standard input",
        description=(__doc__ or "").split("\n\n", 1)[1],
    ).set_defaults(run=command_error_details)
