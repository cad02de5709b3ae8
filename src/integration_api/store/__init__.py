"""Persistence: asyncpg repositories, SQL migrations and the embedded PostgreSQL."""
