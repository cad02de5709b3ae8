"""Vonage: account credentials, verification, webhooks and call control."""
