"""Nonce uniqueness at volume, and correctness when many threads and tasks share one vault."""

from __future__ import annotations

import asyncio
import random
from concurrent.futures import ThreadPoolExecutor

from integration_api.vault import (
    AssociatedData,
    DecryptionError,
    Envelope,
    Keyring,
    UnknownKeyError,
    key_id,
)

FIRST = bytes(range(32))
SECOND = bytes(range(32, 64))
AAD = AssociatedData("org-1", "project-1", "cred-1", "gemini")
NONCE = slice(12, 24)


def test_100000_encryptions_use_100000_distinct_nonces() -> None:
    envelope = Envelope(Keyring(FIRST))
    ciphertexts = [envelope.encrypt(b"same plaintext", AAD) for _ in range(100_000)]
    assert len({ciphertext[NONCE] for ciphertext in ciphertexts}) == 100_000
    assert len(set(ciphertexts)) == 100_000


def exercise(envelope: Envelope, worker: int, operations: int) -> list[str]:
    """Random encrypt/decrypt/rewrap on one shared envelope; returns what went wrong."""
    chooser = random.Random(worker)
    problems = []
    held: list[tuple[bytes, bytes, AssociatedData]] = []
    for step in range(operations):
        aad = AssociatedData("org-1", f"project-{worker}", f"cred-{step}", "openai")
        plaintext = f"secret-{worker}-{step}".encode() * chooser.randint(1, 8)
        action = chooser.choice(("encrypt", "decrypt", "rewrap")) if held else "encrypt"
        if action == "encrypt":
            held.append((plaintext, envelope.encrypt(plaintext, aad), aad))
            continue
        index = chooser.randrange(len(held))
        expected, ciphertext, bound = held[index]
        if action == "rewrap":
            ciphertext = envelope.rewrap(ciphertext, bound)
            held[index] = (expected, ciphertext, bound)
        if envelope.decrypt(ciphertext, bound) != expected:
            problems.append(f"worker {worker} step {step}: wrong plaintext")
    return problems


def test_threads_sharing_one_envelope_always_round_trip() -> None:
    envelope = Envelope(Keyring(FIRST, [SECOND]))
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(lambda worker: exercise(envelope, worker, 400), range(32)))
    assert [problem for problems in results for problem in problems] == []


async def test_tasks_sharing_a_vault_through_a_key_rotation_stay_correct() -> None:
    """Tasks keep working while the process switches keyrings; only a retired key may fail."""
    old = Envelope(Keyring(FIRST))
    promoted = Envelope(Keyring(SECOND, [FIRST]))
    retired = Envelope(Keyring(SECOND))
    current = {"envelope": old}
    problems: list[str] = []
    written_under: set[str] = set()

    async def worker(number: int) -> None:
        chooser = random.Random(number)
        for step in range(60):
            aad = AssociatedData("org-1", "project-1", f"cred-{number}-{step}", "openai")
            plaintext = f"sk-{number}-{step}".encode()
            ciphertext = await asyncio.to_thread(current["envelope"].encrypt, plaintext, aad)
            await asyncio.sleep(0)
            if chooser.random() < 0.5:
                ciphertext = await asyncio.to_thread(current["envelope"].rewrap, ciphertext, aad)
            written_under.add(old.key_id_of(ciphertext))
            for reader in (old, promoted, retired):
                problems.extend(check_read(reader, ciphertext, aad, plaintext))

    async def rotate() -> None:
        await asyncio.sleep(0.01)
        current["envelope"] = promoted

    await asyncio.gather(rotate(), *(worker(number) for number in range(40)))
    assert problems == []
    assert written_under == {key_id(FIRST), key_id(SECOND)}


def check_read(
    reader: Envelope, ciphertext: bytes, aad: AssociatedData, plaintext: bytes
) -> list[str]:
    holds_key = reader.keyring.has(reader.key_id_of(ciphertext))
    try:
        decrypted = reader.decrypt(ciphertext, aad)
    except UnknownKeyError as missing:
        if holds_key or missing.key_id != reader.key_id_of(ciphertext):
            return ["unknown-key error for a key that is held or not named"]
        return []
    except DecryptionError:
        return ["decryption failed although the key is held"]
    return [] if decrypted == plaintext else ["wrong plaintext"]
