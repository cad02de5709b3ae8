"""Deepgram (speech)."""
