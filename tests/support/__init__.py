"""Test support: real PostgreSQL databases, Redis, servers on loopback."""
