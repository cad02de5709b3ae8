"""The cutter that keeps linear16 chunks on sample boundaries, alone."""

from __future__ import annotations

from integration_api.speech.contract import (
    AudioChunk,
    AudioEncoding,
    AudioFormat,
    Cleared,
    Flushed,
)
from integration_api.speech.whole_samples import WholeSamples

LINEAR16 = AudioFormat(AudioEncoding.LINEAR16, 16000)


def test_an_odd_byte_is_carried_to_the_next_chunk() -> None:
    samples = WholeSamples.of(LINEAR16)
    assert samples is not None
    assert samples.cut(AudioChunk(b"abc")) == AudioChunk(b"ab")
    assert samples.cut(AudioChunk(b"d")) == AudioChunk(b"cd")
    assert samples.cut(AudioChunk(b"e")) is None, "half a sample alone is held"
    assert samples.cut(Flushed()) == Flushed()
    assert samples.cut(AudioChunk(b"fgh")) == AudioChunk(b"efgh")


def test_an_even_chunk_passes_untouched() -> None:
    samples = WholeSamples.of(LINEAR16)
    assert samples is not None
    chunk = AudioChunk(b"abcd")
    assert samples.cut(chunk) is chunk


def test_a_clear_drops_the_held_byte_with_its_audio() -> None:
    samples = WholeSamples.of(LINEAR16)
    assert samples is not None
    samples.cut(AudioChunk(b"abc"))
    assert samples.cut(Cleared()) == Cleared()
    assert samples.cut(AudioChunk(b"xy")) == AudioChunk(b"xy")


def test_byte_wide_and_compressed_audio_is_not_cut() -> None:
    for encoding in (AudioEncoding.MULAW, AudioEncoding.ALAW, AudioEncoding.MP3):
        assert WholeSamples.of(AudioFormat(encoding, 8000)) is None
