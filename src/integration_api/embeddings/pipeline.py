"""One embedding call: resolve the credential, split to the provider's limits, call, reassemble.

Batches run a few at a time; each is retried on its own (rate limits, 5xx, refused
connections) within the caller's deadline. The first batch that fails for good fails the call
and cancels the others. Vectors come back in input order whatever order batches finish in.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable

import httpx
import structlog

from integration_api.credentials_model import ProviderCredential
from integration_api.embeddings.contract import (
    BatchLimits,
    EmbedBatch,
    EmbedBatchResult,
    EmbedRequest,
    EmbedResult,
)
from integration_api.errors import FailedPrecondition, InvalidArgument, ServiceError
from integration_api.llm import metrics
from integration_api.llm.contract import Usage
from integration_api.llm.pipeline import CAPABILITY_NOT_SUPPORTED, note_rejection, outcome_of
from integration_api.llm.ports import CredentialSource
from integration_api.llm.retry import RetryPolicy
from integration_api.llm.timing import CallClock, Deadline
from integration_api.principal import Tenant
from integration_api.providers.base import EmbeddingModel
from integration_api.providers.sse import UpstreamTimer

log = structlog.get_logger("integration_api.embeddings")

EmbeddingModelLookup = Callable[[str], EmbeddingModel | None]
MAX_CONCURRENT_BATCHES = 4


def split_batches(inputs: tuple[str, ...], limits: BatchLimits) -> list[tuple[str, ...]]:
    """Consecutive runs of `inputs` within the limits (an input over the byte budget goes alone)."""
    batches: list[tuple[str, ...]] = []
    current: list[str] = []
    size = 0
    for text in inputs:
        length = len(text.encode())
        if current and (len(current) >= limits.max_inputs or size + length > limits.max_bytes):
            batches.append(tuple(current))
            current, size = [], 0
        current.append(text)
        size += length
    if current:
        batches.append(tuple(current))
    return batches


def total_usage(results: list[EmbedBatchResult]) -> Usage:
    """The sum of every batch's input tokens; not reported when any batch did not report."""
    counts = [result.usage.input_tokens for result in results]
    if any(count is None for count in counts):
        return Usage()
    return Usage(input_tokens=sum(count for count in counts if count is not None))


@dataclasses.dataclass(frozen=True)
class _Call:
    tenant: Tenant
    credential: ProviderCredential
    model: EmbeddingModel
    deadline: Deadline
    timer: UpstreamTimer


class EmbeddingService:
    """Embeds texts through stored credentials."""

    def __init__(
        self,
        credentials: CredentialSource,
        http: Callable[[], httpx.AsyncClient],
        embedding_model_for: EmbeddingModelLookup,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._credentials = credentials
        self._http = http
        self._embedding_model_for = embedding_model_for
        self._retry = retry or RetryPolicy()

    async def embed(self, tenant: Tenant, request: EmbedRequest, deadline: Deadline) -> EmbedResult:
        clock = CallClock()
        provider, model_name, outcome, usage = "", request.model, "ok", Usage()
        try:
            credential = await self._credentials.resolve_for_use(tenant, request.credential_id)
            provider = credential.provider
            model = self._model_for(credential)
            model_name = request.model or model.default_model(credential)
            if not model_name:
                raise InvalidArgument.for_field(
                    "model", "is empty and the credential has no default_model"
                )
            structlog.contextvars.bind_contextvars(provider=provider, model=model_name)
            call = _Call(tenant, credential, model, deadline, clock.upstream)
            batches = [
                EmbedBatch(model_name, inputs, request.input_type, request.dimensions)
                for inputs in split_batches(request.inputs, model.limits)
            ]
            results = await self._run_all(call, batches)
            usage = total_usage(results)
            vectors = [vector for result in results for vector in result.vectors]
            return EmbedResult(vectors=vectors, usage=usage, model=results[0].model)
        except BaseException as error:
            outcome = outcome_of(error)
            raise
        finally:
            if provider:
                total = clock.elapsed()
                metrics.record_call(
                    metrics.CallRecord(
                        provider,
                        model_name,
                        "embed",
                        outcome,
                        total,
                        clock.overhead(total),
                        None,
                        usage,
                    )
                )

    def _model_for(self, credential: ProviderCredential) -> EmbeddingModel:
        model = self._embedding_model_for(credential.provider)
        if model is None:
            raise FailedPrecondition(
                f"{credential.provider} credentials cannot be used for embeddings",
                reason=CAPABILITY_NOT_SUPPORTED,
                provider=credential.provider,
            )
        return model

    async def _run_all(self, call: _Call, batches: list[EmbedBatch]) -> list[EmbedBatchResult]:
        if len(batches) == 1:
            return [await self._run(call, batches[0])]
        gate = asyncio.Semaphore(MAX_CONCURRENT_BATCHES)

        async def run_gated(batch: EmbedBatch) -> EmbedBatchResult:
            async with gate:
                return await self._run(call, batch)

        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(run_gated(batch)) for batch in batches]
        except BaseExceptionGroup as failures:
            raise _first_failure(failures) from None
        return [task.result() for task in tasks]

    async def _run(self, call: _Call, batch: EmbedBatch) -> EmbedBatchResult:
        """One batch, retried while that may help and the deadline allows."""
        attempts = 0
        while True:
            attempts += 1
            try:
                return await self._attempt(call, batch)
            except ServiceError as error:
                await note_rejection(self._credentials, call.tenant, call.credential.id, error)
                delay = self._retry.delay_before_retry(error, attempts, call.deadline.remaining())
                if delay is None:
                    raise self._retry.give_up(error, attempts) from None
                log.info("retrying provider call", reason=error.reason, attempt=attempts)
                await call.deadline.sleep(delay, call.timer)

    async def _attempt(self, call: _Call, batch: EmbedBatch) -> EmbedBatchResult:
        result = call.model.embed(call.credential, batch, self._http(), call.timer)
        if call.deadline.at is None:
            return await result
        try:
            async with asyncio.timeout_at(call.deadline.at):
                return await result
        except TimeoutError:
            raise call.deadline.expired(call.model.provider) from None


def _first_failure(failures: BaseExceptionGroup[BaseException]) -> BaseException:
    """The error to report from a failed group: a typed one when there is one."""
    flat: list[BaseException] = []
    pending: list[BaseException] = [failures]
    while pending:
        item = pending.pop(0)
        if isinstance(item, BaseExceptionGroup):
            pending.extend(item.exceptions)
        else:
            flat.append(item)
    typed = [item for item in flat if isinstance(item, ServiceError)]
    return (typed or flat)[0]
