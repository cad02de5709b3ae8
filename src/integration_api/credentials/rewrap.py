"""Re-encrypting every sealed value under the primary key, while the service keeps serving.

Every store in store/sealed.py is covered: credentials, OAuth tokens, pending OAuth
authorizations and the Opstage agent token, each re-encrypted with its own associated data.
Each row is replaced on its own with a compare-and-set on the ciphertext that was read, so:

- a crash leaves every row either as it was or rewrapped, both decryptable with the keyring of
  the rotation, and running again continues with the rows still on other keys;
- a value replaced through the service while its row was being rewrapped (a rotated secret, a
  refreshed token) is never overwritten with the old one: the replacement wins, and if it is not
  on the primary key either, the next pass picks the row up again;
- a row whose key the keyring lacks, or that does not decrypt, is reported by store and row id
  and left exactly as it is.

Only the row being rewrapped is ever held decrypted. Credential fingerprints are recomputed
under the primary key, since fingerprints are keyed by it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from integration_api.store.sealed import (
    SEALED_STORES,
    SealedRow,
    SealedStore,
    SealedValueRepository,
)
from integration_api.vault import DecryptionError, Envelope, UnknownKeyError

if TYPE_CHECKING:
    from integration_api.store.database import ConnectionPool

ProgressCallback = Callable[[int, int], None]
"""Called with (rows handled so far, rows to handle) at the start and after every batch."""

MISSING_KEY = "missing-key"
UNDECRYPTABLE = "undecryptable"

# Rows the service writes under an old key while a pass runs (a replica not yet promoted) are
# met by the next pass; the bound keeps such a replica from making the job run forever.
MAX_PASSES = 5


@dataclass(frozen=True)
class RowFailure:
    """A row left untouched: its key is not in the keyring, or it does not decrypt."""

    store: str
    row_id: str
    subject: str
    """How reports name the row: `credential <id>`, `OAuth connection <id>`, …"""
    key_id: str
    reason: str

    @classmethod
    def of(cls, row: SealedRow, key_id: str, reason: str) -> RowFailure:
        return cls(row.store.name, row.row_id, row.describe(), key_id, reason)

    def describe(self) -> str:
        if self.reason == MISSING_KEY:
            return f"{self.subject}: key id {self.key_id} is not in the keyring"
        return f"{self.subject}: stored secret does not decrypt"


@dataclass
class BatchOutcome:
    rewrapped: dict[str, int] = field(default_factory=dict)
    """Rows moved to the primary key, per store name."""
    conflicts: int = 0
    """Rows whose ciphertext changed between read and write; the change was kept."""
    failures: list[RowFailure] = field(default_factory=list)

    @property
    def rewrapped_rows(self) -> int:
        return sum(self.rewrapped.values())

    @property
    def handled(self) -> int:
        return self.rewrapped_rows + self.conflicts + len(self.failures)

    def count_rewrapped(self, store: SealedStore, rows: int = 1) -> None:
        self.rewrapped[store.name] = self.rewrapped.get(store.name, 0) + rows

    def add(self, other: BatchOutcome) -> None:
        for name, rows in other.rewrapped.items():
            self.rewrapped[name] = self.rewrapped.get(name, 0) + rows
        self.conflicts += other.conflicts
        self.failures.extend(other.failures)


@dataclass(frozen=True)
class RewrapReport:
    primary_key_id: str
    rewrapped_by_store: dict[str, int]
    conflicts: int
    failures: tuple[RowFailure, ...]
    left_on_other_keys: int
    """Counted after the run over every store: rows still not on the primary key."""

    @property
    def rewrapped(self) -> int:
        return sum(self.rewrapped_by_store.values())

    @property
    def complete(self) -> bool:
        return not self.failures and self.left_on_other_keys == 0

    @property
    def missing_key_ids(self) -> tuple[str, ...]:
        return tuple(sorted({f.key_id for f in self.failures if f.reason == MISSING_KEY}))


async def rewrap_rows(
    pool: ConnectionPool, envelope: Envelope, rows: Sequence[SealedRow]
) -> BatchOutcome:
    """Move these rows to the primary key, each only if it still holds the ciphertext read."""
    repository = SealedValueRepository(pool)
    outcome = BatchOutcome()
    for row in rows:
        try:
            ciphertext, fingerprint = _reseal(envelope, row)
        except UnknownKeyError as error:
            outcome.failures.append(RowFailure.of(row, error.key_id, MISSING_KEY))
            continue
        except DecryptionError:
            outcome.failures.append(RowFailure.of(row, row.key_id, UNDECRYPTABLE))
            continue
        swapped = await repository.swap_ciphertext(
            row.store,
            row.row_id,
            row.ciphertext,
            ciphertext,
            envelope.key_id_of(ciphertext),
            fingerprint,
        )
        if swapped:
            outcome.count_rewrapped(row.store)
        else:
            outcome.conflicts += 1
    return outcome


async def rewrap_all(
    pool: ConnectionPool,
    envelope: Envelope,
    batch_size: int = 100,
    progress: ProgressCallback | None = None,
    *,
    max_rows: int | None = None,
) -> RewrapReport:
    """Rewrap every sealed value not under the primary key, `batch_size` rows per read.

    `max_rows` stops after that many rows have been handled, to spread a rotation over several
    runs; running again continues where it stopped.
    """
    if batch_size < 1:
        raise ValueError("batch size must be at least 1")
    if max_rows is not None and max_rows < 0:
        raise ValueError("max rows must not be negative")
    run = _RewrapRun(pool, envelope, batch_size, progress, max_rows)
    return await run.execute()


async def rows_left_on_other_keys(pool: ConnectionPool, primary_key_id: str) -> int:
    """Sealed values of every store that are not under `primary_key_id`."""
    repository = SealedValueRepository(pool)
    left = 0
    for store in SEALED_STORES:
        counts = await repository.count_by_key_id(store)
        left += sum(count for key_id, count in counts.items() if key_id != primary_key_id)
    return left


def _reseal(envelope: Envelope, row: SealedRow) -> tuple[bytes, str]:
    """The row's value encrypted under the primary key, and where the store keeps one, its
    fingerprint under that key."""
    plaintext = envelope.decrypt(row.ciphertext, row.binding)
    keyring = envelope.keyring
    fingerprint = keyring.secret_fingerprint(plaintext) if row.store.fingerprint_column else ""
    return envelope.encrypt(plaintext, row.binding), fingerprint


class _RewrapRun:
    def __init__(
        self,
        pool: ConnectionPool,
        envelope: Envelope,
        batch_size: int,
        progress: ProgressCallback | None,
        max_rows: int | None,
    ) -> None:
        self._pool = pool
        self._envelope = envelope
        self._repository = SealedValueRepository(pool)
        self._primary = envelope.keyring.primary_key_id
        self._batch_size = batch_size
        self._progress = progress
        self._max_rows = max_rows
        self._outcome = BatchOutcome()
        self._failed: set[tuple[str, str]] = set()
        self._total = 0

    async def execute(self) -> RewrapReport:
        self._total = await rows_left_on_other_keys(self._pool, self._primary)
        self._report_progress()
        for store in SEALED_STORES:
            for _pass in range(MAX_PASSES):
                changed = await self._one_pass(store)
                if not changed or self._at_limit():
                    break
        return RewrapReport(
            primary_key_id=self._primary,
            rewrapped_by_store=dict(self._outcome.rewrapped),
            conflicts=self._outcome.conflicts,
            failures=tuple(self._outcome.failures),
            left_on_other_keys=await rows_left_on_other_keys(self._pool, self._primary),
        )

    async def _one_pass(self, store: SealedStore) -> bool:
        """One walk over a store's rows in id order; True if it met any row it could move."""
        after_id: str | None = None
        changed = False
        while not self._at_limit():
            rows = await self._repository.rows_not_on_key(
                store, self._primary, self._next_batch_size(), after_id=after_id
            )
            if not rows:
                break
            after_id = rows[-1].row_id
            fresh = [row for row in rows if (store.name, row.row_id) not in self._failed]
            batch = await rewrap_rows(self._pool, self._envelope, fresh)
            self._failed.update((failure.store, failure.row_id) for failure in batch.failures)
            self._outcome.add(batch)
            changed = changed or batch.rewrapped_rows + batch.conflicts > 0
            self._report_progress()
        return changed

    def _at_limit(self) -> bool:
        return self._max_rows is not None and self._outcome.handled >= self._max_rows

    def _next_batch_size(self) -> int:
        if self._max_rows is None:
            return self._batch_size
        return min(self._batch_size, self._max_rows - self._outcome.handled)

    def _report_progress(self) -> None:
        if self._progress is None:
            return
        handled = self._outcome.handled
        # Rows written under an old key during the run, or met twice, can push past the count
        # taken at the start.
        self._total = max(self._total, handled)
        self._progress(handled, self._total)
