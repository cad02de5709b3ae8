"""Telephony through stored credentials: inbound webhooks checked, calls placed and controlled."""
