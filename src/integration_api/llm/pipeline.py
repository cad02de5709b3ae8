"""One chat call from credential to `Finish`: resolve, pick the adapter, retry, stream, measure.

Nothing is handed to the caller until the provider's first part is in hand, so a failure
before it (401, 404 model, 429, a 5xx, a refused connection) ends the call with a clean status,
after retries where they may help. Once a part has gone out nothing is retried: a failure
ends the call with its typed error and never with a silent end. Every waiting step is bounded
by the caller's deadline, and the answer itself by the client's `UpstreamLimits` (so a caller
without a deadline is never held for ever). A tenant holds one of its limited slots for the
whole call.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncGenerator, Callable
from typing import Generic, TypeVar

import structlog

from integration_api.credentials.call_gate import CallGate, GatedRequest
from integration_api.credentials.local_gate import LocalCallGate
from integration_api.credentials.model import ProviderCredential
from integration_api.errors import FailedPrecondition, ServiceError
from integration_api.llm import metrics
from integration_api.llm.contract import ChatRequest, Finish, StreamPart, Usage
from integration_api.llm.model_choice import model_for_call
from integration_api.llm.ports import ChatModel, CredentialSource
from integration_api.llm.ready_text import ReadyTextMerger
from integration_api.llm.retry import RetryPolicy
from integration_api.llm.tenant_calls import TenantCallLimiter
from integration_api.llm.timing import CallClock, Deadline
from integration_api.principal import Tenant
from integration_api.upstream.answer_bounds import check_answer
from integration_api.upstream.error_kinds import CREDENTIAL_REJECTED, naming_the_model
from integration_api.upstream.stream_errors import truncated
from integration_api.usage.meter import UsageMeter
from integration_api.usage.ports import NO_BUDGETS, NO_LEDGER, BudgetGuard, UsageLedger
from integration_api.usage.record import CHAT

log = structlog.get_logger("integration_api.llm")

CAPABILITY_NOT_SUPPORTED = "CAPABILITY_NOT_SUPPORTED"

# The providers' HTTP client, named by the process assembly (the domain never imports it).
ClientT = TypeVar("ClientT")
ChatModelLookup = Callable[[str], ChatModel[ClientT] | None]
Parts = AsyncGenerator[StreamPart, None]


def tokens_of(usage: Usage | None) -> int:
    """The tokens a call counts against its credential's limit: input and output, as reported."""
    if usage is None:
        return 0
    return (usage.input_tokens or 0) + (usage.output_tokens or 0)


def meter_usage(meter: UsageMeter, usage: Usage) -> None:
    """The provider's token counts, as its `Usage` part reported them, into the call's record."""
    meter.input_tokens = usage.input_tokens
    meter.cached_input_tokens = usage.cached_input_tokens
    meter.cache_write_input_tokens = usage.cache_write_input_tokens
    meter.output_tokens = usage.output_tokens
    meter.reasoning_tokens = usage.reasoning_tokens


def outcome_of(error: BaseException, deadline: Deadline | None = None) -> str:
    """The metrics label of a failed call: the status code's name, or "cancelled"."""
    if isinstance(error, ServiceError):
        return error.code.name.lower()
    if isinstance(error, Exception):
        return "internal"
    remaining = deadline.remaining() if deadline is not None else None
    if remaining is not None and remaining <= 0:
        return "deadline_exceeded"
    return "cancelled"


async def note_rejection(
    credentials: CredentialSource, tenant: Tenant, credential_id: str, error: ServiceError
) -> None:
    """A provider refusing the stored key becomes the credential's last check."""
    if not (isinstance(error, FailedPrecondition) and error.reason == CREDENTIAL_REJECTED):
        return
    try:
        await credentials.record_rejection(tenant, credential_id, error.message)
    except Exception as failure:  # noqa: BLE001 - the caller must still get the provider's verdict
        log.warning("could not record the rejection", error_type=type(failure).__name__)


@dataclasses.dataclass
class _ChatCall:
    """What one call has learnt so far, for its metrics and its log lines."""

    model: str
    tenant: Tenant
    usage_meter: UsageMeter
    provider: str = ""
    usage: Usage | None = None
    clock: CallClock = dataclasses.field(default_factory=CallClock)

    @property
    def outcome(self) -> str:
        """The metrics' label and the usage record's are one: the meter keeps it."""
        return self.usage_meter.outcome

    @property
    def completed(self) -> bool:
        """Its `Finish` has gone out: a caller (or a route) closing the stream after it does
        not make the call a cancelled one."""
        return self.usage_meter.completed

    def failed(self, error: BaseException, deadline: Deadline) -> None:
        outcome = outcome_of(error, deadline)
        self.usage_meter.fail(outcome)
        if self.usage_meter.outcome != outcome:
            return  # its `Finish` had gone out: a caller (or a route) leaving after it
        if isinstance(error, ServiceError) and self.provider:
            log.warning(
                "chat failed", provider=self.provider, model=self.model, reason=error.reason
            )

    def record(self) -> None:
        self.usage_meter.end()
        if not self.provider:
            return  # refused before a provider was involved: nothing to say per provider
        total = self.clock.elapsed()
        metrics.record_call(
            metrics.CallRecord(
                provider=self.provider,
                model=self.model,
                operation="chat",
                outcome=self.outcome,
                duration=total,
                overhead=self.clock.overhead(total),
                tenant=self.tenant,
                time_to_first_token=self.clock.time_to_first_part(),
                usage=self.usage,
            )
        )


class ChatService(Generic[ClientT]):
    """Streams chat answers through stored credentials."""

    def __init__(
        self,
        credentials: CredentialSource,
        http: Callable[[], ClientT],
        chat_model_for: ChatModelLookup[ClientT],
        retry: RetryPolicy | None = None,
        tenant_calls: TenantCallLimiter | None = None,
        gate: CallGate | None = None,
        *,
        ledger: UsageLedger = NO_LEDGER,
        budgets: BudgetGuard = NO_BUDGETS,
    ) -> None:
        self._credentials = credentials
        self._http = http
        self._chat_model_for = chat_model_for
        self._retry = retry or RetryPolicy()
        self._tenant_calls = tenant_calls or TenantCallLimiter()
        self._gate = gate or LocalCallGate()
        self._ledger = ledger
        self._budgets = budgets

    async def stream(self, tenant: Tenant, request: ChatRequest, deadline: Deadline) -> Parts:
        """The parts of one answer, ending with one `Finish` (timing filled in), or an error."""
        meter = UsageMeter(self._ledger, tenant, CHAT)
        call = _ChatCall(model=request.model, tenant=tenant, usage_meter=meter)
        try:
            credential, model, request = await self._prepare(tenant, request, call)
            # In memory, before a slot or a permit is taken: a refused call costs nothing.
            self._budgets.admit(tenant, credential.id)
            async with self._tenant_calls.slot(tenant):
                parts, first, gated = await self._first_part(
                    tenant, credential, model, request, deadline, call
                )
                merger = ReadyTextMerger(parts, call.clock.upstream)
                failure: BaseException | None = None
                try:
                    # The first part leaves alone, at once: nothing is read ahead before it.
                    part = first
                    while not isinstance(part, Finish):
                        check_answer(part, call.provider)
                        if isinstance(part, Usage):
                            call.usage = part
                            gated.tokens = tokens_of(part)
                            meter_usage(meter, part)
                        call.clock.part_sent()
                        yield part
                        part = await self._next_part(merger, call.provider)
                    check_answer(part, call.provider)
                    call.clock.part_sent()
                    structlog.contextvars.bind_contextvars(
                        provider_request_id=part.provider_request_id
                    )
                    meter.provider_request_id = part.provider_request_id
                    meter.completed = True
                    yield dataclasses.replace(part, timing=call.clock.timing())
                except BaseException as error:
                    # Closed after its Finish went out, the request succeeded all the same.
                    failure = None if call.completed else error
                    raise
                finally:
                    await merger.aclose()
                    await gated.leave(failure)
        except BaseException as error:
            call.failed(error, deadline)
            raise
        finally:
            call.record()

    async def _prepare(
        self, tenant: Tenant, request: ChatRequest, call: _ChatCall
    ) -> tuple[ProviderCredential, ChatModel[ClientT], ChatRequest]:
        """The credential, its provider's adapter, and the request with its model resolved."""
        credential = await self._credentials.resolve_for_use(tenant, request.credential_id)
        call.provider = credential.provider
        model = self._model_for(credential)
        request = dataclasses.replace(
            request, model=model_for_call(request.model, model, credential)
        )
        call.model = request.model
        call.usage_meter.through(credential.provider, credential.id)
        call.usage_meter.model = request.model
        structlog.contextvars.bind_contextvars(provider=call.provider, model=call.model)
        return credential, model, request

    def _model_for(self, credential: ProviderCredential) -> ChatModel[ClientT]:
        model = self._chat_model_for(credential.provider)
        if model is None:
            raise FailedPrecondition(
                f"{credential.provider} credentials cannot be used for chat",
                reason=CAPABILITY_NOT_SUPPORTED,
                provider=credential.provider,
            )
        return model

    async def _first_part(
        self,
        tenant: Tenant,
        credential: ProviderCredential,
        model: ChatModel[ClientT],
        request: ChatRequest,
        deadline: Deadline,
        call: _ChatCall,
    ) -> tuple[Parts, StreamPart, GatedRequest]:
        """The open stream and its first part, retrying what may be retried before it.

        Every attempt passes the credential's gate: a refusal there ends the call at once (a
        route moves on), and a 429 pauses the key until the reset the provider named, so a
        retry waits at least that long.
        """
        clock = call.clock
        attempts = 0
        while True:
            attempts += 1
            gated = await GatedRequest.enter(self._gate, credential)
            call.usage_meter.sent = True
            parts = model.stream_chat(credential, request, self._http(), clock.upstream)
            try:
                return parts, await self._first_of(parts, deadline, model.provider), gated
            except ServiceError as error:
                await parts.aclose()
                await gated.leave(error)
                await note_rejection(self._credentials, tenant, credential.id, error)
                delay = self._retry.delay_before_retry(error, attempts, deadline.remaining())
                if delay is None:
                    given_up = self._retry.give_up(error, attempts)
                    raise naming_the_model(given_up, request.model) from None
                log.info(
                    "retrying provider call",
                    provider=model.provider,
                    reason=error.reason,
                    attempt=attempts,
                    delay_seconds=round(delay, 3),
                )
                await deadline.sleep(delay, clock.upstream)
            except BaseException as error:
                await parts.aclose()
                await gated.leave(error)
                raise

    async def _first_of(self, parts: Parts, deadline: Deadline, provider: str) -> StreamPart:
        try:
            return await deadline.next_of(parts, provider)
        except StopAsyncIteration:
            raise truncated(provider) from None

    async def _next_part(self, parts: ReadyTextMerger, provider: str) -> StreamPart:
        # Once output flows, the caller's deadline is gRPC's to enforce: it cancels the call,
        # which closes the upstream response. A timer per part would cost more than the part.
        try:
            return await parts.next_part()
        except StopAsyncIteration:
            # An adapter always ends with Finish or an error; ending otherwise is a truncation.
            raise truncated(provider) from None
