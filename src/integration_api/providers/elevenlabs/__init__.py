"""ElevenLabs (speech)."""
