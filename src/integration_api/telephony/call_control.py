"""One call-control action: check the request, resolve the credential, call its provider.

Requests are checked before the credential is decrypted, so a malformed one costs nothing. A
provider refusing the stored key becomes the credential's last check, as for every other call.
Every provider request passes the credential's call gate (`credentials.call_gate`) as chat,
speech and embeddings do: its limits, the pauses its provider's 429s and rate-limit headers asked
for, and its breaker; a refused request never reaches the provider. Every action is counted by
provider, action and outcome (`ok`, or the status code's name).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Generic

import structlog
from prometheus_client import Counter

from integration_api.credentials.call_gate import CallGate, run_gated
from integration_api.credentials.local_gate import LocalCallGate
from integration_api.credentials.model import ProviderCredential
from integration_api.errors import NotFound, ServiceError
from integration_api.llm.pipeline import note_rejection, outcome_of
from integration_api.llm.ports import CredentialSource
from integration_api.principal import Tenant
from integration_api.telephony.call_ports import CallControl, CallControlLookup, ClientT
from integration_api.telephony.call_rules import CallRules, check_call_id
from integration_api.telephony.calls import Call, CallChange, PlaceCall, call_ended, not_supported
from integration_api.usage.meter import UsageMeter
from integration_api.usage.ports import NO_BUDGETS, NO_LEDGER, BudgetGuard, UsageLedger
from integration_api.usage.record import GET_CALL, HANG_UP, PLACE_CALL, UPDATE_CALL

log = structlog.get_logger("integration_api.telephony")

CALL_ACTIONS = Counter(
    "integration_api_telephony_call_actions_total",
    "Call-control actions (place, get, update, hang_up), by provider and outcome.",
    ["provider", "action", "outcome"],
)

_Action = Callable[[CallControl[ClientT], ClientT, ProviderCredential], Awaitable[Call]]

# Each action's operation as the usage ledger records it.
_OPERATIONS = {"place": PLACE_CALL, "get": GET_CALL, "update": UPDATE_CALL, "hang_up": HANG_UP}


class CallService(Generic[ClientT]):
    """Places and controls calls through stored telephony credentials."""

    def __init__(
        self,
        credentials: CredentialSource,
        http: Callable[[], ClientT],
        call_control_for: CallControlLookup[ClientT],
        rules: CallRules,
        gate: CallGate | None = None,
        *,
        ledger: UsageLedger = NO_LEDGER,
        budgets: BudgetGuard = NO_BUDGETS,
    ) -> None:
        self._credentials = credentials
        self._http = http
        self._call_control_for = call_control_for
        self._rules = rules
        self._gate = gate or LocalCallGate()
        self._ledger = ledger
        self._budgets = budgets

    async def place(self, tenant: Tenant, credential_id: str, request: PlaceCall) -> Call:
        self._rules.check_place(request)
        call = await self._run(
            tenant,
            credential_id,
            "place",
            lambda control, http, credential: control.place(http, credential, request),
        )
        # Some providers answer a new call with its id alone: its numbers are the requested ones.
        return dataclasses.replace(
            call,
            from_number=call.from_number or request.from_number,
            to_number=call.to_number or request.to_number,
        )

    async def get(self, tenant: Tenant, credential_id: str, call_id: str) -> Call:
        check_call_id(call_id)
        return await self._run(
            tenant,
            credential_id,
            "get",
            lambda control, http, credential: control.get(http, credential, call_id),
        )

    async def update(
        self, tenant: Tenant, credential_id: str, call_id: str, change: CallChange
    ) -> Call:
        check_call_id(call_id)
        self._rules.check_change(change)

        async def act(
            control: CallControl[ClientT], http: ClientT, credential: ProviderCredential
        ) -> Call:
            action = control.update(http, credential, call_id, change)
            return await _unless_ended(action, control, http, credential, call_id)

        return await self._run(tenant, credential_id, "update", act)

    async def hang_up(self, tenant: Tenant, credential_id: str, call_id: str) -> Call:
        check_call_id(call_id)

        async def act(
            control: CallControl[ClientT], http: ClientT, credential: ProviderCredential
        ) -> Call:
            action = control.hang_up(http, credential, call_id)
            return await _unless_ended(action, control, http, credential, call_id)

        return await self._run(tenant, credential_id, "hang_up", act)

    async def _run(
        self, tenant: Tenant, credential_id: str, action: str, act: _Action[ClientT]
    ) -> Call:
        meter = UsageMeter(self._ledger, tenant, _OPERATIONS[action])
        credential = await self._credentials.resolve_for_use(tenant, credential_id)
        meter.through(credential.provider, credential.id)
        structlog.contextvars.bind_contextvars(provider=credential.provider)
        outcome = "ok"
        try:
            control = self._call_control_for(credential.provider)
            if control is None:
                raise not_supported(credential.provider, "call control")
            if action == "place":
                # Only a new call is refused: controlling one already placed (reading it,
                # redirecting it, hanging it up) never is, whatever the budget says.
                self._budgets.admit(tenant, credential.id)
            gated = _GatedControl(control, self._gate, meter)
            return await act(gated, self._http(), credential)
        except BaseException as error:
            outcome = outcome_of(error)
            meter.fail(outcome)
            if isinstance(error, ServiceError):
                log.info("call action failed", action=action, reason=error.reason)
                await note_rejection(self._credentials, tenant, credential_id, error)
            raise
        finally:
            CALL_ACTIONS.labels(credential.provider, action, outcome).inc()
            meter.end()


async def _unless_ended(
    action: Awaitable[Call],
    control: CallControl[ClientT],
    http: ClientT,
    credential: ProviderCredential,
    call_id: str,
) -> Call:
    """`action`'s call; where the provider no longer finds a call to act on (Vonage, Plivo
    answer 404 once a call is over), the call is read, and one that has ended is reported as
    such (FAILED_PRECONDITION, CALL_ENDED) rather than as missing."""
    try:
        return await action
    except NotFound as missing:
        try:
            call = await control.get(http, credential, call_id)
        except ServiceError:
            raise missing from None
        if call.status.finished:
            raise call_ended(call) from None
        raise


class _GatedControl(Generic[ClientT]):
    """A provider's call control whose every request passes the credential's gate: an action
    that reads the call again after a 404 (`_unless_ended`) makes two requests and takes two
    permits, as the provider counts two."""

    def __init__(self, control: CallControl[ClientT], gate: CallGate, meter: UsageMeter) -> None:
        self._control = control
        self._gate = gate
        self._meter = meter

    async def place(
        self, http: ClientT, credential: ProviderCredential, request: PlaceCall
    ) -> Call:
        return await self._gated(credential, lambda: self._control.place(http, credential, request))

    async def get(self, http: ClientT, credential: ProviderCredential, call_id: str) -> Call:
        return await self._gated(credential, lambda: self._control.get(http, credential, call_id))

    async def update(
        self, http: ClientT, credential: ProviderCredential, call_id: str, change: CallChange
    ) -> Call:
        return await self._gated(
            credential, lambda: self._control.update(http, credential, call_id, change)
        )

    async def hang_up(self, http: ClientT, credential: ProviderCredential, call_id: str) -> Call:
        return await self._gated(
            credential, lambda: self._control.hang_up(http, credential, call_id)
        )

    async def _gated(
        self, credential: ProviderCredential, request: Callable[[], Awaitable[Call]]
    ) -> Call:
        """The request, under a permit (or the gate's refusal, before the provider)."""
        return await run_gated(self._gate, credential, lambda: self._sent(request))

    def _sent(self, request: Callable[[], Awaitable[Call]]) -> Awaitable[Call]:
        self._meter.sent = True  # past the gate: the request is on its way
        return request()
