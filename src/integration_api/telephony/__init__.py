"""Telephony through stored accounts: webhook verdicts and call control."""
