"""Every place the database keeps a vault ciphertext, for key status, rewrap and readiness.

A key may retire only when no ciphertext anywhere names it, so the code that counts, moves and
checks key ids reads this one registry instead of knowing tables itself. Each `SealedStore`
says where its ciphertexts are, how to read the key id each names, and how to rebuild the
associated data it was sealed with from the row's own columns:

- `credentials`: tenant, credential id, provider (credentials/sealing.py);
- `oauth-tokens`: tenant, connection id, `oauth:` + provider (oauth/tokens.py);
- `oauth-states`: tenant, state hash in hex, `oauth:` + provider, for authorizations still
  pending (oauth/tokens.py; expired ones are never opened again and are purged);
- `oauth-pending`: tenant, `pending:` + completion code hash in hex, `oauth:` + provider, for
  consented flows not yet completed (oauth/completion.py; expired ones are deleted);
- `agent-tokens`: `opstage-agent`, agent code, backend URL (ops/opstage/identity.py).

Nothing here decrypts: rotation reads ciphertext and binding, has the vault re-encrypt it, and
writes it back with `swap_ciphertext`, a compare-and-set on the ciphertext that was read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from integration_api.store.notifications import notify_credential_changed
from integration_api.vault import AssociatedData, Keyring
from integration_api.vault.keyring import DECRYPT_ONLY_SETTING, PRIMARY_SETTING

if TYPE_CHECKING:
    from integration_api.store.database import ConnectionPool

# The key id as the envelope header spells it (bytes 5-12 after `IAV` and the format version),
# for tables that keep no key id column of their own.
_KEY_ID_FROM_HEADER = "'k' || encode(substring({column} from 5 for 8), 'hex')"


@dataclass(frozen=True)
class SealedStore:
    """One table column of vault ciphertexts. Every SQL fragment is a constant of this module:
    none is ever built from input."""

    name: str
    noun: str
    """How a report names one row of this store: `credential <id>`."""
    plural: str
    table: str
    id_column: str
    id_text: str
    """The row id as text, as reports show it and `after_id` takes it back."""
    id_from_text: str
    """SQL turning the text form in `{}` back into `id_column`'s type."""
    ciphertext_column: str
    key_id_column: str | None
    binding: tuple[str, str, str, str]
    """SQL for the associated data: organization, project, bound id, bound name."""
    live: str = "true"
    fingerprint_column: str | None = None
    """Fingerprints are keyed by the primary key: a rewrap recomputes them."""
    announces_changes: bool = False
    """Replicas cache these rows and drop a copy when told the row changed."""

    @property
    def key_id_sql(self) -> str:
        return self.key_id_column or _KEY_ID_FROM_HEADER.format(column=self.ciphertext_column)

    @property
    def holding(self) -> str:
        """The rows of this store that hold a ciphertext that still matters."""
        return f"{self.ciphertext_column} IS NOT NULL AND {self.live}"


CREDENTIALS = SealedStore(
    name="credentials",
    noun="credential",
    plural="credentials",
    table="credentials",
    id_column="id",
    id_text="id::text",
    id_from_text="{}::uuid",
    ciphertext_column="ciphertext",
    key_id_column="key_id",
    binding=("organization_id", "project_id", "id::text", "provider"),
    fingerprint_column="fingerprint",
    announces_changes=True,
)
OAUTH_TOKENS = SealedStore(
    name="oauth-tokens",
    noun="OAuth connection",
    plural="OAuth tokens",
    table="oauth_connections",
    id_column="id",
    id_text="id::text",
    id_from_text="{}::uuid",
    ciphertext_column="token_ciphertext",
    key_id_column="key_id",
    binding=("organization_id", "project_id", "id::text", "'oauth:' || provider"),
)
OAUTH_STATES = SealedStore(
    name="oauth-states",
    noun="pending OAuth authorization",
    plural="pending OAuth authorizations",
    table="oauth_states",
    id_column="state_hash",
    id_text="encode(state_hash, 'hex')",
    id_from_text="decode({}, 'hex')",
    ciphertext_column="verifier_ciphertext",
    key_id_column="key_id",
    binding=(
        "organization_id",
        "project_id",
        "encode(state_hash, 'hex')",
        "'oauth:' || provider",
    ),
    live="expires_at > now()",
)
OAUTH_PENDING = SealedStore(
    name="oauth-pending",
    noun="pending OAuth connection",
    plural="pending OAuth connections",
    table="oauth_pending_connections",
    id_column="code_hash",
    id_text="encode(code_hash, 'hex')",
    id_from_text="decode({}, 'hex')",
    ciphertext_column="token_ciphertext",
    key_id_column="key_id",
    binding=(
        "organization_id",
        "project_id",
        "'pending:' || encode(code_hash, 'hex')",
        "'oauth:' || provider",
    ),
    live="expires_at > now()",
)
AGENT_TOKENS = SealedStore(
    name="agent-tokens",
    noun="Opstage agent",
    plural="Opstage agent tokens",
    table="opstage_agents",
    id_column="code",
    id_text="code",
    id_from_text="{}",
    ciphertext_column="sealed_token",
    key_id_column=None,
    binding=("'opstage-agent'", "''", "code", "backend_url"),
)

SEALED_STORES: tuple[SealedStore, ...] = (
    CREDENTIALS,
    OAUTH_TOKENS,
    OAUTH_STATES,
    OAUTH_PENDING,
    AGENT_TOKENS,
)


@dataclass(frozen=True)
class SealedRow:
    """One ciphertext to re-encrypt, with the associated data it is bound to."""

    store: SealedStore
    row_id: str
    ciphertext: bytes = field(repr=False)
    key_id: str
    binding: AssociatedData

    def describe(self) -> str:
        return f"{self.store.noun} {self.row_id}"


def _counts_sql(store: SealedStore) -> str:
    return (
        f"SELECT {store.key_id_sql} AS key_id, count(*) AS held "  # noqa: S608 - registry constants
        f"FROM {store.table} WHERE {store.holding} GROUP BY 1"
    )


def _rows_sql(store: SealedStore) -> str:
    organization, project, bound_id, bound_name = store.binding
    return f"""
SELECT {store.id_text} AS row_id, {store.ciphertext_column} AS ciphertext,
    {store.key_id_sql} AS key_id, {organization} AS organization_id, {project} AS project_id,
    {bound_id} AS bound_id, {bound_name} AS bound_name
FROM {store.table}
WHERE {store.holding} AND {store.key_id_sql} <> $1
    AND ($2::text IS NULL OR {store.id_column} > {store.id_from_text.format("$2::text")})
ORDER BY {store.id_column}
LIMIT $3"""  # noqa: S608 - registry constants and numbered parameters only


def _swap_sql(store: SealedStore) -> str:
    # Compare-and-set on the ciphertext itself: if the value was replaced after the rewrap read
    # it, nothing matches and the newer value stays. Parameters: $1 row id, $2 ciphertext read,
    # $3 new ciphertext, then the new key id and fingerprint where the table keeps them.
    assignments = [f"{store.ciphertext_column} = $3"]
    for column in (store.key_id_column, store.fingerprint_column):
        if column:
            assignments.append(f"{column} = ${len(assignments) + 3}")
    return (
        f"UPDATE {store.table} SET {', '.join(assignments)} "  # noqa: S608 - registry constants
        f"WHERE {store.id_column} = {store.id_from_text.format('$1::text')} "
        f"AND {store.ciphertext_column} = $2"
    )


def _key_ids_sql() -> str:
    return " UNION ALL ".join(
        f"(SELECT DISTINCT '{store.name}' AS store, {store.key_id_sql} AS key_id "  # noqa: S608
        f"FROM {store.table} WHERE {store.holding})"
        for store in SEALED_STORES
    )


_KEY_IDS_IN_USE = _key_ids_sql()
_COUNTS = {store.name: _counts_sql(store) for store in SEALED_STORES}
_ROWS_NOT_ON_KEY = {store.name: _rows_sql(store) for store in SEALED_STORES}
_SWAP = {store.name: _swap_sql(store) for store in SEALED_STORES}


def missing_keys_message(in_use: Mapping[str, Sequence[str]], keyring: Keyring) -> str | None:
    """What readiness says when stored values name key ids the keyring lacks: the ids, and
    which stores hold them (never anything else of the rows)."""
    missing = sorted(key_id for key_id in in_use if not keyring.has(key_id))
    if not missing:
        return None
    holders = {name for key_id in missing for name in in_use[key_id]}
    held_by = ", ".join(store.plural for store in SEALED_STORES if store.name in holders)
    return (
        f"the database holds {held_by} encrypted under key id(s) {', '.join(missing)} "
        f"that {PRIMARY_SETTING}/{DECRYPT_ONLY_SETTING} lack"
    )


class SealedValueRepository:
    """Operator access to every sealed value by key id, across all tenants, for key rotation."""

    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool

    async def count_by_key_id(self, store: SealedStore) -> dict[str, int]:
        """How many of this store's ciphertexts each key id encrypted."""
        records = await self._pool.fetch(_COUNTS[store.name])
        return {record["key_id"]: record["held"] for record in records}

    async def key_ids_in_use(self) -> dict[str, tuple[str, ...]]:
        """Every key id any stored ciphertext names, with the stores (by name) that hold it."""
        records = await self._pool.fetch(_KEY_IDS_IN_USE)
        holders: dict[str, list[str]] = {}
        for record in records:
            holders.setdefault(record["key_id"], []).append(record["store"])
        return {key_id: tuple(stores) for key_id, stores in holders.items()}

    async def rows_not_on_key(
        self, store: SealedStore, key_id: str, limit: int = 100, *, after_id: str | None = None
    ) -> list[SealedRow]:
        """Up to `limit` of this store's ciphertexts under another key, in row id order.

        Rewrapped rows leave this set, so calling again continues the work; `after_id` (a
        `row_id` met before) lets a pass step over rows it could not rewrap.
        """
        records = await self._pool.fetch(_ROWS_NOT_ON_KEY[store.name], key_id, after_id, limit)
        return [
            SealedRow(
                store=store,
                row_id=record["row_id"],
                ciphertext=bytes(record["ciphertext"]),
                key_id=record["key_id"],
                binding=AssociatedData(
                    organization_id=record["organization_id"],
                    project_id=record["project_id"],
                    credential_id=record["bound_id"],
                    provider=record["bound_name"],
                ),
            )
            for record in records
        ]

    async def swap_ciphertext(
        self,
        store: SealedStore,
        row_id: str,
        old_ciphertext: bytes,
        new_ciphertext: bytes,
        new_key_id: str,
        new_fingerprint: str = "",
    ) -> bool:
        """Replace the ciphertext only if it is still `old_ciphertext`; False when it was not.

        Leaves versions and timestamps alone: the value is the same, only its wrapping changed,
        so nobody's edit in progress should fail because of it.
        """
        arguments: list[object] = [row_id, old_ciphertext, new_ciphertext]
        if store.key_id_column:
            arguments.append(new_key_id)
        if store.fingerprint_column:
            arguments.append(new_fingerprint)
        async with self._pool.acquire() as connection, connection.transaction():
            status = await connection.execute(_SWAP[store.name], *arguments)
            swapped = status == "UPDATE 1"
            if swapped and store.announces_changes:
                # Cached copies still name the key that is about to retire.
                await notify_credential_changed(connection, row_id)
        return swapped
