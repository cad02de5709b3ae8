"""One embedding call: resolve the credential, split to the provider's limits, call, reassemble.

A request is checked against its bounds first (inputs, characters, the size of its answer), so
a request that could not succeed costs no provider call. Batches run a few at a time; each is
retried on its own (rate limits, 5xx, refused connections) within the caller's deadline. The
first batch that fails for good fails the call and cancels the others. Vectors come back in
input order whatever order batches finish in. A tenant holds one of its limited slots for the
whole call.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import Generic, TypeVar

import structlog

from integration_api.credentials.call_gate import CallGate, run_gated
from integration_api.credentials.local_gate import LocalCallGate
from integration_api.credentials.model import ProviderCredential
from integration_api.embeddings.contract import (
    BatchLimits,
    EmbedBatch,
    EmbedBatchResult,
    EmbedRequest,
    EmbedResult,
)
from integration_api.embeddings.ports import EmbeddingModel
from integration_api.embeddings.request_bounds import (
    check_answer_fits,
    check_request_size,
    expected_dimensions,
)
from integration_api.errors import FailedPrecondition, ServiceError
from integration_api.llm import metrics
from integration_api.llm.contract import Usage
from integration_api.llm.model_choice import model_for_call
from integration_api.llm.pipeline import CAPABILITY_NOT_SUPPORTED, note_rejection, outcome_of
from integration_api.llm.ports import CredentialSource
from integration_api.llm.retry import RetryPolicy
from integration_api.llm.tenant_calls import TenantCallLimiter
from integration_api.llm.timing import Deadline
from integration_api.principal import Tenant
from integration_api.upstream.answer_bounds import check_answer
from integration_api.upstream.error_kinds import naming_the_model
from integration_api.upstream.limits import DEFAULT_LIMITS, UpstreamLimits
from integration_api.upstream.timer import UpstreamTimer
from integration_api.usage.meter import UsageMeter
from integration_api.usage.ports import NO_BUDGETS, NO_LEDGER, BudgetGuard, UsageLedger
from integration_api.usage.record import EMBED

log = structlog.get_logger("integration_api.embeddings")

# The providers' HTTP client, named by the process assembly (the domain never imports it).
ClientT = TypeVar("ClientT")
EmbeddingModelLookup = Callable[[str], EmbeddingModel[ClientT] | None]
MAX_CONCURRENT_BATCHES = 4
# gRPC's default, as GRPC_MAX_MESSAGE_BYTES has it.
DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024


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
class _Call(Generic[ClientT]):
    tenant: Tenant
    credential: ProviderCredential
    model: EmbeddingModel[ClientT]
    deadline: Deadline
    timer: UpstreamTimer
    inputs: int
    meter: UsageMeter


class EmbeddingService(Generic[ClientT]):
    """Embeds texts through stored credentials."""

    def __init__(
        self,
        credentials: CredentialSource,
        http: Callable[[], ClientT],
        embedding_model_for: EmbeddingModelLookup[ClientT],
        retry: RetryPolicy | None = None,
        tenant_calls: TenantCallLimiter | None = None,
        limits: UpstreamLimits = DEFAULT_LIMITS,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        gate: CallGate | None = None,
        *,
        ledger: UsageLedger = NO_LEDGER,
        budgets: BudgetGuard = NO_BUDGETS,
    ) -> None:
        self._credentials = credentials
        self._http = http
        self._embedding_model_for = embedding_model_for
        self._retry = retry or RetryPolicy()
        self._tenant_calls = tenant_calls or TenantCallLimiter()
        self._limits = limits
        self._max_message_bytes = max_message_bytes
        self._gate = gate or LocalCallGate()
        self._ledger = ledger
        self._budgets = budgets

    async def embed(self, tenant: Tenant, request: EmbedRequest, deadline: Deadline) -> EmbedResult:
        check_request_size(request, self._limits)
        record = metrics.UnaryCall("embed", model=request.model, tenant=tenant)
        meter = UsageMeter(self._ledger, tenant, EMBED)
        try:
            result = await self._embed(tenant, request, deadline, record, meter)
            record.usage = result.usage
            # The answer's own sum: "not reported" when any batch did not report.
            meter.input_tokens = result.usage.input_tokens
            return result
        except BaseException as error:
            record.outcome = outcome_of(error)
            meter.fail(record.outcome)
            raise
        finally:
            record.save()
            meter.end()

    async def _embed(
        self,
        tenant: Tenant,
        request: EmbedRequest,
        deadline: Deadline,
        record: metrics.UnaryCall,
        meter: UsageMeter,
    ) -> EmbedResult:
        credential = await self._credentials.resolve_for_use(tenant, request.credential_id)
        record.provider = credential.provider
        meter.through(credential.provider, credential.id)
        model = self._model_for(credential)
        model_name = model_for_call(request.model, model, credential)
        record.model = model_name
        meter.model = model_name
        structlog.contextvars.bind_contextvars(provider=record.provider, model=model_name)
        dimensions = expected_dimensions(request, model_name)
        if dimensions is not None:
            check_answer_fits(len(request.inputs), dimensions, self._max_message_bytes)
        call = _Call(
            tenant, credential, model, deadline, record.clock.upstream, len(request.inputs), meter
        )
        batches = [
            EmbedBatch(model_name, inputs, request.input_type, request.dimensions)
            for inputs in split_batches(request.inputs, model.limits)
        ]
        # In memory, before a slot or a permit is taken: a refused call costs nothing.
        self._budgets.admit(tenant, credential.id)
        async with self._tenant_calls.slot(tenant):
            if dimensions is None:
                results = await self._run_first_alone(call, batches)
            else:
                results = await self._run_all(call, batches)
        vectors = [vector for result in results for vector in result.vectors]
        result = EmbedResult(vectors=vectors, usage=total_usage(results), model=results[0].model)
        check_answer(result, credential.provider)
        return result

    async def _run_first_alone(
        self, call: _Call[ClientT], batches: list[EmbedBatch]
    ) -> list[EmbedBatchResult]:
        """For a model of unknown dimensions: its first answer tells whether the rest will fit."""
        first = await self._run(call, batches[0])
        dimensions = len(first.vectors[0]) if first.vectors else 0
        check_answer_fits(call.inputs, dimensions, self._max_message_bytes)
        if len(batches) == 1:
            return [first]
        return [first, *await self._run_all(call, batches[1:])]

    def _model_for(self, credential: ProviderCredential) -> EmbeddingModel[ClientT]:
        model = self._embedding_model_for(credential.provider)
        if model is None:
            raise FailedPrecondition(
                f"{credential.provider} credentials cannot be used for embeddings",
                reason=CAPABILITY_NOT_SUPPORTED,
                provider=credential.provider,
            )
        return model

    async def _run_all(
        self, call: _Call[ClientT], batches: list[EmbedBatch]
    ) -> list[EmbedBatchResult]:
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

    async def _run(self, call: _Call[ClientT], batch: EmbedBatch) -> EmbedBatchResult:
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
                    given_up = self._retry.give_up(error, attempts)
                    raise naming_the_model(given_up, batch.model) from None
                log.info("retrying provider call", reason=error.reason, attempt=attempts)
                await call.deadline.sleep(delay, call.timer)

    async def _attempt(self, call: _Call[ClientT], batch: EmbedBatch) -> EmbedBatchResult:
        """One provider request, through the credential's gate (each batch is a request)."""
        answer = await run_gated(
            self._gate,
            call.credential,
            lambda: self._request(call, batch),
            lambda answer: answer.usage.input_tokens or 0,
        )
        # What each batch used, so a call failing on a later batch records the earlier ones.
        call.meter.add_input_tokens(answer.usage.input_tokens)
        return answer

    async def _request(self, call: _Call[ClientT], batch: EmbedBatch) -> EmbedBatchResult:
        call.meter.sent = True  # past the gate: the request is on its way
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
