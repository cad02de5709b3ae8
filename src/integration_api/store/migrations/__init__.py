"""Numbered SQL migrations, applied in order by `integration_api.store.migrate`."""
