"""Bounds of speech sessions (read from the environment by `loaders`, see the README's table).

Attributes:
    max_frame_bytes: one WebSocket frame a provider may send.
    max_audio_bytes: audio one session may move (sent for transcription, received from synthesis).
    max_sessions_per_tenant: speech sessions one tenant may have open at once, fleet-wide with
        Redis (`llm.tenant_calls`), else a share per process.
    max_text_characters: text one synthesis may send to its provider.
    keepalive_seconds: caller silence after which a provider session gets its keep-alive
        (below every provider's idle limit: Deepgram 10 s, ElevenLabs 20 s).
    max_session_seconds: the longest a session may last, from its configuration to its end.
    max_caller_idle_seconds: the longest a caller may send nothing (no audio, text or
        control; the keep-alives sent upstream meanwhile do not count) before its session ends.
"""

from __future__ import annotations

from dataclasses import dataclass

_MIB = 1024 * 1024


@dataclass(frozen=True)
class SpeechLimits:
    max_frame_bytes: int = 1 * _MIB
    max_audio_bytes: int = 256 * _MIB
    max_sessions_per_tenant: int = 64
    max_text_characters: int = 100_000
    keepalive_seconds: float = 4.0
    max_session_seconds: float = 3600.0
    max_caller_idle_seconds: float = 60.0


DEFAULT_SPEECH_LIMITS = SpeechLimits()
