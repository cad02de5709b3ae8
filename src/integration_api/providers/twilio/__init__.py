"""Twilio: account credentials, verification, webhooks and call control."""
