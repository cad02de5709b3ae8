"""Logs and the redaction that keeps secrets out of them."""
