"""Sealing secret material for a row, and opening it again, through the vault.

The associated data binds a ciphertext to its tenant, credential id and provider, so a
ciphertext copied to another row does not decrypt.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from integration_api.credentials.model import (
    SecretMaterial,
    secret_from_plaintext,
    secret_hint,
    to_plaintext,
)
from integration_api.principal import Tenant
from integration_api.store.models import CredentialRow
from integration_api.vault import AssociatedData, Envelope


@dataclass(frozen=True)
class SealedSecret:
    ciphertext: bytes = field(repr=False)
    key_id: str
    hint: str
    fingerprint: str


def associated_data(tenant: Tenant, credential_id: str, provider: str) -> AssociatedData:
    return AssociatedData(
        organization_id=tenant.organization_id,
        project_id=tenant.project_id,
        credential_id=credential_id,
        provider=provider,
    )


def seal(
    envelope: Envelope, tenant: Tenant, credential_id: str, provider: str, secret: SecretMaterial
) -> SealedSecret:
    plaintext = to_plaintext(secret)
    ciphertext = envelope.encrypt(plaintext, associated_data(tenant, credential_id, provider))
    return SealedSecret(
        ciphertext=ciphertext,
        key_id=envelope.key_id_of(ciphertext),
        hint=secret_hint(secret),
        fingerprint=envelope.keyring.secret_fingerprint(plaintext),
    )


def open_secret(envelope: Envelope, row: CredentialRow) -> SecretMaterial:
    plaintext = envelope.decrypt(row.ciphertext, associated_data(row.tenant, row.id, row.provider))
    return secret_from_plaintext(plaintext)
