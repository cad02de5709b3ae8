"""Audio chunks for the caller cut at sample boundaries.

A provider's frames need not end on a sample: a 16-bit PCM stream split after an odd number of
bytes would hand the caller half a sample, and a player that plays each chunk as it comes
would shift every later sample by a byte (loud noise). The odd byte is held back and put in
front of the next chunk, so every `AudioChunk` the caller gets holds whole samples. A clear
drops the byte with the audio it belonged to; a byte still held when the synthesis ends is
half a sample that cannot be played, and is dropped. Chunks that already end on a sample pass
through untouched (one length check), so the per-chunk path costs nothing more.
"""

from __future__ import annotations

from integration_api.speech.contract import (
    AudioChunk,
    AudioFormat,
    Cleared,
    SynthesisEvent,
)


class WholeSamples:
    """Holds back the bytes of an unfinished sample until the next chunk completes it."""

    __slots__ = ("_held", "_width")

    def __init__(self, width: int) -> None:
        self._width = width
        self._held = b""

    @classmethod
    def of(cls, audio: AudioFormat) -> WholeSamples | None:
        """The cutter for `audio`, or None when any byte boundary is a sample boundary."""
        width = audio.encoding.bytes_per_sample
        return cls(width) if width is not None and width > 1 else None

    def cut(self, event: SynthesisEvent) -> SynthesisEvent | None:
        """`event`, with an audio chunk cut to whole samples (None when none is complete)."""
        if isinstance(event, AudioChunk):
            data = event.data
            if self._held:
                data = self._held + data
                self._held = b""
            rest = len(data) % self._width
            if rest:
                self._held = data[-rest:]
                data = data[:-rest]
            if data is event.data:
                return event
            return AudioChunk(data) if data else None
        if isinstance(event, Cleared):
            self._held = b""
        return event
