"""Anthropic: the Messages API (chat) and the credential check."""
