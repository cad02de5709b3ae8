"""Exotel: account credentials, verification and call control."""
