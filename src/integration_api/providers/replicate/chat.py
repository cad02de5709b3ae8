"""Streaming chat through a Replicate prediction.

1. `POST {base}/v1/models/{owner}/{name}/predictions` (or `/v1/predictions` with `version`)
   with `stream: true` and the input `chat_request` writes; the answer names `urls.stream`.
   Without it the model cannot stream: the prediction is cancelled and the call fails with
   FAILED_PRECONDITION (reason `STREAMING_NOT_SUPPORTED`).
2. `GET urls.stream` as server-sent events, read by `stream`.
3. After `done`, `GET urls.get` for the prediction's `metrics` (`input_token_count`,
   `output_token_count`): the stream reports no usage. When that read fails the usage is
   reported as unknown; the answer itself is complete.

A caller that goes away (cancel, deadline) before `done` cancels the prediction
(`POST urls.cancel`), so nobody pays for output no one reads. Every URL the prediction names is
held to the egress policy like any other: only Replicate's own hosts receive the key.

See: https://replicate.com/docs/topics/predictions/streaming.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from dataclasses import dataclass

import structlog

from integration_api.credentials.model import ProviderCredential
from integration_api.errors import FailedPrecondition, ServiceError
from integration_api.llm.contract import ChatRequest, Finish, FinishReason, StreamPart, Usage
from integration_api.providers.endpoints import join_url, resolve_base_url
from integration_api.providers.http_client import ProviderClient
from integration_api.providers.json_calls import bad_answer, count_at, post_json
from integration_api.providers.replicate.chat_request import prediction_input, prediction_route
from integration_api.providers.replicate.stream import ReplicateStreamReader
from integration_api.providers.replicate.verification import PROVIDER, replicate_headers
from integration_api.providers.sanitize import secret_values
from integration_api.providers.sse import open_event_stream
from integration_api.providers.transport import get_json, send_json
from integration_api.providers.wire_values import printable_id
from integration_api.upstream.stream_errors import truncated
from integration_api.upstream.timer import UpstreamTimer

log = structlog.get_logger("integration_api.providers.replicate")

STREAMING_NOT_SUPPORTED = "STREAMING_NOT_SUPPORTED"
# Cancellations still being sent: held here so that they finish after their caller is gone.
_cancellations: set[asyncio.Task[None]] = set()


@dataclass(frozen=True)
class _Prediction:
    id: str
    model: str
    stream: str
    get: str
    cancel: str


def _text(body: object, *path: str) -> str:
    value = body
    for name in path:
        value = value.get(name) if isinstance(value, dict) else None
    return value if isinstance(value, str) else ""


def _prediction(body: object) -> _Prediction:
    if not isinstance(body, dict) or not _text(body, "id"):
        raise bad_answer(PROVIDER, "answered the prediction without an id")
    clean_id = printable_id(_text(body, "id"))
    return _Prediction(
        id=clean_id,
        model=_text(body, "model"),
        stream=_text(body, "urls", "stream"),
        get=_text(body, "urls", "get"),
        cancel=_text(body, "urls", "cancel"),
    )


class ReplicateChatModel:
    """The `ChatModel` of Replicate's streaming predictions."""

    @property
    def provider(self) -> str:
        return PROVIDER

    def default_model(self, credential: ProviderCredential) -> str:
        return credential.config.default_model.strip()

    async def stream_chat(
        self,
        credential: ProviderCredential,
        request: ChatRequest,
        http: ProviderClient,
        timer: UpstreamTimer,
    ) -> AsyncGenerator[StreamPart, None]:
        """Stream one answer; ends with `Finish` or raises the typed error that ended it."""
        path, routing = prediction_route(request.model)
        body = {**routing, "input": prediction_input(request), "stream": True}
        headers = replicate_headers(credential)
        secrets = secret_values(credential.secret)
        url = join_url(resolve_base_url(PROVIDER, credential.config), path)
        created = await post_json(
            http, url, provider=PROVIDER, headers=headers, body=body, secrets=secrets, timer=timer
        )
        prediction = _prediction(created.body)
        if not prediction.stream:
            _cancel_in_background(http, prediction, headers)
            raise FailedPrecondition(
                f"the {PROVIDER} model cannot stream its output; choose a model that streams",
                reason=STREAMING_NOT_SUPPORTED,
                provider=PROVIDER,
            )
        reader = ReplicateStreamReader(PROVIDER, secrets)
        try:
            async with open_event_stream(
                http,
                prediction.stream,
                provider=PROVIDER,
                timer=timer,
                headers={**headers, "Cache-Control": "no-store"},
                secrets=secrets,
                method="GET",
            ) as stream:
                async for event in stream.events:
                    for part in reader.read(event.event, event.data):
                        yield part
                    if reader.done:
                        break
        except BaseException:
            if not reader.ended:
                _cancel_in_background(http, prediction, headers)
            raise
        if not reader.done:
            _cancel_in_background(http, prediction, headers)
            raise truncated(PROVIDER)
        metrics = await _metrics(http, prediction, headers, secrets)
        yield _usage(metrics)
        yield Finish(
            reason=FinishReason.STOP,
            raw_reason=_text(metrics, "status") or "succeeded",
            model=prediction.model or request.model,
            provider_request_id=prediction.id,
        )


async def _metrics(
    http: ProviderClient,
    prediction: _Prediction,
    headers: dict[str, str],
    secrets: tuple[str, ...],
) -> object:
    """The finished prediction (its status and metrics), or None when it cannot be read."""
    if not prediction.get:
        return None
    try:
        answer = await get_json(
            http, prediction.get, provider=PROVIDER, headers=headers, secrets=secrets
        )
    except ServiceError as error:
        log.info("prediction usage unavailable", reason=error.reason)
        return None
    return answer.body


def _usage(prediction: object) -> Usage:
    return Usage(
        input_tokens=count_at(prediction, "metrics", "input_token_count"),
        output_tokens=count_at(prediction, "metrics", "output_token_count"),
    )


def _cancel_in_background(
    http: ProviderClient, prediction: _Prediction, headers: dict[str, str]
) -> None:
    """Cancel the prediction without holding up (or being cancelled with) the caller."""
    if not prediction.cancel:
        return
    task = asyncio.get_running_loop().create_task(_cancel(http, prediction.cancel, headers))
    _cancellations.add(task)
    task.add_done_callback(_cancellations.discard)


async def _cancel(http: ProviderClient, url: str, headers: dict[str, str]) -> None:
    try:
        await send_json(http, "POST", url, provider=PROVIDER, headers=headers)
    except Exception as failure:  # noqa: BLE001 - a failed cancel must not fail anything else
        log.warning("could not cancel the prediction", error_type=type(failure).__name__)


REPLICATE = ReplicateChatModel()
