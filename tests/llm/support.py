"""Calling Chat through the real server and reading what came back."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import grpc
from google.rpc import error_details_pb2
from integration_api_proto.integration.v1 import (
    ChatChunk,
    ChatRequest,
    Finish,
    Message,
    Role,
    ToolCall,
    Usage,
)
from integration_api_proto.integration.v1.grpc_aio import LlmServiceStub

from tests.credentials.helpers import error_info, rich_status
from tests.support.service import RunningService


def user_says(text: str = "Hi") -> list[Message]:
    return [Message(role=Role.USER, text=text)]


@dataclass
class Answer:
    """Every chunk of one call, and the error that ended it (None: it ended OK)."""

    chunks: list[ChatChunk] = field(default_factory=list)
    error: grpc.aio.AioRpcError | None = None

    @property
    def kinds(self) -> list[str]:
        """The kind of each chunk in order: text, reasoning, tool_call, usage, finish."""
        names = ("text_delta", "reasoning_delta", "tool_call", "usage", "finish")
        return [
            next(name for name in names if getattr(chunk, name) is not None)
            for chunk in self.chunks
        ]

    @property
    def shape(self) -> list[str]:
        """`kinds` with each run of text deltas as one: text that arrives together may leave as
        one message (`llm.ready_text`), so how many a run holds depends on the network."""
        shape: list[str] = []
        for kind in self.kinds:
            if not (kind == "text_delta" and shape and shape[-1] == kind):
                shape.append(kind)
        return shape

    @property
    def texts(self) -> list[str]:
        return [chunk.text_delta.text for chunk in self.chunks if chunk.text_delta is not None]

    @property
    def text(self) -> str:
        return "".join(self.texts)

    @property
    def reasoning(self) -> str:
        return "".join(
            chunk.reasoning_delta.text for chunk in self.chunks if chunk.reasoning_delta is not None
        )

    @property
    def tool_calls(self) -> list[ToolCall]:
        return [chunk.tool_call for chunk in self.chunks if chunk.tool_call is not None]

    @property
    def usages(self) -> list[Usage]:
        return [chunk.usage for chunk in self.chunks if chunk.usage is not None]

    @property
    def finishes(self) -> list[Finish]:
        return [chunk.finish for chunk in self.chunks if chunk.finish is not None]

    def called(self) -> list[tuple[str, object]]:
        return [(call.name, json.loads(call.arguments_json)) for call in self.tool_calls]

    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.OK if self.error is None else self.error.code()

    def reason(self) -> str:
        assert self.error is not None, "the call ended OK"
        return str(error_info(self.error).reason)

    def metadata(self) -> dict[str, str]:
        assert self.error is not None, "the call ended OK"
        return dict(error_info(self.error).metadata)

    def retry_delay_seconds(self) -> float | None:
        assert self.error is not None
        status = rich_status(self.error)
        assert status is not None
        for detail in status.details:
            if detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
                info = error_details_pb2.RetryInfo()
                detail.Unpack(info)
                return float(info.retry_delay.seconds + info.retry_delay.nanos / 1e9)
        return None


async def collect(call: grpc.aio.UnaryStreamCall[ChatRequest, ChatChunk]) -> Answer:
    answer = Answer()
    try:
        async for chunk in call:
            answer.chunks.append(chunk)
    except grpc.aio.AioRpcError as error:
        answer.error = error
    return answer


async def chat(
    llm: LlmServiceStub,
    service: RunningService,
    request: ChatRequest,
    *,
    deadline_seconds: float | None = 10.0,
    **tenant: str,
) -> Answer:
    return await collect(
        llm.chat(request, metadata=service.auth(**tenant), timeout=deadline_seconds)
    )
