"""Cartesia: speech-to-text and text-to-speech (Sonic, Ink)."""
