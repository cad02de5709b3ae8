-- Routes: a tenant's named, ordered list of targets (each one of the tenant's credentials and
-- the model or voice to use with it) and a policy for choosing among them.

CREATE TABLE routes (
    id                   uuid PRIMARY KEY,
    organization_id      text NOT NULL,
    project_id           text NOT NULL,
    name                 text NOT NULL,
    policy               text NOT NULL CHECK (policy IN ('failover', 'balance')),
    -- [{"credential_id": uuid text, "model": text, "weight": int, "voice": text}, ...]; the
    -- targets are read and written whole, always with their route, so they live in its row.
    targets              jsonb NOT NULL
                         CHECK (jsonb_typeof(targets) = 'array'
                                AND jsonb_array_length(targets) BETWEEN 1 AND 8),
    first_token_timeout  interval CHECK (first_token_timeout > interval '0'),
    created_at           timestamptz NOT NULL DEFAULT now(),
    created_by           text NOT NULL,
    updated_at           timestamptz NOT NULL DEFAULT now(),
    version              bigint NOT NULL DEFAULT 1 CHECK (version >= 1),
    CONSTRAINT routes_name_per_tenant UNIQUE (organization_id, project_id, name)
);

-- ListRoutes walks a tenant's routes by name (the unique constraint's index serves it); a
-- route's id breaks no ties there, so the keyset is the name alone.
