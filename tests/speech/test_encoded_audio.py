"""Audio chunks leave the service already encoded: the bytes must be the generated messages'."""

from __future__ import annotations

import pytest
from integration_api_proto.integration import v1 as pb

from integration_api.speech.contract import AudioChunk, Flushed, SynthesisDone
from integration_api.speech.converters import encoded_audio


@pytest.mark.parametrize("size", [1, 2, 125, 126, 127, 128, 3200, 16381, 16384, 2**21 + 3])
def test_an_audio_chunk_encodes_as_both_generated_responses_do(size: int) -> None:
    data = bytes(index % 251 for index in range(size))
    encoded = encoded_audio(AudioChunk(data))
    assert encoded == bytes(pb.SynthesizeResponse(audio=pb.AudioChunk(data=data)))
    assert encoded == bytes(pb.SynthesizeStreamResponse(audio=pb.AudioChunk(data=data)))
    assert pb.SynthesizeResponse.parse(encoded).audio == pb.AudioChunk(data=data)


def test_other_events_and_empty_audio_go_through_the_generated_messages() -> None:
    assert encoded_audio(AudioChunk(b"")) is None
    assert encoded_audio(Flushed()) is None
    assert encoded_audio(SynthesisDone("some-provider", "request")) is None


def test_the_response_serializer_passes_encoded_bytes_as_they_are() -> None:
    # The servicer yields these bytes where a message is expected; the generated serializer,
    # `SerializeToString`, is `bytes(message)`, which leaves bytes unchanged.
    encoded = encoded_audio(AudioChunk(b"\x01\x02"))
    assert encoded is not None
    assert pb.SynthesizeResponse.SerializeToString(encoded) == encoded  # type: ignore[arg-type]
    assert pb.SynthesizeStreamResponse.SerializeToString(encoded) == encoded  # type: ignore[arg-type]
