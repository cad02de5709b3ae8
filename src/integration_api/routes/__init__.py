"""Routes: a tenant's named, ordered targets and the failover among them."""
