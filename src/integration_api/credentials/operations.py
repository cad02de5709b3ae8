"""The credential lifecycle as domain operations; servicers only translate to and from them.

Every mutation is scoped to the caller's tenant, writes its audit event in the same
transaction (the repository does that), then drops cached copies on every replica.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from integration_api.call_context import current_request_id
from integration_api.credentials.cache import CredentialCache
from integration_api.credentials.catalog import DestinationPolicy, ProviderCatalog
from integration_api.credentials.destinations import (
    check_egress,
    destination_changes,
    refuse_destination_change,
)
from integration_api.credentials.model import (
    CredentialConfig,
    GcpServiceAccount,
    ProviderCredential,
    SecretMaterial,
)
from integration_api.credentials.sealing import open_secret, seal
from integration_api.credentials.usage import CredentialResolver
from integration_api.credentials.validation import extra_violations, name_violations
from integration_api.credentials.verification import VerificationResult
from integration_api.database import Database
from integration_api.errors import FailedPrecondition, FieldViolation, InvalidArgument, Unavailable
from integration_api.principal import Principal, Tenant
from integration_api.store.audit import AuditLog
from integration_api.store.credentials import CredentialRepository, LinkedWrite
from integration_api.store.models import AuditEvent, CredentialRow, HealthCheckRecord, NewCredential
from integration_api.store.pagination import PageTokens
from integration_api.vault import Envelope


@dataclass(frozen=True)
class CredentialDraft:
    provider: str
    name: str
    config: CredentialConfig
    secret: SecretMaterial | None
    skip_verification: bool = False


def _raise_if_any(violations: list[FieldViolation]) -> None:
    if violations:
        summary = "; ".join(f"{v.field}: {v.description}" for v in violations)
        raise InvalidArgument(f"invalid request: {summary}", violations)


def _check_record(result: VerificationResult) -> HealthCheckRecord:
    return HealthCheckRecord(
        checked_at=datetime.now(UTC),
        outcome=result.outcome,
        latency_ms=result.latency_ms,
        message=result.message,
    )


def _refuse_unverified(provider: str, result: VerificationResult) -> None:
    """A secret that is not proven to work is not stored (unless the caller skips the check)."""
    if result.outcome == "invalid":
        raise FailedPrecondition(
            f"the provider rejected the credential: {result.message}",
            reason="CREDENTIAL_REJECTED",
            provider=provider,
        )
    if result.outcome == "unreachable":
        raise Unavailable(
            f"could not verify the credential: {result.message}; "
            "retry, or store it unverified with skip_verification",
            reason="PROVIDER_UNREACHABLE",
            provider=provider,
        )


class CredentialOperations:
    def __init__(
        self,
        database: Database,
        envelope: Envelope,
        cache: CredentialCache,
        providers: ProviderCatalog,
        destinations: DestinationPolicy,
    ) -> None:
        self._database = database
        self._envelope = envelope
        self._cache = cache
        self._providers = providers
        self._destinations = destinations
        self._resolver = CredentialResolver(database, envelope, cache)
        self._page_tokens = PageTokens(envelope.keyring)

    async def resolve_for_use(self, tenant: Tenant, credential_id: str) -> ProviderCredential:
        """The credential decrypted for one provider call (see CredentialResolver)."""
        return await self._resolver.resolve_for_use(tenant, credential_id)

    async def record_rejection(self, tenant: Tenant, credential_id: str, message: str) -> None:
        await self._resolver.record_rejection(tenant, credential_id, message)

    def _repository(self) -> CredentialRepository:
        return CredentialRepository(self._database.pool)

    def _event(
        self, principal: Principal, action: str, target_id: str, **details: str | int | bool | None
    ) -> AuditEvent:
        return AuditEvent(
            actor=principal.actor,
            tenant=principal.tenant,
            action=action,
            target_type="credential",
            target_id=target_id,
            request_id=current_request_id(),
            details={key: value for key, value in details.items() if value is not None},
        )

    async def _changed(self, credential_id: str) -> None:
        # The repository's write already notified every replica (on commit); dropping this
        # replica's own copy here as well spares it the round trip.
        await self._cache.invalidate(credential_id)

    async def _audit_refusal(
        self, principal: Principal, action: str, target: str, why: str
    ) -> None:
        event = self._event(principal, action, target, refused=why)
        await AuditLog(self._database.pool).record(
            AuditEvent(**{**event.__dict__, "outcome": "failure"})
        )

    async def verify_secret(
        self, credential_id: str, provider: str, config: CredentialConfig, secret: SecretMaterial
    ) -> VerificationResult:
        credential = ProviderCredential(credential_id, provider, config, secret)
        return await self._providers.verify(credential)

    async def _verification_gate(
        self, principal: Principal, action: str, candidate: ProviderCredential, *, skip: bool
    ) -> VerificationResult | None:
        """Verifies a secret about to be stored; a refusal is audited and raised."""
        if skip:
            return None
        result = await self.verify_secret(
            candidate.id, candidate.provider, candidate.config, candidate.secret
        )
        if result.outcome != "valid":
            await self._audit_refusal(principal, action, candidate.id, result.outcome)
        _refuse_unverified(candidate.provider, result)
        return result

    async def create(self, principal: Principal, draft: CredentialDraft) -> CredentialRow:
        violations = name_violations(draft.name) + extra_violations(dict(draft.config.extra))
        if draft.secret is None:
            violations.append(FieldViolation("secret", "is required"))
        self._providers.require_known(draft.provider)
        _raise_if_any(violations)
        assert draft.secret is not None
        await self._check_credential(draft.provider, draft.config, draft.secret)
        credential_id = str(uuid.uuid4())
        result = await self._verification_gate(
            principal,
            "credential.create",
            ProviderCredential(credential_id, draft.provider, draft.config, draft.secret),
            skip=draft.skip_verification,
        )
        sealed = seal(self._envelope, principal.tenant, credential_id, draft.provider, draft.secret)
        row = await self._repository().insert(
            NewCredential(
                id=credential_id,
                tenant=principal.tenant,
                provider=draft.provider,
                name=draft.name,
                config=draft.config.to_json(),
                ciphertext=sealed.ciphertext,
                key_id=sealed.key_id,
                secret_hint=sealed.hint,
                fingerprint=sealed.fingerprint,
                status="active" if result is not None else "unverified",
                created_by=principal.actor,
                secret_kind=draft.secret.kind,
            ),
            self._event(
                principal,
                "credential.create",
                credential_id,
                provider=draft.provider,
                name=draft.name,
                base_url=draft.config.base_url or None,
                verified=result is not None,
            ),
        )
        if result is not None:
            row = await self._repository().record_check(
                principal.tenant, credential_id, _check_record(result)
            )
        return row

    async def _check_credential(
        self, provider: str, config: CredentialConfig, secret: SecretMaterial
    ) -> None:
        """`InvalidArgument` listing what is wrong with a credential to be stored.

        Its fields first, then each destination of its key the egress policy refuses; both
        before any call is made.
        """
        violations = self._providers.credential_violations(provider, config, secret)
        if violations:
            summary = "; ".join(f"{item.field}: {item.description}" for item in violations)
            raise InvalidArgument(f"invalid credential: {summary}", violations)
        token_uri = self._providers.token_uri_of(secret)
        await check_egress(self._destinations, provider, config, token_uri)

    async def get(self, tenant: Tenant, credential_id: str) -> CredentialRow:
        return await self._repository().get(tenant, credential_id)

    async def list(
        self,
        tenant: Tenant,
        *,
        provider: str,
        status: str,
        page_size: int,
        page_token: str,
    ) -> tuple[list[CredentialRow], str]:
        if page_size < 0 or page_size > 100:
            raise InvalidArgument.for_field("page_size", "must be between 0 and 100")
        if provider:
            self._providers.require_known(provider)
        return await self._repository().list(
            tenant,
            provider=provider or None,
            status=status or None,
            page_size=page_size,
            page_token=page_token or None,
            tokens=self._page_tokens,
        )

    async def update(
        self,
        principal: Principal,
        credential_id: str,
        *,
        name: str | None,
        config: CredentialConfig | None,
        expected_version: int | None,
    ) -> CredentialRow:
        current = await self._repository().get(principal.tenant, credential_id)
        violations = name_violations(name) if name is not None else []
        if config is not None:
            violations += extra_violations(dict(config.extra))
        _raise_if_any(violations)
        if config is not None:
            _raise_if_any(self._providers.config_violations(current.provider, config))
            refuse_destination_change(CredentialConfig.from_json(current.config), config)
        event = self._event(
            principal,
            "credential.update",
            credential_id,
            name=name,
            config_changed=config is not None,
        )
        row = await self._repository().update_metadata(
            principal.tenant,
            credential_id,
            expected_version=expected_version or current.version,
            name=name,
            config=config.to_json() if config is not None else None,
            audit=event,
        )
        await self._changed(credential_id)
        return row

    async def rotate(
        self,
        principal: Principal,
        credential_id: str,
        secret: SecretMaterial | None,
        *,
        skip_verification: bool,
        expected_version: int | None,
        config: CredentialConfig | None = None,
        linked: LinkedWrite | None = None,
    ) -> CredentialRow:
        """Replace the secret, and the config with it when one is given (a new destination).

        The secret is verified first; `linked` then commits in the swap's transaction.
        """
        if secret is None:
            raise InvalidArgument.for_field("secret", "is required")
        if config is not None:
            _raise_if_any(extra_violations(dict(config.extra)))
        current = await self._repository().get(principal.tenant, credential_id)
        stored = CredentialConfig.from_json(current.config)
        target = config if config is not None else stored
        await self._check_credential(current.provider, target, secret)
        result = await self._verification_gate(
            principal,
            "credential.rotate",
            ProviderCredential(credential_id, current.provider, target, secret),
            skip=skip_verification,
        )
        audit = self._rotation_event(
            principal, current, target, secret, verified=result is not None
        )
        sealed = seal(self._envelope, principal.tenant, credential_id, current.provider, secret)
        if current.status == "disabled":
            status = "disabled"
        else:
            status = "active" if result is not None else "unverified"
        row = await self._repository().replace_secret(
            principal.tenant,
            credential_id,
            expected_version=expected_version or current.version,
            ciphertext=sealed.ciphertext,
            key_id=sealed.key_id,
            secret_hint=sealed.hint,
            fingerprint=sealed.fingerprint,
            rotated_by=principal.actor,
            status=status,
            status_reason=current.status_reason if status == "disabled" else "",
            secret_kind=secret.kind,
            config=target.to_json() if target != stored else None,
            audit=audit,
            linked=linked,
        )
        if result is not None:
            row = await self._repository().record_check(
                principal.tenant, credential_id, _check_record(result)
            )
        await self._changed(credential_id)
        return row

    def _rotation_event(
        self,
        principal: Principal,
        current: CredentialRow,
        target: CredentialConfig,
        secret: SecretMaterial,
        *,
        verified: bool,
    ) -> AuditEvent:
        """The rotation's audit event, with the old and new value of every moved destination."""
        stored = CredentialConfig.from_json(current.config)
        changes = destination_changes(
            stored, target, self._stored_token_uri(current), self._providers.token_uri_of(secret)
        )
        moved = {key: value for change in changes for key, value in change.audit_details().items()}
        return self._event(
            principal,
            "credential.rotate",
            current.id,
            verified=verified,
            config_changed=(target != stored) or None,
            **moved,
        )

    def _stored_token_uri(self, row: CredentialRow) -> str:
        """The token endpoint of a stored service-account key ('' for any other secret)."""
        if row.secret_kind != GcpServiceAccount.kind:
            return ""
        return self._providers.token_uri_of(open_secret(self._envelope, row))

    async def delete(self, principal: Principal, credential_id: str) -> None:
        await self._repository().delete(
            principal.tenant,
            credential_id,
            self._event(principal, "credential.delete", credential_id),
        )
        await self._changed(credential_id)

    async def set_enabled(
        self, principal: Principal, credential_id: str, *, enabled: bool, reason: str = ""
    ) -> CredentialRow:
        current = await self._repository().get(principal.tenant, credential_id)
        if enabled:
            verified = current.last_check_outcome == "valid"
            status, action = ("active" if verified else "unverified"), "credential.enable"
        else:
            status, action = "disabled", "credential.disable"
        row = await self._repository().set_status(
            principal.tenant,
            credential_id,
            status=status,
            reason=reason if not enabled else "",
            audit=self._event(principal, action, credential_id, reason=reason or None),
        )
        await self._changed(credential_id)
        return row

    async def verify(
        self, tenant: Tenant, credential_id: str
    ) -> tuple[CredentialRow, VerificationResult]:
        row = await self._repository().get(tenant, credential_id)
        secret = open_secret(self._envelope, row)
        config = CredentialConfig.from_json(row.config)
        result = await self.verify_secret(row.id, row.provider, config, secret)
        new_status = "active" if result.outcome == "valid" and row.status == "unverified" else None
        row = await self._repository().record_check(
            tenant, credential_id, _check_record(result), new_status=new_status
        )
        await self._changed(credential_id)
        return row, result
