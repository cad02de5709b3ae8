"""Keyring operations on the stored credentials: which keys they need, and moving them to the
primary key. Async and free of any interface, so the CLI and an operations RPC can share them."""

from integration_api.vault_ops.rewrap import (
    BatchOutcome,
    ProgressCallback,
    RewrapReport,
    RowFailure,
    rewrap_all,
    rewrap_candidates,
)
from integration_api.vault_ops.status import (
    ROLE_DECRYPT_ONLY,
    ROLE_MISSING,
    ROLE_PRIMARY,
    KeyStatus,
    KeyUsage,
    key_status,
)

__all__ = [
    "ROLE_DECRYPT_ONLY",
    "ROLE_MISSING",
    "ROLE_PRIMARY",
    "BatchOutcome",
    "KeyStatus",
    "KeyUsage",
    "ProgressCallback",
    "RewrapReport",
    "RowFailure",
    "key_status",
    "rewrap_all",
    "rewrap_candidates",
]
