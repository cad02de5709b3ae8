"""Between the generated speech messages and the speech contract: the only code knowing both."""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator

import betterproto2
from integration_api_proto.integration import v1 as pb

from integration_api.errors import InvalidArgument
from integration_api.request_caps import (
    MAX_KEYTERM_CHARACTERS,
    MAX_KEYTERMS,
    MAX_KEYTERMS_TOTAL_CHARACTERS,
    MAX_LANGUAGE_CHARACTERS,
    MAX_MODEL_CHARACTERS,
    MAX_VOICE_CHARACTERS,
    cap_text,
    cap_texts,
)
from integration_api.speech.contract import (
    Alignment,
    AlignmentUnit,
    AudioChunk,
    AudioEncoding,
    AudioFormat,
    AudioInput,
    Cleared,
    ClearInput,
    FinalizeInput,
    Flushed,
    FlushInput,
    SpeechStarted,
    SynthesisDone,
    SynthesisEvent,
    SynthesisInput,
    SynthesisOptions,
    TextInput,
    TranscribeInput,
    Transcript,
    TranscriptEvent,
    TranscriptionMetadata,
    TranscriptionOptions,
    UtteranceEnd,
    Word,
)

_ENCODINGS = {
    pb.AudioEncoding.LINEAR16: AudioEncoding.LINEAR16,
    pb.AudioEncoding.MULAW: AudioEncoding.MULAW,
    pb.AudioEncoding.ALAW: AudioEncoding.ALAW,
    pb.AudioEncoding.OPUS: AudioEncoding.OPUS,
    pb.AudioEncoding.MP3: AudioEncoding.MP3,
}
_UNITS = {
    AlignmentUnit.CHARACTER: pb.AlignmentUnit.CHARACTER,
    AlignmentUnit.WORD: pb.AlignmentUnit.WORD,
}


def _duration(seconds: float) -> datetime.timedelta:
    return datetime.timedelta(seconds=max(0.0, seconds))


def audio_format(message: pb.AudioFormat | None) -> AudioFormat:
    if message is None:
        raise InvalidArgument.for_field("config.audio", "is required")
    encoding = _ENCODINGS.get(message.encoding)
    if encoding is None:
        raise InvalidArgument.for_field("config.audio.encoding", "is required")
    if message.sample_rate_hz == 0:
        raise InvalidArgument.for_field("config.audio.sample_rate_hz", "is required")
    return AudioFormat(encoding, message.sample_rate_hz)


def _one_of_credential_or_route(credential_id: str, route_id: str) -> None:
    """A call names a stored credential or a stored route: exactly one of the two."""
    if credential_id.strip() and route_id.strip():
        raise InvalidArgument.for_field(
            "config.route_id", "set either credential_id or route_id, not both"
        )
    if not credential_id.strip() and not route_id.strip():
        raise InvalidArgument.for_field("config.credential_id", "is required (or route_id)")


def transcription_options(config: pb.TranscriptionConfig) -> TranscriptionOptions:
    _one_of_credential_or_route(config.credential_id, config.route_id)
    cap_texts(
        "config.keyterms",
        config.keyterms,
        count=MAX_KEYTERMS,
        each=MAX_KEYTERM_CHARACTERS,
        total=MAX_KEYTERMS_TOTAL_CHARACTERS,
    )
    endpointing = config.endpointing.total_seconds() if config.endpointing is not None else None
    return TranscriptionOptions(
        credential_id=config.credential_id,
        model=cap_text("config.model", config.model.strip(), MAX_MODEL_CHARACTERS),
        language=cap_text("config.language", config.language.strip(), MAX_LANGUAGE_CHARACTERS),
        audio=audio_format(config.audio),
        interim_results=config.interim_results,
        endpointing_seconds=endpointing,
        keyterms=tuple(term for term in config.keyterms if term.strip()),
        diarize=config.diarize,
        punctuate=config.punctuate,
        route_id=config.route_id.strip(),
    )


def synthesis_options(config: pb.SynthesisConfig | None) -> SynthesisOptions:
    if config is None:
        raise InvalidArgument.for_field("config", "is required")
    _one_of_credential_or_route(config.credential_id, config.route_id)
    return SynthesisOptions(
        credential_id=config.credential_id,
        model=cap_text("config.model", config.model.strip(), MAX_MODEL_CHARACTERS),
        voice=cap_text("config.voice", config.voice.strip(), MAX_VOICE_CHARACTERS),
        audio=audio_format(config.audio),
        language=cap_text("config.language", config.language.strip(), MAX_LANGUAGE_CHARACTERS),
        route_id=config.route_id.strip(),
    )


def _config_again() -> InvalidArgument:
    return InvalidArgument.for_field("config", "only the first request may carry it")


async def transcribe_inputs(
    requests: AsyncIterator[pb.TranscribeRequest],
) -> AsyncIterator[TranscribeInput]:
    async for request in requests:
        kind, _ = betterproto2.which_one_of(request, "kind")
        if kind == "audio":
            yield AudioInput(request.audio or b"")
        elif kind == "finalize":
            yield FinalizeInput()
        elif kind == "config":
            raise _config_again()


async def synthesis_inputs(
    requests: AsyncIterator[pb.SynthesizeStreamRequest],
) -> AsyncIterator[SynthesisInput]:
    async for request in requests:
        kind, _ = betterproto2.which_one_of(request, "kind")
        if kind == "text":
            yield TextInput(request.text or "")
        elif kind == "flush":
            yield FlushInput()
        elif kind == "clear":
            yield ClearInput()
        elif kind == "config":
            raise _config_again()


def _word(word: Word) -> pb.Word:
    return pb.Word(
        text=word.text,
        start=_duration(word.start),
        end=_duration(word.end),
        confidence=word.confidence,
        speaker=word.speaker,
    )


def transcribe_response(event: TranscriptEvent) -> pb.TranscribeResponse:
    if isinstance(event, Transcript):
        return pb.TranscribeResponse(
            transcript=pb.Transcript(
                text=event.text,
                is_final=event.is_final,
                end_of_utterance=event.end_of_utterance,
                start=_duration(event.start),
                end=_duration(event.end),
                confidence=event.confidence,
                words=[_word(word) for word in event.words],
                language=event.language,
            )
        )
    if isinstance(event, SpeechStarted):
        return pb.TranscribeResponse(speech_started=pb.SpeechStarted(at=_duration(event.at)))
    if isinstance(event, UtteranceEnd):
        ended = pb.UtteranceEnd(last_word_end=_duration(event.last_word_end))
        return pb.TranscribeResponse(utterance_end=ended)
    return pb.TranscribeResponse(metadata=_metadata(event))


def _metadata(event: TranscriptionMetadata) -> pb.TranscriptionMetadata:
    duration = _duration(event.audio_duration) if event.audio_duration is not None else None
    return pb.TranscriptionMetadata(
        provider=event.provider,
        provider_request_id=event.provider_request_id,
        audio_duration=duration,
        audio_bytes=event.audio_bytes,
    )


def _alignment(event: Alignment) -> pb.Alignment:
    return pb.Alignment(
        unit=_UNITS[event.unit],
        items=[
            pb.AlignedText(text=item.text, start=_duration(item.start), end=_duration(item.end))
            for item in event.items
        ],
    )


def _done(event: SynthesisDone) -> pb.SynthesisDone:
    first = event.time_to_first_audio
    return pb.SynthesisDone(
        provider=event.provider,
        provider_request_id=event.provider_request_id,
        characters=event.characters,
        audio_bytes=event.audio_bytes,
        time_to_first_audio=_duration(first) if first is not None else None,
        duration=_duration(event.duration) if event.duration is not None else None,
    )


def synthesize_response(event: SynthesisEvent) -> pb.SynthesizeResponse:
    if isinstance(event, AudioChunk):
        return pb.SynthesizeResponse(audio=pb.AudioChunk(data=event.data))
    if isinstance(event, Alignment):
        return pb.SynthesizeResponse(alignment=_alignment(event))
    if isinstance(event, SynthesisDone):
        return pb.SynthesizeResponse(done=_done(event))
    raise AssertionError(f"no Synthesize message for {type(event).__name__}")


def _varint(value: int) -> bytes:
    encoded = bytearray()
    while value > 0x7F:
        encoded.append(value & 0x7F | 0x80)
        value >>= 7
    encoded.append(value)
    return bytes(encoded)


# `audio` is field 1 of both SynthesizeResponse and SynthesizeStreamResponse, and `data` field 1
# of AudioChunk, all length-delimited: this tag starts each.
_FIELD_1_BYTES = b"\x0a"


def encoded_audio(event: SynthesisEvent) -> bytes | None:
    """An audio chunk's SynthesizeResponse, or SynthesizeStreamResponse, already encoded (None
    for any other event, or empty audio: those go through the generated messages).

    The bytes are those betterproto2 writes for `audio=AudioChunk(data=...)`, in one copy of the
    audio: its generic field walk costs about 60 µs a 3,200-byte chunk, this about 1 µs, and a
    synthesis is mostly audio chunks. grpc passes bytes through the response serializer as they
    are (`SerializeToString` is `bytes(message)`).
    """
    if type(event) is not AudioChunk or not event.data:
        return None
    data = event.data
    length = _varint(len(data))
    return b"".join(
        (_FIELD_1_BYTES, _varint(1 + len(length) + len(data)), _FIELD_1_BYTES, length, data)
    )


def synthesize_stream_response(event: SynthesisEvent) -> pb.SynthesizeStreamResponse:
    if isinstance(event, AudioChunk):
        return pb.SynthesizeStreamResponse(audio=pb.AudioChunk(data=event.data))
    if isinstance(event, Alignment):
        return pb.SynthesizeStreamResponse(alignment=_alignment(event))
    if isinstance(event, Flushed):
        return pb.SynthesizeStreamResponse(flushed=pb.Flushed())
    if isinstance(event, Cleared):
        return pb.SynthesizeStreamResponse(cleared=pb.Cleared())
    return pb.SynthesizeStreamResponse(done=_done(event))
