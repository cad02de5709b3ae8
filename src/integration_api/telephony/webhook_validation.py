"""ValidateWebhook: the credential's provider checks the signature, then the replay memory.

A webhook is remembered only once its signature holds, so a forged request can never make a
genuine one look replayed. Entries are scoped to the tenant, so no tenant's webhooks can shadow
another's, but not to the credential: one delivery can be genuine under several of a tenant's
credentials (an account stored twice while it is rotated, Plivo's signatures for an account and
its subaccount), and it is still accepted only once. The check itself is pure computation on
the event loop (an HMAC, an Ed25519 verification or an HS256 token): cheaper than handing it to
a thread.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

import structlog
from prometheus_client import Counter

from integration_api.credentials.model import SecretMaterial
from integration_api.errors import FailedPrecondition
from integration_api.llm.pipeline import CAPABILITY_NOT_SUPPORTED
from integration_api.llm.ports import CredentialSource
from integration_api.principal import Tenant
from integration_api.telephony.replays import ReplayMemory
from integration_api.telephony.webhooks import (
    Genuine,
    Rejected,
    Rejection,
    UnsignedWebhooks,
    Webhook,
    WebhookChecker,
    WebhookVerdict,
)

log = structlog.get_logger("integration_api.telephony")

WebhookCheckerLookup = Callable[[str], WebhookChecker | UnsignedWebhooks | None]

WEBHOOKS = Counter(
    "integration_api_telephony_webhooks_total",
    "Webhooks checked, by provider and outcome (valid, or the rejection's reason).",
    ["provider", "outcome"],
)


def replay_key(tenant: Tenant, replay_id: str) -> str:
    """An opaque digest naming one webhook accepted by one tenant (under any credential)."""
    return _digest(tenant.organization_id, tenant.project_id, replay_id)


def replay_scope(tenant: Tenant) -> str:
    """An opaque digest naming the tenant, whose share of the replay memory its entries use."""
    return _digest(tenant.organization_id, tenant.project_id)


def _digest(*parts: str) -> str:
    # Each part's length keeps ("a:b", "c") and ("a", "b:c") apart.
    joined = "".join(f"{len(part)}:{part}" for part in parts)
    return hashlib.sha256(joined.encode()).hexdigest()


class WebhookValidation:
    """Checks inbound webhooks against stored telephony credentials."""

    def __init__(
        self,
        credentials: CredentialSource,
        checker_for: WebhookCheckerLookup,
        replays: ReplayMemory,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._credentials = credentials
        self._checker_for = checker_for
        self._replays = replays
        self._clock = clock

    async def validate(
        self, tenant: Tenant, credential_id: str, webhook: Webhook
    ) -> WebhookVerdict:
        """The verdict on `webhook` under the credential's secret.

        Raises:
            NotFound: unknown credential id, or another tenant's.
            FailedPrecondition: the credential is disabled, or its provider signs no webhooks
                (reason CAPABILITY_NOT_SUPPORTED).
        """
        credential = await self._credentials.resolve_for_use(tenant, credential_id)
        provider = credential.provider
        structlog.contextvars.bind_contextvars(provider=provider)
        checker = self._checker_for(provider)
        if checker is None or isinstance(checker, UnsignedWebhooks):
            raise FailedPrecondition(
                _unsigned_explanation(provider, checker),
                reason=CAPABILITY_NOT_SUPPORTED,
                provider=provider,
            )
        verdict = await self._verdict(tenant, checker, webhook, credential.secret)
        WEBHOOKS.labels(provider, verdict.rejection or "valid").inc()
        return verdict

    async def _verdict(
        self,
        tenant: Tenant,
        checker: WebhookChecker,
        webhook: Webhook,
        secret: SecretMaterial,
    ) -> WebhookVerdict:
        check = checker.check(webhook, secret, self._clock())
        if isinstance(check, Rejected):
            return WebhookVerdict(check.rejection, check.detail, check.signed_at)
        if not await self._first_time(tenant, check):
            return WebhookVerdict(
                Rejection.REPLAYED,
                "this webhook was already accepted; a provider's retry of a delivery that was "
                "answered with an error is reported so too",
                check.signed_at,
            )
        return WebhookVerdict(None, "", check.signed_at)

    async def _first_time(self, tenant: Tenant, check: Genuine) -> bool:
        key = replay_key(tenant, check.replay_id)
        seconds = max(1.0, check.remember_seconds)
        return await self._replays.first_time(key, seconds, replay_scope(tenant))


def _unsigned_explanation(provider: str, checker: UnsignedWebhooks | None) -> str:
    if isinstance(checker, UnsignedWebhooks):
        return checker.explanation
    return f"{provider} credentials cannot validate webhooks"
