"""Re-encrypting every stored credential under the primary key, while the service keeps serving.

Each row is replaced on its own with a compare-and-set on the ciphertext that was read, so:

- a crash leaves every row either as it was or rewrapped, both decryptable with the keyring of
  the rotation, and running again continues with the rows still on other keys;
- a secret replaced through the service while its row was being rewrapped is never overwritten
  with the old secret: the replacement wins, and if it is not on the primary key either, the
  next pass picks the row up again;
- a row whose key the keyring lacks, or that does not decrypt, is reported by credential id and
  left exactly as it is.

The fingerprint is recomputed under the primary key, since fingerprints are keyed by it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from integration_api.credentials.sealing import associated_data
from integration_api.principal import Tenant
from integration_api.store.credential_keys import CredentialKeyRepository
from integration_api.store.models import RewrapCandidate
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

    credential_id: str
    key_id: str
    reason: str

    def describe(self) -> str:
        if self.reason == MISSING_KEY:
            return f"credential {self.credential_id}: key id {self.key_id} is not in the keyring"
        return f"credential {self.credential_id}: stored secret does not decrypt"


@dataclass
class BatchOutcome:
    rewrapped: int = 0
    conflicts: int = 0
    """Rows whose ciphertext changed between read and write; the change was kept."""
    failures: list[RowFailure] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return self.rewrapped + self.conflicts + len(self.failures)

    def add(self, other: BatchOutcome) -> None:
        self.rewrapped += other.rewrapped
        self.conflicts += other.conflicts
        self.failures.extend(other.failures)


@dataclass(frozen=True)
class RewrapReport:
    primary_key_id: str
    rewrapped: int
    conflicts: int
    failures: tuple[RowFailure, ...]
    left_on_other_keys: int
    """Counted after the run: rows still not on the primary key, failures included."""

    @property
    def complete(self) -> bool:
        return not self.failures and self.left_on_other_keys == 0

    @property
    def missing_key_ids(self) -> tuple[str, ...]:
        return tuple(sorted({f.key_id for f in self.failures if f.reason == MISSING_KEY}))


async def rewrap_candidates(
    pool: ConnectionPool, envelope: Envelope, candidates: Sequence[RewrapCandidate]
) -> BatchOutcome:
    """Move these rows to the primary key, each only if it still holds the ciphertext read."""
    repository = CredentialKeyRepository(pool)
    outcome = BatchOutcome()
    for candidate in candidates:
        try:
            ciphertext, fingerprint = _reseal(envelope, candidate)
        except UnknownKeyError as error:
            outcome.failures.append(RowFailure(candidate.id, error.key_id, MISSING_KEY))
            continue
        except DecryptionError:
            outcome.failures.append(RowFailure(candidate.id, candidate.key_id, UNDECRYPTABLE))
            continue
        swapped = await repository.swap_ciphertext(
            candidate.id,
            candidate.ciphertext,
            ciphertext,
            envelope.key_id_of(ciphertext),
            fingerprint,
        )
        if swapped:
            outcome.rewrapped += 1  # the swap also told every replica to drop its copy
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
    """Rewrap every row not under the primary key, `batch_size` rows per read.

    `max_rows` stops after that many rows have been handled, to spread a rotation over several
    runs; running again continues where it stopped.
    """
    if batch_size < 1:
        raise ValueError("batch size must be at least 1")
    if max_rows is not None and max_rows < 0:
        raise ValueError("max rows must not be negative")
    run = _RewrapRun(pool, envelope, batch_size, progress, max_rows)
    return await run.execute()


def _reseal(envelope: Envelope, candidate: RewrapCandidate) -> tuple[bytes, str]:
    """The row's secret encrypted under the primary key, and its fingerprint under that key."""
    aad = associated_data(
        Tenant(candidate.organization_id, candidate.project_id), candidate.id, candidate.provider
    )
    plaintext = envelope.decrypt(candidate.ciphertext, aad)
    return envelope.encrypt(plaintext, aad), envelope.keyring.secret_fingerprint(plaintext)


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
        self._repository = CredentialKeyRepository(pool)
        self._primary = envelope.keyring.primary_key_id
        self._batch_size = batch_size
        self._progress = progress
        self._max_rows = max_rows
        self._outcome = BatchOutcome()
        self._failed_ids: set[str] = set()
        self._total = 0

    async def execute(self) -> RewrapReport:
        self._total = await self._count_left()
        self._report_progress()
        for _pass in range(MAX_PASSES):
            changed = await self._one_pass()
            if not changed or self._at_limit():
                break
        return RewrapReport(
            primary_key_id=self._primary,
            rewrapped=self._outcome.rewrapped,
            conflicts=self._outcome.conflicts,
            failures=tuple(self._outcome.failures),
            left_on_other_keys=await self._count_left(),
        )

    async def _one_pass(self) -> bool:
        """One walk over the rows in id order; True if it met any row it could move."""
        after_id: str | None = None
        changed = False
        while not self._at_limit():
            candidates = await self._repository.rows_not_on_key(
                self._primary, self._next_batch_size(), after_id=after_id
            )
            if not candidates:
                break
            after_id = candidates[-1].id
            fresh = [c for c in candidates if c.id not in self._failed_ids]
            batch = await rewrap_candidates(self._pool, self._envelope, fresh)
            self._failed_ids.update(failure.credential_id for failure in batch.failures)
            self._outcome.add(batch)
            changed = changed or batch.rewrapped + batch.conflicts > 0
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

    async def _count_left(self) -> int:
        counts = await self._repository.count_by_key_id()
        return sum(count for key_id, count in counts.items() if key_id != self._primary)
