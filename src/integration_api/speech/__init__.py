"""Streaming speech through stored credentials: speech-to-text and text-to-speech."""
