"""Credential lifecycle: create, verify, rotate, disable, resolve for use."""
