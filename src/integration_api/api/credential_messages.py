"""Converters between the contract's credential messages and the domain's types.

The only code that knows both. Nothing here ever copies secret material into a response:
`credential_message` builds from a stored row, which holds ciphertext, not plaintext.
"""

from __future__ import annotations

from datetime import datetime

import betterproto2
from integration_api_proto.integration.v1 import (
    CheckOutcome,
    Credential,
    CredentialConfig,
    CredentialSecret,
    CredentialStatus,
    HealthCheck,
)

from integration_api.credentials import model
from integration_api.credentials.validation import secret_size_violations
from integration_api.credentials.verification import VerificationResult
from integration_api.enum_values import UNKNOWN_ENUM_VALUE
from integration_api.errors import InvalidArgument
from integration_api.store.models import CredentialRow, HealthCheckRecord

STATUS_TO_MESSAGE = {
    "active": CredentialStatus.ACTIVE,
    "unverified": CredentialStatus.UNVERIFIED,
    "disabled": CredentialStatus.DISABLED,
}
STATUS_FROM_MESSAGE = {value: key for key, value in STATUS_TO_MESSAGE.items()}
OUTCOME_TO_MESSAGE = {
    "valid": CheckOutcome.VALID,
    "invalid": CheckOutcome.INVALID,
    "unreachable": CheckOutcome.UNREACHABLE,
}


def config_from_message(config: CredentialConfig | None) -> model.CredentialConfig:
    if config is None:
        return model.CredentialConfig()
    return model.CredentialConfig.from_json(
        {
            "base_url": config.base_url.strip(),
            "default_model": config.default_model,
            "region": config.region,
            "api_version": config.api_version,
            "deployment": config.deployment,
            "extra": dict(config.extra),
        }
    )


def config_message(config: dict[str, object]) -> CredentialConfig:
    domain = model.CredentialConfig.from_json(config)
    return CredentialConfig(
        base_url=domain.base_url,
        default_model=domain.default_model,
        region=domain.region,
        api_version=domain.api_version,
        deployment=domain.deployment,
        extra=dict(domain.extra),
    )


def secret_from_message(secret: CredentialSecret | None) -> model.SecretMaterial | None:
    """The secret material of a request, or None when none was sent; refuses oversized fields."""
    material = _secret_material(secret)
    if material is not None:
        violations = secret_size_violations(material)
        if violations:
            summary = "; ".join(f"{v.field}: {v.description}" for v in violations)
            raise InvalidArgument(f"invalid request: {summary}", violations)
    return material


def _secret_material(secret: CredentialSecret | None) -> model.SecretMaterial | None:
    if secret is None:
        return None
    kind, value = betterproto2.which_one_of(secret, "kind")
    if value is None:
        return None
    if kind == "api_key":
        return model.ApiKey(key=value.key)
    if kind == "azure":
        return model.AzureKey(api_key=value.api_key)
    if kind == "aws":
        return model.AwsKeys(
            access_key_id=value.access_key_id,
            secret_access_key=value.secret_access_key,
            session_token=value.session_token,
        )
    if kind == "gcp_service_account":
        return model.GcpServiceAccount(json_text=value.json)
    for account_class in model.ACCOUNT_SECRET_CLASSES:
        if kind == account_class.kind:
            return account_class(**{name: getattr(value, name) for name in account_class.FIELDS})
    raise InvalidArgument.for_field("secret", "unknown secret kind")


def status_from_message(status: CredentialStatus) -> str:
    """The status filter of a list request ("" for none)."""
    if status == CredentialStatus.UNSPECIFIED:
        return ""
    found = STATUS_FROM_MESSAGE.get(status)
    if found is None:
        raise InvalidArgument.for_field("status", UNKNOWN_ENUM_VALUE)
    return found


def check_message(
    check: HealthCheckRecord | VerificationResult | None, at: datetime | None = None
) -> HealthCheck | None:
    if check is None:
        return None
    checked_at = check.checked_at if isinstance(check, HealthCheckRecord) else at
    return HealthCheck(
        checked_at=checked_at,
        outcome=OUTCOME_TO_MESSAGE[check.outcome],
        latency_ms=check.latency_ms or 0,
        message=check.message,
    )


def credential_message(row: CredentialRow) -> Credential:
    return Credential(
        id=row.id,
        provider=row.provider,
        name=row.name,
        config=config_message(row.config),
        secret_hint=row.secret_hint,
        fingerprint=row.fingerprint,
        status=STATUS_TO_MESSAGE[row.status],
        status_reason=row.status_reason,
        last_check=check_message(row.last_check),
        created_at=row.created_at,
        updated_at=row.updated_at,
        rotated_at=row.rotated_at,
        created_by=row.created_by,
        rotated_by=row.rotated_by,
        secret_kind=row.secret_kind,
        version=row.version,
    )
