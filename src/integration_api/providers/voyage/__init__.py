"""Voyage AI."""
