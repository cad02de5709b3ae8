"""One rerank call: resolve the credential, check the bounds, call the provider, order the answer.

The request is checked against its bounds first, so a request that could not succeed costs no
provider call. The call is retried (rate limits, 5xx, refused connections) within the caller's
deadline; nothing has been returned before it succeeds, so a retry is never seen. A tenant holds
one of its limited slots for the whole call, as for Embed and Chat.
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
from integration_api.embeddings.contract import RerankAnswer, RerankQuery, RerankRequest
from integration_api.embeddings.ports import RerankModel
from integration_api.embeddings.rerank_bounds import check_rerank_request, ranked_best_first
from integration_api.errors import FailedPrecondition, ServiceError
from integration_api.llm import metrics
from integration_api.llm.model_choice import model_for_call
from integration_api.llm.pipeline import CAPABILITY_NOT_SUPPORTED, note_rejection, outcome_of
from integration_api.llm.ports import CredentialSource
from integration_api.llm.retry import RetryPolicy
from integration_api.llm.tenant_calls import TenantCallLimiter
from integration_api.llm.timing import CallClock, Deadline
from integration_api.principal import Tenant
from integration_api.upstream.answer_bounds import check_answer
from integration_api.upstream.error_kinds import naming_the_model
from integration_api.usage.meter import UsageMeter
from integration_api.usage.ports import NO_BUDGETS, NO_LEDGER, BudgetGuard, UsageLedger
from integration_api.usage.record import RERANK

log = structlog.get_logger("integration_api.rerank")

# The providers' HTTP client, named by the process assembly (the domain never imports it).
ClientT = TypeVar("ClientT")
RerankModelLookup = Callable[[str], RerankModel[ClientT] | None]


@dataclasses.dataclass(frozen=True)
class _Call(Generic[ClientT]):
    tenant: Tenant
    credential: ProviderCredential
    model: RerankModel[ClientT]
    query: RerankQuery
    deadline: Deadline
    clock: CallClock
    meter: UsageMeter


class RerankService(Generic[ClientT]):
    """Ranks documents against a query through stored credentials."""

    def __init__(
        self,
        credentials: CredentialSource,
        http: Callable[[], ClientT],
        rerank_model_for: RerankModelLookup[ClientT],
        retry: RetryPolicy | None = None,
        tenant_calls: TenantCallLimiter | None = None,
        gate: CallGate | None = None,
        *,
        ledger: UsageLedger = NO_LEDGER,
        budgets: BudgetGuard = NO_BUDGETS,
    ) -> None:
        self._credentials = credentials
        self._http = http
        self._rerank_model_for = rerank_model_for
        self._retry = retry or RetryPolicy()
        self._tenant_calls = tenant_calls or TenantCallLimiter()
        self._gate = gate or LocalCallGate()
        self._ledger = ledger
        self._budgets = budgets

    async def rerank(
        self, tenant: Tenant, request: RerankRequest, deadline: Deadline
    ) -> RerankAnswer:
        check_rerank_request(request)
        record = metrics.UnaryCall("rerank", model=request.model, tenant=tenant)
        meter = UsageMeter(self._ledger, tenant, RERANK)
        try:
            answer = await self._rerank(tenant, request, deadline, record, meter)
            record.usage = answer.usage
            return answer
        except BaseException as error:
            record.outcome = outcome_of(error, deadline)
            meter.fail(record.outcome)
            raise
        finally:
            record.save()
            meter.end()

    async def _rerank(
        self,
        tenant: Tenant,
        request: RerankRequest,
        deadline: Deadline,
        record: metrics.UnaryCall,
        meter: UsageMeter,
    ) -> RerankAnswer:
        credential = await self._credentials.resolve_for_use(tenant, request.credential_id)
        record.provider = credential.provider
        meter.through(credential.provider, credential.id)
        model = self._model_for(credential)
        model_name = model_for_call(request.model, model, credential)
        record.model = model_name
        meter.model = model_name
        structlog.contextvars.bind_contextvars(provider=record.provider, model=model_name)
        top_n = request.top_n
        if top_n is not None:
            top_n = min(top_n, len(request.documents))
        query = RerankQuery(model_name, request.query, request.documents, top_n)
        call = _Call(tenant, credential, model, query, deadline, record.clock, meter)
        # In memory, before a slot or a permit is taken: a refused call costs nothing.
        self._budgets.admit(tenant, credential.id)
        async with self._tenant_calls.slot(tenant):
            answer = await self._run(call)
        check_answer(answer, credential.provider)
        return ranked_best_first(answer, len(request.documents), top_n, credential.provider)

    def _model_for(self, credential: ProviderCredential) -> RerankModel[ClientT]:
        model = self._rerank_model_for(credential.provider)
        if model is None:
            raise FailedPrecondition(
                f"{credential.provider} credentials cannot be used for reranking",
                reason=CAPABILITY_NOT_SUPPORTED,
                provider=credential.provider,
            )
        return model

    async def _run(self, call: _Call[ClientT]) -> RerankAnswer:
        """The provider call, retried while that may help and the deadline allows."""
        attempts = 0
        while True:
            attempts += 1
            try:
                return await self._attempt(call)
            except ServiceError as error:
                await note_rejection(self._credentials, call.tenant, call.credential.id, error)
                delay = self._retry.delay_before_retry(error, attempts, call.deadline.remaining())
                if delay is None:
                    given_up = self._retry.give_up(error, attempts)
                    raise naming_the_model(given_up, call.query.model) from None
                log.info("retrying provider call", reason=error.reason, attempt=attempts)
                await call.deadline.sleep(delay, call.clock.upstream)

    async def _attempt(self, call: _Call[ClientT]) -> RerankAnswer:
        """One provider request, through the credential's gate."""
        answer = await run_gated(
            self._gate,
            call.credential,
            lambda: self._request(call),
            lambda answer: answer.usage.input_tokens or 0,
        )
        call.meter.input_tokens = answer.usage.input_tokens
        call.meter.search_units = answer.search_units
        return answer

    async def _request(self, call: _Call[ClientT]) -> RerankAnswer:
        call.meter.sent = True  # past the gate: the request is on its way
        answer = call.model.rerank(call.credential, call.query, self._http(), call.clock.upstream)
        if call.deadline.at is None:
            return await answer
        try:
            async with asyncio.timeout_at(call.deadline.at):
                return await answer
        except TimeoutError:
            raise call.deadline.expired(call.model.provider) from None
